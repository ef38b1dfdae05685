/**
 * The optional on-disk spool (SIDECAR_SPOOL_DIR): every batch is written here
 * before it may be sent and removed once acknowledged, so batches survive a
 * crash, a SIGKILL or an upstream that stays down past the shutdown timeout.
 * One file per batch, named `<sequence>-<stat count>.batch`: written under a
 * temporary name, fsynced and renamed, so a record is complete or absent; the
 * count in the name still tells what was lost if the file itself is damaged.
 * Also here: `quarantine/` (poison batches moved aside, bounded) and a small
 * state file carrying the stats the previous run lost at shutdown.
 * See docs/delivery.md.
 */
import { lstat, mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Batch } from './sink.js';
import { errorCode, openFile as defaultOpenFile, syncDirectory, writeAll, type OpenFile } from './durable-file.js';
import { countOf, decodeRecord, encodeHeader, HEADER_BYTES } from './spool-record.js';
import type { DropReason } from '../observe/drop-reasons.js';

const SUFFIX = '.batch';
const TMP = '.tmp';
const RECORD_NAME = /^(\d{16})(?:-(\d+))?\.batch(?:\.tmp)?$/;
const QUARANTINE_DIR = 'quarantine';
const SHUTDOWN_LOSSES_FILE = 'shutdown-losses';
/** The state file is rewritten in place at this fixed size, so recording a loss needs no new disk space. */
const STATE_BYTES = 64;
/** Filesystems allocate whole blocks (4 KiB on ext4, xfs and tmpfs): what a record really occupies. */
const BLOCK_BYTES = 4096;

/** Drop reasons of records found at start. */
export type SpoolDropReason = Extract<DropReason, 'spool_corrupt' | 'spool_sink_changed' | 'queue_full'>;

export interface SpooledBatch extends Batch {
  file: string;
}

export interface SpoolOpenOptions {
  /** The sink's format: records of another format are not replayed. */
  format: string;
  /** Gives intact records of the old format, which had no id, a new one. */
  newId: () => string;
  /** Quarantined records kept at most, in bytes on disk. */
  quarantineMaxBytes: number;
  /** The queue bound: only the newest records within it are read at start; default none. */
  maxBytes?: number;
  openFile?: OpenFile;
}

export interface SpoolOpenResult {
  spool: Spool;
  /** Intact batches from an earlier run, oldest first. */
  restored: SpooledBatch[];
  /** Stats of records that cannot be replayed, by reason; the records are deleted. */
  dropped: Record<SpoolDropReason, { records: number; stats: number }>;
  /** Records whose stat count could not be recovered (deleted too). */
  unreadable: number;
  /** Why records were dropped or unreadable, a few examples for the log. */
  examples: { file: string; why: string }[];
  /** Entries named like records that are not files we wrote (e.g. a directory): left alone. */
  foreign: string[];
  /** Stats the previous run lost at shutdown (from the state file), to be counted now. */
  shutdownLosses: number;
  /** Set when the directory is usable but out of space: writes will fail until space returns. */
  noSpace?: string;
}

/** The spool directory cannot be used at all (missing permission, read-only, not a directory). */
export class SpoolDirError extends Error {}

/** Bytes a record of `bytes` payload bytes occupies on disk. */
export function recordFootprint(bytes: number): number {
  return Math.ceil((HEADER_BYTES + bytes) / BLOCK_BYTES) * BLOCK_BYTES;
}

export class Spool {
  private seq: number;
  private readonly quarantineDir: string;
  private readonly dirSync: CoalescedSync;

  private constructor(
    readonly dir: string,
    private readonly options: SpoolOpenOptions,
    nextSeq: number,
    /** Quarantined records, oldest first, with their size on disk. */
    private readonly quarantined: { path: string; bytes: number }[],
  ) {
    this.seq = nextSeq;
    this.quarantineDir = join(dir, QUARANTINE_DIR);
    this.dirSync = new CoalescedSync(dir);
  }

