/**
 * The Node internals the codec relies on, named in one place, each with a
 * portable fallback:
 *
 * - `Buffer.prototype.utf8Slice(start, end)`: what `buf.toString('utf8', start, end)`
 *   ends up calling, without its argument checks (protobufjs reads strings the same way);
 * - `buffer.isUtf8(view)` (Node ≥ 18.14): native UTF-8 validation.
 */
import * as buffer from 'node:buffer';

type Utf8Slice = (this: Buffer, start: number, end: number) => string;

const nativeSlice = (Buffer.prototype as Buffer & { utf8Slice?: Utf8Slice }).utf8Slice;
const nativeIsUtf8 = (buffer as { isUtf8?: (input: Uint8Array) => boolean }).isUtf8;
const fatalDecoder = new TextDecoder('utf-8', { fatal: true });

function decodesStrictly(view: Uint8Array): boolean {
  try {
    fatalDecoder.decode(view);
    return true;
  } catch {
    return false;
  }
}

const validUtf8: (view: Uint8Array) => boolean = nativeIsUtf8 ?? decodesStrictly;

/** The bytes [start, end) as a string (invalid sequences become U+FFFD). */
export const utf8Slice: (buf: Buffer, start: number, end: number) => string = nativeSlice
  ? (buf, start, end) => nativeSlice.call(buf, start, end)
  : (buf, start, end) => buf.toString('utf8', start, end);

/** Whether the bytes [start, end) are valid UTF-8; ids are nearly always ASCII, checked here without a native call. */
export function isUtf8(buf: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    // an ASCII prefix is valid on its own, and what follows starts on a character boundary
    if (buf[i]! >= 0x80) return validUtf8(buf.subarray(i, end));
  }
  return true;
}
