/** The embedded default upstream: one protobuf-JSON AnalyticsStat per line, to a file or stdout. */
import { mkdir, open as openForReading, rename, rm, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { AnalyticsStat } from '../core/analytics.js';
import { encodeNdjsonLineInto } from '../wire/ndjson-encoder.js';
import { errorCode, openFile as defaultOpenFile, writeAll, type OpenFile, type WritableFile } from './durable-file.js';
import { SinkError, type Batch, type Sink } from './sink.js';

/** Lines are small; this only bounds a single write. */
const MAX_BATCH_BYTES = 64 * 1024 * 1024;
const NEWLINE = 0x0a;

export const DEFAULT_FILE_MAX_BYTES = 64 * 1024 * 1024;
export const DEFAULT_FILE_MAX_FILES = 3;

export interface NdjsonFileOptions {
  /** A batch that would take the file past this size goes to a new file; in bytes, default 64 MiB. */
  maxBytes?: number;
  /** Rotated files kept (`PATH.1` newest to `PATH.N` oldest); default 3. */
  maxFiles?: number;
  /** Called with the stat count of the oldest rotated file as it is removed. */
  rotatedAway?: (stats: number) => void;
  openFile?: OpenFile;
}

/**
 * Appends each batch and fsyncs it before acknowledging it. A batch is
 * written whole or not at all: after a failed or short write the file is
 * truncated back to its last complete batch and the send fails (retried).
 * Files rotate by size on batch boundaries, so every file holds whole lines.
 */
export class NdjsonFileSink implements Sink {
  readonly description: string;
  readonly maxBatchBytes: number;
  readonly format = 'ndjson';
  private readonly maxBytes: number;
  private readonly maxFiles: number;
  private readonly open: OpenFile;
  private file: WritableFile | undefined;
  /** Bytes and lines of the current file that are whole and synced; undefined until the file is first opened. */
  private good: { bytes: number; lines: number } | undefined;
  /** Stat counts of the rotated files by suffix; undefined: found at start and not counted yet. */
  private readonly rotated: (number | undefined)[] = [];
  /** The current file being opened, so that prepare() and a send open it once. */
  private opening: Promise<WritableFile> | undefined;
  /** prepare() under way or done: a rotation waits for it, as it moves the files prepare() counts. */
  private prepared: Promise<void> | undefined;

  constructor(
    private readonly path: string,
    private readonly options: NdjsonFileOptions = {},
  ) {
    this.description = `file:${path}`;
    this.maxBytes = options.maxBytes ?? DEFAULT_FILE_MAX_BYTES;
    this.maxFiles = options.maxFiles ?? DEFAULT_FILE_MAX_FILES;
    this.maxBatchBytes = Math.min(MAX_BATCH_BYTES, this.maxBytes);
    this.open = options.openFile ?? defaultOpenFile;
  }

  encodeInto(stat: AnalyticsStat, into: Buffer, at: number): number {
    return encodeNdjsonLineInto(stat, into, at);
  }

  async send(batch: Batch): Promise<void> {
    const data = batch.payloads.length === 1 ? batch.payloads[0]! : Buffer.concat(batch.payloads);
    try {
      let file = await this.current();
      const good = this.good!;
      if (good.bytes > 0 && good.bytes + data.length > this.maxBytes) {
        await this.rotate();
        file = await this.current();
      }
      try {
        await writeAll(file, data);
        await file.datasync();
      } catch (err) {
        await this.rollback(file);
        throw err;
      }
      this.good!.bytes += data.length;
      this.good!.lines += batch.count;
    } catch (err) {
      // the file may be fine again later (disk freed, volume remounted): retry, bounded by the queue
      throw SinkError.transient(`writing ${this.path}: ${(err as Error).message}`, 'file_error');
    }
  }

  /**
   * Opens the file (cutting a torn last line) and counts the stats of the
   * rotated files found there. Started at start-up and not awaited: done in
   * the middle of a flush, reading up to max_files × max_bytes stalled it
   * (bench/README.md, "files counted without garbage").
   */
  prepare(): Promise<void> {
    return (this.prepared ??= (async () => {
      await this.current();
      for (let i = 1; i <= this.maxFiles; i++) {
        this.rotated[i] ??= (await scanLines(`${this.path}.${i}`)).lines;
      }
    })());
  }

  async close(): Promise<void> {
    const file = this.file;
    this.file = undefined;
    await file?.close();
  }

  /** The open current file, trimmed to its last whole line (first open) or its last good batch (reopen). */
  private current(): Promise<WritableFile> {
    if (this.file) return Promise.resolve(this.file);
    return (this.opening ??= this.openCurrent().finally(() => (this.opening = undefined)));
  }

  private async openCurrent(): Promise<WritableFile> {
    await mkdir(dirname(this.path), { recursive: true });
    const file = await this.open(this.path, 'a');
    try {
      const { size } = await file.stat();
      if (!this.good || size < this.good.bytes) {
        // first open, or the file was replaced: a torn last line (a crash mid-write) is cut off
        const scan = await scanLines(this.path);
        if (scan.complete < size) await file.truncate(scan.complete);
        this.good = { bytes: scan.complete, lines: scan.lines };
      } else if (size > this.good.bytes) {
        await file.truncate(this.good.bytes);
      }
    } catch (err) {
      await file.close().catch(() => undefined);
      throw err;
    }
    this.file = file;
    return file;
  }

  /** Cuts a failed write off; if even that fails, the file is reopened (and cut) before the next write. */
  private async rollback(file: WritableFile): Promise<void> {
    try {
      await file.truncate(this.good!.bytes);
    } catch {
      this.file = undefined;
      await file.close().catch(() => undefined);
    }
  }

  /** PATH becomes PATH.1, PATH.1 becomes PATH.2...; the oldest is removed and its stats reported. */
  private async rotate(): Promise<void> {
    // a failed prepare() leaves its counts undefined: those files are counted here, as they are removed
    await this.prepared?.catch(() => undefined);
    await this.close();
    const name = (i: number) => `${this.path}.${i}`;
    const oldest = this.rotated[this.maxFiles] ?? (await scanLines(name(this.maxFiles))).lines;
    await rm(name(this.maxFiles), { force: true });
    if (oldest > 0) this.options.rotatedAway?.(oldest);
    for (let i = this.maxFiles - 1; i >= 1; i--) {
      const moved = await rename(name(i), name(i + 1)).then(
        () => true,
        (err: unknown) => ignoreMissing(err) ?? false,
      );
      this.rotated[i + 1] = moved ? this.rotated[i] : 0;
    }
    await rename(this.path, name(1));
    this.rotated[1] = this.good!.lines;
    this.good = { bytes: 0, lines: 0 };
  }
}

function ignoreMissing(err: unknown): undefined {
  if (errorCode(err) === 'ENOENT') return undefined;
  throw err;
}

/**
 * Bytes a scan reads at a time, into one buffer used again for every read:
 * reading a 64 MiB file as a stream of fresh 1 MiB chunks made 64 MiB of
 * garbage at once, and the full collections it set off stalled the flush
 * that rotated (bench/README.md, "files counted without garbage").
 */
const SCAN_CHUNK_BYTES = 256 * 1024;

/** Lines in a file, and the bytes up to and including its last newline; a missing file has none. */
async function scanLines(path: string): Promise<{ lines: number; complete: number }> {
  let handle: FileHandle;
  try {
    handle = await openForReading(path, 'r');
  } catch (err) {
    ignoreMissing(err);
    return { lines: 0, complete: 0 };
  }
  try {
    const buffer = Buffer.allocUnsafe(SCAN_CHUNK_BYTES);
    let lines = 0;
    let complete = 0;
    for (let offset = 0; ;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, offset);
      if (bytesRead === 0) return { lines, complete };
      const chunk = buffer.subarray(0, bytesRead);
      for (let at = chunk.indexOf(NEWLINE); at !== -1; at = chunk.indexOf(NEWLINE, at + 1)) {
        lines++;
        complete = offset + at + 1;
      }
      offset += bytesRead;
    }
  } finally {
    await handle.close();
  }
}

export class StdoutSink implements Sink {
  readonly description = 'stdout:';
  readonly maxBatchBytes = MAX_BATCH_BYTES;
  readonly format = 'ndjson';

  constructor(private readonly out: NodeJS.WritableStream = process.stdout) {
    // A failed write reaches send()'s callback, which fails the batch (it is
    // retried). The stream emits the error as well: unheard, a reader gone
    // away (EPIPE) would end the process and every stat it held.
    out.on('error', () => undefined);
  }

  encodeInto(stat: AnalyticsStat, into: Buffer, at: number): number {
    return encodeNdjsonLineInto(stat, into, at);
  }

  send(batch: Batch): Promise<void> {
    return new Promise((resolve, reject) => {
      this.out.write(Buffer.concat(batch.payloads), (err) =>
        err ? reject(SinkError.transient(`writing stdout: ${err.message}`, 'stdout_error')) : resolve(),
      );
    });
  }

  async close(): Promise<void> {}
}
