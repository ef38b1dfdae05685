/** A sink's encoding of stats as bytes, as delivery would put them in a batch (for tests that build batches by hand). */
import type { AnalyticsStat } from '../../src/core/analytics.js';
import { NO_ROOM, type Sink } from '../../src/upstream/sink.js';

/** One stat's bytes through `encodeInto`, offered more room until they fit. */
export function encodeWith(encodeInto: Sink['encodeInto'], stat: AnalyticsStat): Buffer {
  for (let size = 256; size <= 64 * 1024 * 1024; size *= 2) {
    const into = Buffer.alloc(size);
    const n = encodeInto(stat, into, 0);
    if (n !== NO_ROOM) return into.subarray(0, n);
  }
  throw new Error('the encoder refused 64 MiB of room');
}

/** Several stats' bytes back to back: one batch payload. */
export function encodeAllWith(sink: Pick<Sink, 'encodeInto'>, stats: readonly AnalyticsStat[]): Buffer {
  return Buffer.concat(stats.map((s) => encodeWith((stat, into, at) => sink.encodeInto(stat, into, at), s)));
}

type EncodeInto = (stat: AnalyticsStat, into: Buffer, at: number) => number;

/** `Sink.encodeInto` for a test sink whose bytes are made elsewhere: copies them in, or NO_ROOM. */
export function copyInto(bytes: Uint8Array, into: Buffer, at: number): number {
  if (at + bytes.length > into.length) return NO_ROOM;
  into.set(bytes, at);
  return bytes.length;
}

const SENTINEL = 0xa5;
let turn = 0;

/**
 * One stat through an `…Into` encoder as delivery drives it, checking the
 * contract on the way: written at an offset (varied from call to call)
 * into a buffer with little room at first (none, a little, some), never
 * touching a byte before the offset nor, when it succeeds, after its
 * bytes; on NO_ROOM offered twice the room, until it fits. Returns the bytes.
 */
export function encodeChecked(encodeInto: EncodeInto, stat: AnalyticsStat): Buffer {
  turn++;
  const at = [0, 1, 7, 100][turn % 4]!;
  let room = [0, 1, 16, 64, 200, 600][turn % 6]!;
  for (;;) {
    const into = Buffer.alloc(at + room + 8, SENTINEL).subarray(0, at + room);
    const n = encodeInto(stat, into, at);
    const untouched = (from: number, to: number) => into.buffer.slice(into.byteOffset + from, into.byteOffset + to);
    if (!new Uint8Array(untouched(0, at)).every((b) => b === SENTINEL)) {
      throw new Error(`the encoder wrote before its offset ${at}`);
    }
    // the 8 bytes past the end of `into` tell whether it wrote beyond the buffer it was given
    if (!new Uint8Array(untouched(at + room, at + room + 8)).every((b) => b === SENTINEL)) {
      throw new Error(`the encoder wrote past the end of a buffer of ${at + room} bytes`);
    }
    if (n !== NO_ROOM) {
      if (n < 0 || n > room) throw new Error(`the encoder returned ${n} with ${room} bytes of room`);
      if (!new Uint8Array(untouched(at + n, at + room)).every((b) => b === SENTINEL)) {
        throw new Error('the encoder wrote after the bytes it returned');
      }
      return Buffer.from(into.subarray(at, at + n));
    }
    // no test stat needs this much: an encoder that always refuses fails here, not after allocating gigabytes
    if (room > 64 * 1024 * 1024) throw new Error(`the encoder refused ${room} bytes of room`);
    room = Math.max(1, room * 2);
  }
}
