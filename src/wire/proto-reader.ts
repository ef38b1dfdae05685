/**
 * A port of protobufjs 7's BufferReader (src/reader.js, reader_buffer.js)
 * for the hand-written decoders: the same bounds checks and the same
 * leniencies, so bytes that proto-loader accepts decode here to the same
 * values, and bytes it rejects throw here too. test/wire/session-decoder.test.ts
 * holds the two side by side. Differences are only in what is allocated:
 * 64-bit varints land in `lo`/`hi` instead of a LongBits object.
 */

import { isUtf8, utf8Slice } from './utf8.js';

/** protobufjs's util.recursionLimit (protoc's default). */
const RECURSION_LIMIT = 100;

const f32 = new Float32Array(1);
const f32Bytes = new Uint8Array(f32.buffer);

function outOfRange(r: ProtoReader, writeLength = 1): RangeError {
  return new RangeError(`index out of range: ${r.pos} + ${writeLength} > ${r.len}`);
}

export class ProtoReader {
  pos = 0;
  /** End of the message being read: narrowed while inside a sub-message, as protobufjs does. */
  len: number;
  /** The last 64-bit varint read, as two uint32 halves. */
  lo = 0;
  hi = 0;

  constructor(readonly buf: Buffer) {
    this.len = buf.length;
  }

  uint32(): number {
    const buf = this.buf;
    if (this.len - this.pos < 5) {
      if (this.pos >= this.len) throw outOfRange(this);
      if (buf[this.pos]! >= 128) return this.varint32NearEnd();
    }
    // bytes past the end read as undefined (& 127 → 0) exactly as in protobufjs
    let value = (buf[this.pos]! & 127) >>> 0;
    if (buf[this.pos++]! < 128) return value;
    value = (value | ((buf[this.pos]! & 127) << 7)) >>> 0;
    if (buf[this.pos++]! < 128) return value;
    value = (value | ((buf[this.pos]! & 127) << 14)) >>> 0;
    if (buf[this.pos++]! < 128) return value;
    value = (value | ((buf[this.pos]! & 127) << 21)) >>> 0;
    if (buf[this.pos++]! < 128) return value;
    value = (value | ((buf[this.pos]! & 15) << 28)) >>> 0;
    if (buf[this.pos++]! < 128) return value;
    if ((this.pos += 5) > this.len) {
      this.pos = this.len;
      throw outOfRange(this, 10);
    }
    return value;
  }

  /**
   * A field's tag: uint32() with its one-byte case (field numbers below 16) read
   * here. Only called while `pos < len`, so the byte exists.
   */
  tag(): number {
    const p = this.pos;
    const b = this.buf[p]!;
    if (b < 128) {
      this.pos = p + 1;
      return b;
    }
    return this.uint32();
  }

  /**
   * The next varint when it has at most four bytes and at least five bytes are
   * left (counters, lengths, enums: the common case), else -1 without moving.
   * In that case uint32(), int32() and long() (lo, hi = 0) all give this value,
   * so a caller reads the field once here and falls back to them on -1.
   */
  shortVarint(): number {
    const p = this.pos;
    if (this.len - p < 5) return -1;
    const buf = this.buf;
    let b = buf[p]!;
    if (b < 128) {
      this.pos = p + 1;
      return b;
    }
    let v = b & 127;
    b = buf[p + 1]!;
    if (b < 128) {
      this.pos = p + 2;
      return v | (b << 7);
    }
    v |= (b & 127) << 7;
    b = buf[p + 2]!;
    if (b < 128) {
      this.pos = p + 3;
      return v | (b << 14);
    }
    v |= (b & 127) << 14;
    b = buf[p + 3]!;
    if (b < 128) {
      this.pos = p + 4;
      return v | (b << 21);
    }
    return -1;
  }

