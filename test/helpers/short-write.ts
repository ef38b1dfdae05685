/**
 * A disk that fills up, injected at the file-handle boundary: writes to
 * matching files go to real files until `budget` bytes are used, the write
 * that crosses it is short (as write(2) is on a full disk), and every later
 * one fails with ENOSPC until space is freed.
 */
import { open } from 'node:fs/promises';
import type { OpenFile, WritableFile } from '../../src/upstream/durable-file.js';

export class FillingDisk {
  /** Writes to matching files, with the bytes each got out. */
  readonly writes: { path: string; asked: number; written: number }[] = [];

  constructor(
    public budget: number,
    private readonly matches: (path: string) => boolean = () => true,
  ) {}

  free(bytes: number): void {
    this.budget += bytes;
  }

  readonly open: OpenFile = async (path, flags) => {
    const handle = await open(path, flags);
    if (!this.matches(path)) return handle;
    const file: WritableFile = {
      write: async (buffer, offset, length) => {
        const allowed = Math.min(length, this.budget);
        if (allowed <= 0) {
          this.writes.push({ path, asked: length, written: 0 });
          throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
        }
        // reserved before the await, so concurrent writers share one budget
        this.budget -= allowed;
        const { bytesWritten } = await handle.write(buffer, offset, allowed);
        this.budget += allowed - bytesWritten;
        this.writes.push({ path, asked: length, written: bytesWritten });
        return { bytesWritten };
      },
      datasync: () => handle.datasync(),
      truncate: (n) => handle.truncate(n),
      stat: () => handle.stat(),
      close: () => handle.close(),
    };
    return file;
  };
}

/** Record files (`*.tmp` while written) get `budget` bytes out, then a short write and ENOSPC. */
export function shortWritesAfter(budget: number): OpenFile {
  return new FillingDisk(budget, (path) => path.endsWith('.tmp')).open;
}
