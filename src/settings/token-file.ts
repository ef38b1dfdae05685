/**
 * A bearer token held in a file that may be replaced while we run: the gRPC
 * and /metrics tokens we require, the upstream token we send. Kubernetes
 * updates a mounted Secret by writing a new directory and swapping a symlink,
 * so the file is re-read whenever the file the path resolves to changes
 * (device, inode, size or mtime). Checks are cheap `stat` calls: at most one
 * per CHECK_INTERVAL_MS in the steady state, and one on demand (`refresh`),
 * e.g. when a caller presents a token that does not match. A file that
 * vanishes or goes empty mid-rotation leaves the last good token in force.
 */
import { timingSafeEqual } from 'node:crypto';
import { readFileSync, statSync, type Stats } from 'node:fs';
import { SettingError } from './errors.js';

/** How stale the token may be while every caller presents the current one; in milliseconds. */
const CHECK_INTERVAL_MS = 1000;

/** RFC 6750 §2.1: the scheme is case-insensitive (RFC 9110 §11.1), then one or more spaces and the token. */
const BEARER = /^bearer +(\S+) *$/i;

export class TokenFile {
  private token: Buffer;
  private identity: string;
  private checkedAt: number;

  /** Reads the file now; a missing or empty file is a SettingError naming `setting` (exit code 2 at startup). */
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
      throw new SettingError(setting, `cannot read ${path}: ${(err as Error).message}`);
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

  /**
   * Whether an `authorization` header value is `Bearer <this token>`,
   * compared in constant time. A mismatch re-reads the file first: right
   * after a rotation the new token works at once, and the old one stops.
   */
  acceptsBearer(header: unknown): boolean {
    if (typeof header !== 'string') return false;
    const m = BEARER.exec(header);
    if (!m) return false;
    const presented = Buffer.from(m[1]!);
    return matches(presented, this.current()) || matches(presented, this.refresh());
  }
}

function matches(presented: Buffer, token: Buffer): boolean {
  return presented.length === token.length && timingSafeEqual(presented, token);
}

function identityOf(stats: Stats): string {
  return `${stats.dev}:${stats.ino}:${stats.size}:${stats.mtimeMs}`;
}

function read(path: string): Buffer {
  const token = readFileSync(path, 'utf8').trim();
  if (token === '') throw new Error(`${path} is empty`);
  return Buffer.from(token);
}
