/**
 * Stable batch ids: fixed when a batch is cut, kept on every retry and in the
 * spool, so an upstream can de-duplicate re-sends (the NATS sink sends it as
 * `Nats-Msg-Id`). See docs/delivery.md.
 */
import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** `length` random base-62 characters (about 5.95 bits each). */
export function randomBase62(length: number): string {
  let out = '';
  for (const byte of randomBytes(length)) out += ALPHABET[byte % 62];
  return out;
}

/** Longest id a spool record can hold; ours are at most 12 + 1 + 11 characters. */
export const BATCH_ID_MAX_LENGTH = 63;

export class BatchIds {
  private seq = 0;

  /** 12 random characters (71 bits) keep ids of different processes apart; the sequence keeps this one's apart. */
  constructor(private readonly prefix: string = randomBase62(12)) {}

  next(): string {
    return `${this.prefix}-${(this.seq++).toString(36)}`;
  }
}