  /**
   * The next varint when it has exactly five bytes and at least five bytes
   * are left, else -1 without moving: a Timestamp's seconds today (2^28 to
   * 2^35 − 1, until the year 3058). Its value is below 2^35, so long() would
   * give hi < 8 and the same number as (hi | 0) * 2^32 + lo.
   */
  fiveByteVarint(): number {
    const p = this.pos;
    if (this.len - p < 5) return -1;
    const buf = this.buf;
    const b0 = buf[p]!;
    const b1 = buf[p + 1]!;
    const b2 = buf[p + 2]!;
    const b3 = buf[p + 3]!;
    const b4 = buf[p + 4]!;
    if ((b0 & b1 & b2 & b3 & 128) === 0 || b4 >= 128) return -1;
    this.pos = p + 5;
    return (b0 & 127) + (b1 & 127) * 2 ** 7 + (b2 & 127) * 2 ** 14 + (b3 & 127) * 2 ** 21 + b4 * 2 ** 28;
  }

  int32(): number {
    return this.uint32() | 0;
  }

  bool(): boolean {
    return this.uint32() !== 0;
  }

  /** readLongVarint: the halves go to `lo` and `hi`. */
  long(): void {
    const buf = this.buf;
    let lo = 0;
    let hi = 0;
    let i = 0;
    if (this.len - this.pos > 4) {
      for (; i < 4; ++i) {
        lo = (lo | ((buf[this.pos]! & 127) << (i * 7))) >>> 0;
        if (buf[this.pos++]! < 128) return this.setLong(lo, hi);
      }
      lo = (lo | ((buf[this.pos]! & 127) << 28)) >>> 0;
      hi = (hi | ((buf[this.pos]! & 127) >> 4)) >>> 0;
      if (buf[this.pos++]! < 128) return this.setLong(lo, hi);
      i = 0;
    } else {
      for (; i < 3; ++i) {
        if (this.pos >= this.len) throw outOfRange(this);
        lo = (lo | ((buf[this.pos]! & 127) << (i * 7))) >>> 0;
        if (buf[this.pos++]! < 128) return this.setLong(lo, hi);
      }
      // protobufjs reads a 4th byte here without a bounds or continuation check
      lo = (lo | ((buf[this.pos++]! & 127) << (i * 7))) >>> 0;
      return this.setLong(lo, hi);
    }
    if (this.len - this.pos > 4) {
      for (; i < 5; ++i) {
        hi = (hi | ((buf[this.pos]! & 127) << (i * 7 + 3))) >>> 0;
        if (buf[this.pos++]! < 128) return this.setLong(lo, hi);
      }
    } else {
      for (; i < 5; ++i) {
        if (this.pos >= this.len) throw outOfRange(this);
        hi = (hi | ((buf[this.pos]! & 127) << (i * 7 + 3))) >>> 0;
        if (buf[this.pos++]! < 128) return this.setLong(lo, hi);
      }
    }
    throw new Error('invalid varint encoding');
  }

  float(): number {
    if (this.pos + 4 > this.len) throw outOfRange(this, 4);
    const buf = this.buf;
    const p = this.pos;
    f32Bytes[0] = buf[p]!;
    f32Bytes[1] = buf[p + 1]!;
    f32Bytes[2] = buf[p + 2]!;
    f32Bytes[3] = buf[p + 3]!;
    this.pos = p + 4;
    return f32[0]!;
  }

  /**
   * BufferReader.string: a length past the end is cut at the end, not refused.
   * Unlike protobufjs, bytes that are not valid UTF-8 give `undefined` instead
   * of U+FFFD: proto3 requires UTF-8, and two different ids must not become one.
   */
  string(): string | undefined {
    const length = this.stringLength();
    const start = this.pos;
    const end = (this.pos = Math.min(start + length, this.len));
    return isUtf8(this.buf, start, end) ? utf8Slice(this.buf, start, end) : undefined;
  }

  /** A string field whose value is not needed: the same bounds behaviour without building it. */
  skipString(): void {
    const length = this.stringLength();
    this.pos = Math.min(this.pos + length, this.len);
  }