  static async open(dir: string, options: SpoolOpenOptions): Promise<SpoolOpenResult> {
    const quarantineDir = join(dir, QUARANTINE_DIR);
    for (const [path, recursive] of [
      [dir, true],
      // not recursive: a recursive mkdir reports ENOENT rather than EROFS on a read-only mount
      [quarantineDir, false],
    ] as const) {
      try {
        await mkdir(path, { recursive });
      } catch (err) {
        if (errorCode(err) !== 'EEXIST') throw new SpoolDirError(`cannot create ${path}: ${(err as Error).message}`);
      }
    }
    const noSpace = await probe(dir, options.openFile ?? defaultOpenFile);
    const shutdownLosses = await takeShutdownLosses(dir, options.openFile ?? defaultOpenFile);

    const result: Omit<SpoolOpenResult, 'spool'> = {
      restored: [],
      dropped: {
        spool_corrupt: { records: 0, stats: 0 },
        spool_sink_changed: { records: 0, stats: 0 },
        queue_full: { records: 0, stats: 0 },
      },
      unreadable: 0,
      examples: [],
      foreign: [],
      shutdownLosses,
    };
    if (noSpace) result.noSpace = noSpace;
    let maxSeq = 0;
    const quarantined: { path: string; bytes: number }[] = [];
    for (const name of (await readdir(quarantineDir)).sort()) {
      const path = join(quarantineDir, name);
      const info = await lstat(path);
      if (!info.isFile()) continue;
      maxSeq = Math.max(maxSeq, sequenceOf(name));
      quarantined.push({ path, bytes: info.blocks * 512 });
    }
    const files: { name: string; path: string; size: number }[] = [];
    for (const name of (await readdir(dir)).sort()) {
      if (!name.endsWith(SUFFIX) && !name.endsWith(SUFFIX + TMP)) continue;
      const path = join(dir, name);
      maxSeq = Math.max(maxSeq, sequenceOf(name));
      const info = await lstat(path);
      if (info.isFile()) files.push({ name, path, size: info.size });
      else result.foreign.push(path);
    }
    // the newest records within the bound are read; older ones are dropped as the queue bound would, unread
    let overBound = files.length;
    for (let total = 0; overBound > 0; overBound--) {
      total += Math.ceil(files[overBound - 1]!.size / BLOCK_BYTES) * BLOCK_BYTES;
      if (total > (options.maxBytes ?? Infinity)) break;
    }
    for (const [index, { name, path }] of files.entries()) {
      const nameCount = RECORD_NAME.exec(name)?.[2];
      const example = (why: string) => {
        if (result.examples.length < 10) result.examples.push({ file: path, why });
      };
      if (index < overBound) {
        const count = countOf(await readHeader(path)) ?? nameCount;
        if (count === undefined) {
          result.unreadable++;
          example('over the queue bound; stat count unknown');
        } else {
          result.dropped.queue_full.records++;
          result.dropped.queue_full.stats += Number(count);
        }
        await rm(path, { force: true });
        continue;
      }
      const record = decodeRecord(await readFile(path));
      if (record.kind === 'intact' && record.format === options.format) {
        result.restored.push({
          id: record.id ?? options.newId(),
          payloads: [record.body],
          bytes: record.body.length,
          count: record.count,
          file: path,
        });
        continue;
      }
      if (record.kind === 'intact') {
        result.dropped.spool_sink_changed.records++;
        result.dropped.spool_sink_changed.stats += record.count;
        example(`written for the ${record.format} sink`);
      } else if (record.kind === 'corrupt') {
        result.dropped.spool_corrupt.records++;
        result.dropped.spool_corrupt.stats += record.count;
        example(record.why);
      } else if (nameCount !== undefined) {
        // the header is gone but the name, written by the same rename, still has the count
        result.dropped.spool_corrupt.records++;
        result.dropped.spool_corrupt.stats += Number(nameCount);
        example(`${record.why}; count from the file name`);
      } else {
        result.unreadable++;
        example(`${record.why}; stat count unknown`);
      }
      await rm(path, { force: true });
    }
    const spool = new Spool(dir, options, maxSeq + 1, quarantined);
    return { spool, ...result };
  }

  /** Writes the batch durably; resolves with its file once it is safe on disk, or rejects and leaves nothing behind. */
  async write(batch: Batch): Promise<string> {
    const path = join(this.dir, this.nameFor(batch));
    await this.writeRecord(path, batch);
    await this.dirSync.sync();
    return path;
  }

  async remove(file: string): Promise<void> {
    await rm(file, { force: true });
  }

  /**
   * Moves a poison batch into `quarantine/` (its spool file when it has one,
   * else a new record), then deletes the oldest quarantined records past the
   * bound. Resolves with where it is kept, or undefined when the bound left no room for it.
   */
  async quarantine(batch: Batch, file: string | undefined): Promise<string | undefined> {
    const path = join(this.quarantineDir, file ? basename(file) : this.nameFor(batch));
    if (file) await rename(file, path);
    else await this.writeRecord(path, batch);
    this.quarantined.push({ path, bytes: recordFootprint(batch.bytes) });
    let total = this.quarantined.reduce((n, q) => n + q.bytes, 0);
    while (total > this.options.quarantineMaxBytes) {
      const oldest = this.quarantined.shift();
      if (!oldest) break;
      await rm(oldest.path, { force: true });
      total -= oldest.bytes;
    }
    return this.quarantined.some((q) => q.path === path) ? path : undefined;
  }

