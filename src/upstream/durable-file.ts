/**
 * Whole-or-nothing file writes for the spool and the NDJSON sink. A write(2)
 * may write fewer bytes than asked (a disk filling up does exactly that) and
 * only the next one fails with ENOSPC: `writeAll` keeps writing until every
 * byte is out or an error is thrown, and the callers roll back what a failed
 * write left behind (truncate, or delete the temporary file).
 */
import { open as openHandle } from 'node:fs/promises';

/** The file operations the writers need: a `FileHandle` fits, and tests wrap one to inject short writes. */
export interface WritableFile {
  write(buffer: Uint8Array, offset: number, length: number): Promise<{ bytesWritten: number }>;
  datasync(): Promise<void>;
  truncate(length: number): Promise<void>;
  stat(): Promise<{ size: number }>;
  close(): Promise<void>;
}

/** Opens a file for writing (`flags` as fs.open: `a`, `w`, `r+`). */
export type OpenFile = (path: string, flags: string) => Promise<WritableFile>;

export const openFile: OpenFile = (path, flags) => openHandle(path, flags);

/** Writes every byte of `data`, looping over short writes; throws the error that stopped it. */
export async function writeAll(file: WritableFile, data: Uint8Array): Promise<void> {
  for (let at = 0; at < data.length;) {
    const { bytesWritten } = await file.write(data, at, data.length - at);
    // write(2) returns 0 only when nothing can be written; without this the loop would spin
    if (bytesWritten <= 0) throw Object.assign(new Error('no space left on device (short write)'), { code: 'ENOSPC' });
    at += bytesWritten;
  }
}

/** Flushes a directory's entries (a rename, a new file) to disk: without it a power loss may undo them. */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await openHandle(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** The `code` of a Node system error (`ENOSPC`, `EACCES`...), if it has one. */
export function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}
