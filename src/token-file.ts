/**
 * A bearer token kept in a file that may rotate: Kubernetes swaps Secret and
 * projected-token files in place, so the file is re-read whenever it changes.
 */
import { readFileSync, statSync, type Stats } from 'node:fs';
import { timingSafeEqual } from 'node:crypto';

export class TokenFile {
  private token: Buffer;
  private version: string;

  /** Reads the file now; throws naming `setting` when it is missing or empty, so startup fails clearly. */
  constructor(
    readonly path: string,
    private readonly setting: string,
  ) {
    try {
      const stats = statSync(this.path);
      this.token = this.read();
      this.version = versionOf(stats);
    } catch (err) {
      const message = (err as Error).message;
      throw new Error(message.startsWith(setting) ? message : `${setting}: cannot read ${path}: ${message}`);
    }
  }

  /** The current token. A file that vanished or went empty mid-rotation keeps the last good token. */
  current(): Buffer {
    try {
      const stats = statSync(this.path);
      const version = versionOf(stats);
      if (version !== this.version) {
        this.token = this.read();
        this.version = version;
      }
    } catch {
      // keep serving with the last good token until the new file is complete
    }
    return this.token;
  }

  /** Constant-time comparison with the current token. */
  matches(presented: string): boolean {
    const want = this.current();
    const got = Buffer.from(presented);
    return got.length === want.length && timingSafeEqual(got, want);
  }

  private read(): Buffer {
    const token = readFileSync(this.path, 'utf8').trim();
    if (token === '') throw new Error(`${this.setting}: ${this.path} is empty`);
    return Buffer.from(token);
  }
}

function versionOf(s: Stats): string {
  return `${s.ino}:${s.size}:${s.mtimeMs}`;
}
