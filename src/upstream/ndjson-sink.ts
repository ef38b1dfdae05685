/** The embedded default upstream: one protobuf-JSON AnalyticsStat per line, to a file or stdout. */
import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { AnalyticsStat } from '../core/analytics.js';
import { encodeNdjsonLine } from '../wire/ndjson-encoder.js';
import { SinkError, type Batch, type Sink } from './sink.js';

/** Lines are small; this only bounds a single write. */
const MAX_BATCH_BYTES = 64 * 1024 * 1024;

function encodeLine(stat: AnalyticsStat): Uint8Array {
  return encodeNdjsonLine(stat);
}

export class NdjsonFileSink implements Sink {
  readonly description: string;
  readonly maxBatchBytes = MAX_BATCH_BYTES;
  readonly format = 'ndjson';
  private file: FileHandle | undefined;

  constructor(private readonly path: string) {
    this.description = `file:${path}`;
  }

  encode(stat: AnalyticsStat): Uint8Array {
    return encodeLine(stat);
  }

  /** Appends the batch and fsyncs, so an acknowledged batch survives a crash. */
  async send(batch: Batch): Promise<void> {
    try {
      this.file ??= await this.openFile();
      await this.file.write(Buffer.concat(batch.payloads));
      await this.file.datasync();
    } catch (err) {
      // the file may be fine again later (disk freed, volume remounted): retry, bounded by the queue
      await this.file?.close().catch(() => undefined);
      this.file = undefined;
      throw new SinkError(`writing ${this.path}: ${(err as Error).message}`, true, 'file_error');
    }
  }

  async close(): Promise<void> {
    await this.file?.close();
    this.file = undefined;
  }

  private async openFile(): Promise<FileHandle> {
    await mkdir(dirname(this.path), { recursive: true });
    return open(this.path, 'a');
  }
}

export class StdoutSink implements Sink {
  readonly description = 'stdout:';
  readonly maxBatchBytes = MAX_BATCH_BYTES;
  readonly format = 'ndjson';

  constructor(private readonly out: NodeJS.WritableStream = process.stdout) {}

  encode(stat: AnalyticsStat): Uint8Array {
    return encodeLine(stat);
  }

  send(batch: Batch): Promise<void> {
    return new Promise((resolve, reject) => {
      this.out.write(Buffer.concat(batch.payloads), (err) =>
        err ? reject(new SinkError(`writing stdout: ${err.message}`, true, 'stdout_error')) : resolve(),
      );
    });
  }

  async close(): Promise<void> {}
}
