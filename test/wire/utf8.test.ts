/** The codec's UTF-8 helpers (src/wire/utf8.ts) against the WHATWG decoder, on any bytes and any sub-range. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isUtf8, utf8Slice } from '../../src/wire/utf8.js';
import { runs, UNDER_MUTATION } from './runs.js';

const strict = new TextDecoder('utf-8', { fatal: true });
const valid = (bytes: Uint8Array) => {
  try {
    strict.decode(bytes);
    return true;
  } catch {
    return false;
  }
};

/** Mostly ASCII with a few high bytes, valid sequences, and broken ones: the cases the ASCII fast path splits. */
const bytes = fc
  .array(
    fc.oneof(
      { weight: 6, arbitrary: fc.string({ maxLength: 6 }).map((s) => Buffer.from(s)) },
      { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 3 }).map((s) => Buffer.from(s)) },
      { weight: 1, arbitrary: fc.uint8Array({ maxLength: 3 }).map((a) => Buffer.from(a)) },
    ),
    { maxLength: 8 },
  )
  .map((parts) => Buffer.concat(parts));

describe('UTF-8 helpers', () => {
  it('say a range is UTF-8 exactly when a strict decoder accepts it, and slice it as Buffer#toString does', () => {
    let invalid = 0;
    fc.assert(
      fc.property(bytes, fc.nat(), fc.nat(), (buf, a, b) => {
        const start = buf.length === 0 ? 0 : a % (buf.length + 1);
        const end = start + (buf.length === 0 ? 0 : b % (buf.length - start + 1));
        const expected = valid(buf.subarray(start, end));
        if (!expected) invalid++;
        expect(isUtf8(buf, start, end)).toBe(expected);
        expect(utf8Slice(buf, start, end)).toBe(buf.toString('utf8', start, end));
      }),
      { numRuns: runs(2000) },
    );
    if (!UNDER_MUTATION) expect(invalid).toBeGreaterThan(100);
  });

  it('refuses the ids of issue 11 and accepts their valid neighbours', () => {
    const at = (s: string) => isUtf8(Buffer.from(s, 'latin1'), 0, Buffer.from(s, 'latin1').length);
    expect([at('P\xff'), at('P\xfe'), at('P\xc3\xa9'), at('P')]).toEqual([false, false, true, true]);
    // the lowest byte that is not ASCII, alone, after ASCII and inside a range
    expect([at('\x80'), at('P\x80'), at('P\x7f'), at('\xc3\x80')]).toEqual([false, false, true, true]);
    expect(isUtf8(Buffer.from('ab\x80cd', 'latin1'), 1, 4)).toBe(false);
    expect(isUtf8(Buffer.from('ab\x80cd', 'latin1'), 3, 5)).toBe(true);
  });
});
