/**
 * A real small filesystem for disk-full and read-only tests: a tmpfs mounted
 * on a temp dir. Needs root (CI runs as root on a fresh Debian machine).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, openSync, closeSync, statfsSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export interface Tmpfs {
  dir: string;
  /** Bytes free, as statfs reports them. */
  free(): number;
  /** Fills the filesystem with a filler file until writes fail, leaving `leave` bytes free (whole pages). */
  fill(leave?: number): void;
  /** Removes the filler, and with it the disk-full condition. */
  unfill(): void;
  unmount(): void;
}

export function mountTmpfs(dir: string, sizeBytes: number, options: { readOnly?: boolean } = {}): Tmpfs {
  mkdirSync(dir, { recursive: true });
  const opts = [`size=${sizeBytes}`, 'mode=0777', ...(options.readOnly ? ['ro'] : [])].join(',');
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', opts, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (err) {
    throw new Error(
      `mounting a ${sizeBytes}-byte tmpfs on ${dir} failed (these tests need root, as CI has): ${(err as Error).message}`,
    );
  }
  const filler = join(dir, '.filler');
  const free = () => {
    const s = statfsSync(dir);
    return s.bavail * s.bsize;
  };
  return {
    dir,
    free,
    fill(leave = 0) {
      const fd = openSync(filler, 'a');
      try {
        const page = Buffer.alloc(4096, 0x66);
        while (free() > leave) writeSync(fd, page, 0, Math.min(page.length, free() - leave));
      } finally {
        closeSync(fd);
      }
    },
    unfill() {
      execFileSync('rm', ['-f', filler]);
    },
    unmount() {
      execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
    },
  };
}
