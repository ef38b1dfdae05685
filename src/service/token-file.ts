/**
 * A secret held in a file that may be replaced while we run. Kubernetes
 * updates a mounted Secret by writing a new directory and swapping a symlink,
 * so the file is re-read whenever the file the path resolves to changes
 * (device, inode, size or mtime). Checks are cheap `stat` calls: at most one
 * per CHECK_INTERVAL_MS in the steady state, and one on demand (`refresh`),
 * e.g. when a caller presents a token that does not match.
 */
import { readFileSync, statSync, type Stats } from 'node:fs';
import { ConfigError } from '../config.js';

/** How stale the token may be while every caller presents the current one. */
const CHECK_INTERVAL_MS = 1000;

export class TokenFile {
  private token: Buffer;
  private identity: string;
  private checkedAt: number;

  constructor(
    readonly path: string,
    /** The setting naming the file, for error messages. */
    private readonly setting: string,
    /** Called when a re-read fails; the last good token stays in use. */
    private readonly onError: (err: Error) => void = () => {},
    private readonly now: () => number = Date.now,
  ) {
    try {
      const stats = statSync(path);
      this.token = read(path);
      this.identity = identityOf(stats);
    } catch (err) {
      throw new ConfigError(`${setting}: ${(err as Error).message}`);
    }
    this.checkedAt = now();
  }

  /** The token, re-read first if the check interval passed and the file changed. */
  current(): Buffer {
    if (this.now() - this.checkedAt >= CHECK_INTERVAL_MS) this.refresh();
    return this.token;
  }

  /** Re-reads the file now if it changed; returns the token in force. */
  refresh(): Buffer {
    this.checkedAt = this.now();
    try {
      const identity = identityOf(statSync(this.path));
      if (identity !== this.identity) {
        this.token = read(this.path);
        this.identity = identity;
      }
    } catch (err) {
      this.onError(new Error(`${this.setting}: ${(err as Error).message}; still using the previous token`));
    }
    return this.token;
  }
}

function identityOf(stats: Stats): string {
  return `${stats.dev}:${stats.ino}:${stats.size}:${stats.mtimeMs}`;
}

function read(path: string): Buffer {
  const token = readFileSync(path, 'utf8').trim();
  if (token === '') throw new Error(`${path} is empty`);
  return Buffer.from(token);
}
