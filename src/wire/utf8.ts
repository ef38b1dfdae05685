/**
 * The Node internals the codec relies on, named in one place, each with a
 * portable fallback (tested as its own pair in test/wire/utf8.test.ts):
 *
 * - `Buffer.prototype.utf8Slice(start, end)`: what `buf.toString('utf8', start, end)`
 *   ends up calling, without its argument checks (protobufjs reads strings the same way);
 * - `buffer.isUtf8(view)` (Node ≥ 18.14): native UTF-8 validation.
 */
import * as buffer from 'node:buffer';

type NativeSlice = (this: Buffer, start: number, end: number) => string;

export interface Utf8Internals {
  slice?: NativeSlice;
  isUtf8?: (input: Uint8Array) => boolean;
}

export interface Utf8Helpers {
  /** The bytes [start, end) as a string (invalid sequences become U+FFFD). */
  utf8Slice(buf: Buffer, start: number, end: number): string;
  /** Whether the bytes [start, end) are valid UTF-8; ids are nearly always ASCII, checked here without a native call. */
  isUtf8(buf: Buffer, start: number, end: number): boolean;
}

const fatalDecoder = new TextDecoder('utf-8', { fatal: true });

function decodesStrictly(view: Uint8Array): boolean {
  try {
    fatalDecoder.decode(view);
    return true;
  } catch {
    return false;
  }
}

/** The helpers on the internals given, falling back to public APIs for any that are missing. */
export function utf8Helpers({ slice, isUtf8: nativeIsUtf8 }: Utf8Internals): Utf8Helpers {
  const validUtf8 = nativeIsUtf8 ?? decodesStrictly;
  return {
    utf8Slice: slice
      ? (buf, start, end) => slice.call(buf, start, end)
      : (buf, start, end) => buf.toString('utf8', start, end),
    isUtf8(buf, start, end) {
      // ASCII, the common case, in one pass without a branch per byte
      let bits = 0;
      for (let i = start; i < end; i++) bits |= buf[i]!;
      if (bits < 0x80) return true;
      let i = start;
      while (buf[i]! < 0x80) i++;
      // an ASCII prefix is valid on its own, and what follows starts on a character boundary
      return validUtf8(buf.subarray(i, end));
    },
  };
}

/** What this Node offers. */
export const NODE_UTF8_INTERNALS: Utf8Internals = {
  slice: (Buffer.prototype as Buffer & { utf8Slice?: NativeSlice }).utf8Slice,
  isUtf8: (buffer as { isUtf8?: (input: Uint8Array) => boolean }).isUtf8,
};

export const { utf8Slice, isUtf8 } = utf8Helpers(NODE_UTF8_INTERNALS);