  /** Records stats lost at shutdown for the next start to count (rewritten in place: works on a full disk). */
  async recordShutdownLosses(stats: number): Promise<void> {
    const path = join(this.dir, SHUTDOWN_LOSSES_FILE);
    await writeState(path, (await readShutdownLosses(path)) + stats, this.options.openFile ?? defaultOpenFile);
  }

  private nameFor(batch: Batch): string {
    return `${String(this.seq++).padStart(16, '0')}-${batch.count}${SUFFIX}`;
  }

  private async writeRecord(path: string, batch: Batch): Promise<void> {
    const tmp = path + TMP;
    const body = batch.payloads.length === 1 ? batch.payloads[0]! : Buffer.concat(batch.payloads);
    const header = encodeHeader({ id: batch.id, format: this.options.format, count: batch.count, body });
    const open = this.options.openFile ?? defaultOpenFile;
    let file;
    try {
      file = await open(tmp, 'w');
      await writeAll(file, header);
      await writeAll(file, body);
      await file.datasync();
      const closing = file;
      file = undefined;
      await closing.close();
      await rename(tmp, path);
    } catch (err) {
      // a short write must never become a record: nothing of it stays behind
      await file?.close().catch(() => undefined);
      await rm(tmp, { force: true }).catch(() => undefined);
      throw err;
    }
  }
}

async function readHeader(path: string): Promise<Buffer> {
  const file = await open(path, 'r');
  try {
    const { buffer, bytesRead } = await file.read(Buffer.alloc(HEADER_BYTES), 0, HEADER_BYTES, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await file.close();
  }
}

function sequenceOf(name: string): number {
  return Number(RECORD_NAME.exec(name)?.[1] ?? 0);
}

/**
 * Writes, syncs and removes a small file. Missing permission, a read-only
 * filesystem or a path that is not a directory throw: the spool's promise
 * would be void. A full disk does not: space may return, and the sidecar
 * should still deliver from memory meanwhile. Returns the no-space message.
 */
async function probe(dir: string, open: OpenFile): Promise<string | undefined> {
  const path = join(dir, `.probe-${process.pid}`);
  try {
    const file = await open(path, 'w');
    try {
      await writeAll(file, Buffer.from('telemetry-sidecar spool probe\n'));
      await file.datasync();
    } finally {
      await file.close();
    }
    await rm(path);
    return undefined;
  } catch (err) {
    await rm(path, { force: true }).catch(() => undefined);
    const code = errorCode(err);
    if (code === 'ENOSPC' || code === 'EDQUOT') return (err as Error).message;
    throw new SpoolDirError(`cannot write to ${dir}: ${(err as Error).message}`);
  }
}

function stateBytes(stats: number): Buffer {
  const json = JSON.stringify({ shutdownLostStats: stats });
  return Buffer.from(json.padEnd(STATE_BYTES - 1, ' ') + '\n');
}

async function readShutdownLosses(path: string): Promise<number> {
  try {
    const parsed = JSON.parse(await readFile(path, 'utf8')) as { shutdownLostStats?: unknown };
    const n = parsed.shutdownLostStats;
    return typeof n === 'number' && Number.isSafeInteger(n) && n > 0 ? n : 0;
  } catch {
    return 0;
  }
}

/** Overwrites the state file in place when it exists, so no new block is needed. */
async function writeState(path: string, stats: number, open: OpenFile): Promise<void> {
  const file = await open(path, 'r+').catch((err: unknown) => {
    if (errorCode(err) === 'ENOENT') return open(path, 'w');
    throw err;
  });
  try {
    await writeAll(file, stateBytes(stats));
    await file.datasync();
  } finally {
    await file.close();
  }
}

/** Reads what the previous run recorded and resets it to zero, allocating the file if it is new. */
async function takeShutdownLosses(dir: string, open: OpenFile): Promise<number> {
  const path = join(dir, SHUTDOWN_LOSSES_FILE);
  const losses = await readShutdownLosses(path);
  // no space for a new state file: a later loss is still logged
  await writeState(path, 0, open).catch(() => undefined);
  return losses;
}

/** One directory fsync covers every rename before it: concurrent writers share one. */
class CoalescedSync {
  private running: Promise<void> | undefined;
  private queued: Promise<void> | undefined;

  constructor(private readonly dir: string) {}

  sync(): Promise<void> {
    if (!this.running) {
      this.running = syncDirectory(this.dir).finally(() => (this.running = undefined));
      return this.running;
    }
    // a sync already running may have started before our rename: wait for the next one
    this.queued ??= this.running
      .catch(() => undefined)
      .then(() => {
        this.queued = undefined;
        return this.sync();
      });
    return this.queued;
  }
}
