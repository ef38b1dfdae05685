/**
 * The codec's UTF-8 helpers (src/wire/utf8.ts) against the WHATWG decoder, on any bytes and any sub-range:
 * the pair on Node's internals that the codec uses, and the portable fallback pair on public APIs alone.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as codecUtf8 from '../../src/wire/utf8.js';
import { NODE_UTF8_INTERNALS, utf8Helpers, type Utf8Helpers } from '../../src/wire/utf8.js';
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

it('the codec runs on both of Node’s internals here (the engines range guarantees them)', () => {
  expect(typeof NODE_UTF8_INTERNALS.slice).toBe('function');
  expect(typeof NODE_UTF8_INTERNALS.isUtf8).toBe('function');
});

const PAIRS: [string, Utf8Helpers][] = [
  ['on Node’s internals (what the codec uses)', codecUtf8],
  ['portable fallback', utf8Helpers({})],
];

describe.each(PAIRS)('UTF-8 helpers, %s', (_name, { isUtf8, utf8Slice }) => {
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
