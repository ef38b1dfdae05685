/**
 * The codec's reader (src/wire/proto-reader.ts) against protobufjs's
 * BufferReader, the code it ports, method by method on enumerated inputs:
 * varints of every length with and without continuation, at the start and
 * in the middle of a buffer, with the end right after them or further on (the
 * two code paths of each varint read), cut short, and over-long. The same
 * value, the same position after the read, or the same error message (which
 * the decoder puts in its INVALID_ARGUMENT status).
 */
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { ProtoReader, stringCache } from '../../src/wire/proto-reader.js';

type Outcome = { value: unknown; pos: number } | { error: string };

function outcome(read: () => unknown, pos: () => number): Outcome {
  try {
    const value = read();
    return { value, pos: pos() };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

/** Both readers on `buf`, positioned at `start`. */
function readers(buf: Buffer, start: number) {
  const ours = new ProtoReader(buf);
  ours.pos = start;
  const theirs = protobuf.Reader.create(buf);
  theirs.pos = start;
  return { ours, theirs };
}

/** Varints of 1 to 11 bytes: every continuation prefix, with payload bits in each position. */
const VARINTS: number[][] = (() => {
  const out: number[][] = [[]];
  for (let length = 1; length <= 11; length++) {
    for (const fill of [0x00, 0x2a, 0x55, 0x7f]) {
      for (const last of [0x00, 0x01, 0x10, 0x7f]) {
        out.push([...Array<number>(length - 1).fill(0x80 | fill), last]);
      }
      // cut short: every byte says another follows
      out.push(Array<number>(length).fill(0x80 | fill));
    }
  }
  return out;
})();

/** Each varint at offset 0 or 1, followed by 0 to 6 more bytes. */
function* placements(): Generator<{ buf: Buffer; start: number; name: string }> {
  for (const bytes of VARINTS) {
    for (const start of [0, 1]) {
      for (let after = 0; after <= 6; after++) {
        const buf = Buffer.from([...Array<number>(start).fill(0x99), ...bytes, ...Array<number>(after).fill(0x03)]);
        yield { buf, start, name: `${Buffer.from(bytes).toString('hex')} at ${start} + ${after}` };
      }
    }
  }
}

const long = (v: protobuf.Long | number) => (typeof v === 'number' ? v : { lo: v.low >>> 0, hi: v.high >>> 0 });

describe('ProtoReader, as protobufjs BufferReader', () => {
  it('reads uint32, int32 and bool varints to the same value and position, or fails with the same message', () => {
    for (const { buf, start, name } of placements()) {
      for (const method of ['uint32', 'int32', 'bool'] as const) {
        const { ours, theirs } = readers(buf, start);
        expect(
          outcome(
            () => ours[method](),
            () => ours.pos,
          ),
          `${method} ${name}`,
        ).toEqual(
          outcome(
            () => theirs[method](),
            () => theirs.pos,
          ),
        );
      }
    }
  });

  it('reads 64-bit varints to the same halves and position, or fails with the same message', () => {
    for (const { buf, start, name } of placements()) {
      const { ours, theirs } = readers(buf, start);
      expect(
        outcome(
          () => {
            ours.long();
            return { lo: ours.lo, hi: ours.hi };
          },
          () => ours.pos,
        ),
        name,
      ).toEqual(
        outcome(
          () => long(theirs.uint64()),
          () => theirs.pos,
        ),
      );
    }
  });

  it('reads a five-byte varint as protobufjs reads the int64, and leaves every other varint alone', () => {
    let read = 0;
    for (const { buf, start, name } of placements()) {
      const { ours, theirs } = readers(buf, start);
      const value = ours.fiveByteVarint();
      let length = 0;
      while (start + length < buf.length && buf[start + length]! >= 128) length++;
      const whole = start + length < buf.length;
      if (length === 4 && whole) {
        read++;
        const int64 = theirs.int64() as protobuf.Long | number;
        const expected = typeof int64 === 'number' ? int64 : int64.high * 2 ** 32 + (int64.low >>> 0);
        expect({ value, pos: ours.pos }, name).toEqual({ value: expected, pos: theirs.pos });
      } else {
        expect({ value, pos: ours.pos }, name).toEqual({ value: -1, pos: start });
      }
    }
    expect(read).toBeGreaterThan(50);
  });

  it('skips varints, fixed widths, lengths and groups as protobufjs does, and refuses bad wire types', () => {
    for (const { buf, start, name } of placements()) {
      for (let wireType = 0; wireType <= 7; wireType++) {
        if (wireType === 3 || wireType === 4) continue; // groups below: a varint is not a group body
        const { ours, theirs } = readers(buf, start);
        expect(
          outcome(
            () => ours.skipType(wireType, 0),
            () => ours.pos,
          ),
          `wire type ${wireType} ${name}`,
        ).toEqual(
          outcome(
            () => void theirs.skipType(wireType, 0),
            () => theirs.pos,
          ),
        );
      }
    }
    // groups: nested, empty, with every kind of field inside, and cut short
    const groups = [
      [0x0c],
      [0x08, 0x96, 0x01, 0x0c, 0x05],
      [0x0b, 0x0c, 0x0c],
      [0x09, 1, 2, 3, 4, 5, 6, 7, 8, 0x0d, 1, 2, 3, 4, 0x0a, 0x02, 0x61, 0x62, 0x0c],
      [0x08, 0x96],
      [0x0b, 0x0b, 0x0b],
      [0x0f],
    ];
    for (const bytes of groups) {
      const buf = Buffer.from(bytes);
      const { ours, theirs } = readers(buf, 0);
      expect(
        outcome(
          () => ours.skipType(3, 0),
          () => ours.pos,
        ),
        Buffer.from(bytes).toString('hex'),
      ).toEqual(
        outcome(
          () => void theirs.skipType(3, 0),
          () => theirs.pos,
        ),
      );
    }
  });

  it('stops at the nesting depth protobufjs stops at', () => {
    expect(protobuf.Reader.recursionLimit).toBe(100);
    // inside a group: `depth` more groups open, then all of them and the outer one end
    const nested = (depth: number) =>
      Buffer.from([...Array<number>(depth).fill(0x0b), ...Array<number>(depth + 1).fill(0x0c)]);
    const ok = new ProtoReader(nested(100));
    ok.skipType(3, 0);
    expect(ok.pos).toBe(201);
    expect(() => new ProtoReader(nested(101)).skipType(3, 0)).toThrow('maximum nesting depth exceeded');
    const theirs = protobuf.Reader.create(nested(101));
    expect(() => theirs.skipType(3, 0)).toThrow('maximum nesting depth exceeded');
    expect(() => new ProtoReader(Buffer.from([0x08, 0x01])).skipType(0, 101)).toThrow('maximum nesting depth exceeded');
    expect(() => new ProtoReader(Buffer.from([0x08, 0x01])).skipType(0, 100)).not.toThrow();
  });

  it('skips a given length, refusing one past the end', () => {
    for (let len = 0; len <= 4; len++) {
      for (let n = 0; n <= 5; n++) {
        for (const start of [0, 1]) {
          if (start > len) continue;
          const buf = Buffer.alloc(len, 7);
          const { ours, theirs } = readers(buf, start);
          expect(
            outcome(
              () => ours.skip(n),
              () => ours.pos,
            ),
            `${n} of ${len} at ${start}`,
          ).toEqual(
            outcome(
              () => void theirs.skip(n),
              () => theirs.pos,
            ),
          );
        }
      }
    }
  });

  it('reads floats, refusing fewer than four bytes', () => {
    const values = [0, -0, 1.5, -2.25, Math.fround(0.1), NaN, Infinity, -Infinity, 3.4e38, 1e-45];
    for (const v of values) {
      for (const start of [0, 1]) {
        for (let after = 0; after <= 1; after++) {
          const buf = Buffer.alloc(start + 4 + after, 0x11);
          buf.writeFloatLE(v, start);
          const { ours, theirs } = readers(buf, start);
          expect(
            outcome(
              () => ours.float(),
              () => ours.pos,
            ),
            `${v} at ${start}`,
          ).toEqual(
            outcome(
              () => theirs.float(),
              () => theirs.pos,
            ),
          );
          // bytes in a different order are a different float: each byte lands in its place
        }
      }
    }
    const bytes = Buffer.from([0x01, 0x02, 0x03, 0x04]);
    expect(new ProtoReader(bytes).float()).toBe(bytes.readFloatLE(0));
    for (let len = 0; len < 4; len++) {
      const { ours, theirs } = readers(Buffer.alloc(len), 0);
      expect(
        outcome(
          () => ours.float(),
          () => ours.pos,
        ),
      ).toEqual(
        outcome(
          () => theirs.float(),
          () => theirs.pos,
        ),
      );
    }
  });

  it('reads strings as protobufjs does (cut at the end), but undefined where the bytes are not UTF-8', () => {
    const bodies = ['', 'a', 'abc', 'é€😀', 'x'.repeat(130)].map((s) => Buffer.from(s));
    bodies.push(Buffer.from([0x61, 0xff]), Buffer.from([0xc3]), Buffer.from([0x80]));
    for (const body of bodies) {
      for (const claimed of [body.length, body.length + 3, Math.max(0, body.length - 1)]) {
        for (const start of [0, 2]) {
          const prefix = Buffer.alloc(start, 0x20);
          const buf = Buffer.concat([prefix, Buffer.from(protobuf.Writer.create().uint32(claimed).finish()), body]);
          const { ours, theirs } = readers(buf, start);
          const expected = theirs.string();
          const valid =
            new TextDecoder('utf-8', { fatal: false }).decode(Buffer.from(expected)) === expected &&
            !expected.includes('\uFFFD');
          expect(ours.string(), `${body.toString('hex')} claimed ${claimed}`).toBe(valid ? expected : undefined);
          expect(ours.pos).toBe(theirs.pos);
          const skipper = new ProtoReader(buf);
          skipper.pos = start;
          skipper.skipString();
          expect(skipper.pos).toBe(theirs.pos);
          const cached = new ProtoReader(buf);
          cached.pos = start;
          expect(cached.stringLike(stringCache())).toBe(valid ? expected : undefined);
          expect(cached.pos).toBe(theirs.pos);
        }
      }
    }
  });

  it('reuses the cached string only for the same bytes', () => {
    // three length-prefixed strings: "RM_a", "RM_b", "RM_a", then "RM_" and a string that is not UTF-8
    const parts = ['RM_a', 'RM_b', 'RM_a', 'RM_'].map((s) => Buffer.concat([Buffer.from([s.length]), Buffer.from(s)]));
    const buf = Buffer.concat([...parts, Buffer.from([0x04, 0x52, 0x4d, 0x5f, 0xff])]);
    const r = new ProtoReader(buf);
    const cache = stringCache();
    const first = r.stringLike(cache);
    expect(first).toBe('RM_a');
    expect(cache).toMatchObject({ buf, start: 1, end: 5, value: 'RM_a' });
    expect(r.stringLike(cache)).toBe('RM_b');
    expect(cache).toMatchObject({ start: 6, end: 10, value: 'RM_b' });
    expect(r.stringLike(cache)).toBe('RM_a');
    expect(r.stringLike(cache)).toBe('RM_');
    expect(r.stringLike(cache)).toBeUndefined();
    // a refused string leaves the cache as it was
    expect(cache).toMatchObject({ start: 16, end: 19, value: 'RM_' });
    expect(r.pos).toBe(buf.length);
    // the same bytes in another buffer are read, not taken from the cache of this one
    const other = Buffer.from([0x04, 0x52, 0x4d, 0x5f, 0x62]);
    const cacheOfOther = { buf: other, start: 1, end: 5, value: 'stale', start2: 1, end2: 5, value2: 'stale2' };
    const fresh = new ProtoReader(Buffer.from(other));
    expect(fresh.stringLike(cacheOfOther)).toBe('RM_b');
    // and the older entry, of the other buffer, is emptied rather than kept
    expect(cacheOfOther).toMatchObject({ start2: 0, end2: 0, value2: '' });
    // bytes compared in order: 'a', 0x02 after 'ab' is not 'ab' (its bytes equal the cached ones read backwards)
    const mirrored = new ProtoReader(Buffer.from([0x02, 0x61, 0x62, 0x02, 0x61, 0x02]));
    const mirrorCache = stringCache();
    expect(mirrored.stringLike(mirrorCache)).toBe('ab');
    expect(mirrored.stringLike(mirrorCache)).toBe('a\u0002');
    // and a cache hit leaves the cached range as it was
    const again = Buffer.from([0x01, 0x41, 0x01, 0x41]);
    const hits = new ProtoReader(again);
    const hitCache = stringCache();
    expect(hits.stringLike(hitCache)).toBe('A');
    expect(hits.stringLike(hitCache)).toBe('A');
    expect(hitCache).toMatchObject({ start: 1, end: 2 });
    expect(hits.pos).toBe(4);
  });

  it('keeps the string before the latest, and reuses it only for the same bytes', () => {
    // "video/VP8", "audio/opus", "video/VP8" (the older entry), "audio/opus" (the latest), then "video/VP9"
    const strings = ['video/VP8', 'audio/opus', 'video/VP8', 'audio/opus', 'video/VP9', 'audio/opus'];
    const buf = Buffer.concat(strings.map((s) => Buffer.concat([Buffer.from([s.length]), Buffer.from(s)])));
    const r = new ProtoReader(buf);
    const cache = stringCache();
    expect(r.stringLike(cache)).toBe('video/VP8');
    expect(cache).toMatchObject({ start: 1, end: 10, start2: 0, end2: 0, value2: '' });
    expect(r.stringLike(cache)).toBe('audio/opus');
    expect(cache).toMatchObject({ start: 11, end: 21, value: 'audio/opus', start2: 1, end2: 10, value2: 'video/VP8' });
    // hits on either entry leave both as they were
    expect(r.stringLike(cache)).toBe('video/VP8');
    expect(r.stringLike(cache)).toBe('audio/opus');
    expect(cache).toMatchObject({ start: 11, end: 21, start2: 1, end2: 10 });
    // same length as the older entry, one byte different: read, and the latest becomes the older
    expect(r.stringLike(cache)).toBe('video/VP9');
    expect(cache).toMatchObject({ value: 'video/VP9', start2: 11, end2: 21, value2: 'audio/opus' });
    expect(r.stringLike(cache)).toBe('audio/opus');
    // an empty string matches the emptied older entry of a fresh cache
    const empty = new ProtoReader(Buffer.from([0x01, 0x41, 0x00]));
    const emptyCache = stringCache();
    expect(empty.stringLike(emptyCache)).toBe('A');
    expect(empty.stringLike(emptyCache)).toBe('');
    expect(emptyCache).toMatchObject({ value: 'A', start2: 0, end2: 0 });
  });

  it('enters a sub-message only within the outer one, and leaves it only at its end', () => {
    const r = new ProtoReader(Buffer.from([1, 2, 3, 4, 5]));
    r.pos = 1;
    expect(() => r.enter(5)).toThrow(new RangeError('index out of range'));
    const outer = r.enter(4);
    expect(outer).toBe(5);
    expect(r.len).toBe(5);
    r.pos = 1;
    const inner = r.enter(2);
    expect([inner, r.len]).toEqual([5, 3]);
    r.pos = 2;
    expect(() => r.leave(inner)).toThrow(new RangeError('index out of range'));
    r.pos = 3;
    r.leave(inner);
    expect(r.len).toBe(5);
  });
});