  /**
   * `string()`, reusing a cached value when the bytes equal the cached ones
   * (ids repeat from one stat to the next, mime types alternate between two:
   * no new string, and the Map hash is cached). The cache holds the last two
   * strings of this buffer.
   */
  stringLike(cache: StringCache): string | undefined {
    const length = this.stringLength();
    const start = this.pos;
    const end = (this.pos = Math.min(start + length, this.len));
    const buf = this.buf;
    const sameBuf = cache.buf === buf;
    if (sameBuf) {
      const n = end - start;
      if (cache.end - cache.start === n && sameBytes(buf, start, end, cache.start)) return cache.value;
      if (cache.end2 - cache.start2 === n && sameBytes(buf, start, end, cache.start2)) return cache.value2;
    }
    if (!isUtf8(buf, start, end)) return undefined;
    const value = utf8Slice(buf, start, end);
    if (sameBuf) {
      cache.start2 = cache.start;
      cache.end2 = cache.end;
      cache.value2 = cache.value;
    } else {
      // the older entry belongs to another buffer: empty, which only the empty string matches
      cache.buf = buf;
      cache.start2 = 0;
      cache.end2 = 0;
      cache.value2 = '';
    }
    cache.start = start;
    cache.end = end;
    cache.value = value;
    return value;
  }

  skip(length: number): void {
    if (this.pos + length > this.len) throw outOfRange(this, length);
    this.pos += length;
  }

  skipVarint(): void {
    do {
      if (this.pos >= this.len) throw outOfRange(this);
    } while (this.buf[this.pos++]! & 128);
  }

  skipType(wireType: number, depth: number): void {
    if (depth > RECURSION_LIMIT) throw new Error('maximum nesting depth exceeded');
    switch (wireType) {
      case 0:
        this.skipVarint();
        break;
      case 1:
        this.skip(8);
        break;
      case 2:
        this.skip(this.uint32());
        break;
      case 3:
        while ((wireType = this.uint32() & 7) !== 4) this.skipType(wireType, depth + 1);
        break;
      case 5:
        this.skip(4);
        break;
      default:
        throw new Error(`invalid wire type ${wireType} at offset ${this.pos}`);
    }
  }

  /** Enters a sub-message of `length` bytes; returns the outer end for `leave`. */
  enter(length: number): number {
    const end = this.pos + length;
    if (end > this.len) throw new RangeError('index out of range');
    const outer = this.len;
    this.len = end;
    return outer;
  }

  /** Leaves a sub-message: it must have been read exactly to its end. */
  leave(outer: number): void {
    if (this.pos !== this.len) throw new RangeError('index out of range');
    this.len = outer;
  }

  /** A string's length: ids are short, so shortVarint() nearly always reads it. */
  private stringLength(): number {
    const length = this.shortVarint();
    return length >= 0 ? length : this.uint32();
  }

  /** readVarint32NearEnd: at most four bytes when fewer than five are left. */
  private varint32NearEnd(): number {
    let value = 0;
    for (let i = 0; i < 4; ++i) {
      if (this.pos >= this.len) throw outOfRange(this);
      const b = this.buf[this.pos++]!;
      value = (value | ((b & 127) << (i * 7))) >>> 0;
      if (b < 128) return value;
    }
    throw outOfRange(this);
  }

  private setLong(lo: number, hi: number): void {
    this.lo = lo;
    this.hi = hi;
  }
}

/** The bytes [start, end) equal those from `other` on, in order. */
function sameBytes(buf: Buffer, start: number, end: number, other: number): boolean {
  for (let i = start, j = other; i < end; i++, j++) {
    if (buf[i] !== buf[j]) return false;
  }
  return true;
}

/** The last two strings read from `buf`: the latest in start/end/value, the one before in start2/end2/value2. */
export interface StringCache {
  buf: Buffer | undefined;
  start: number;
  end: number;
  value: string;
  start2: number;
  end2: number;
  value2: string;
}

export function stringCache(): StringCache {
  return { buf: undefined, start: 0, end: 0, value: '', start2: 0, end2: 0, value2: '' };
}
