/**
 * NDJSON lines for the default sink, by hand: each AnalyticsStat as
 * protobuf-JSON, byte for byte what @livekit/protocol's `toJsonString`
 * writes (to-livekit.ts `toJsonLine`), without building protobuf-es message
 * objects. Through the library a line cost ~29 µs (two object trees, a
 * BigInt per uint64, a Date per timestamp); a flush of 100 000 stats spent
 * seconds of CPU there (see bench/README.md).
 *
 * protobuf-es's mapping, as this file reproduces it: fields in number order,
 * keys in lowerCamelCase; a field equal to its zero value (`== 0`, `""`, an
 * empty list, an absent message) is left out; enums by name (an unknown
 * number as a number); int32/uint32 and float fields as JSON numbers of the
 * double held (float32 is not shortened to its float32 spelling), NaN and
 * ±Infinity as strings; 64-bit integers as decimal strings of the truncated
 * value; strings through JSON.stringify; Timestamps as RFC 3339 with 0, 3, 6
 * or 9 fractional digits. A Timestamp outside years 1–9999 or with negative
 * nanos has no JSON form: both the library and this encoder throw.
 * test/wire/ndjson-encoder.test.ts holds it to the library on generated stats.
 */
import type { AnalyticsStat, AnalyticsStream, AnalyticsVideoLayer, Timestamp } from '../core/analytics.js';
import { NO_ROOM, OUT_OF_ROOM } from './room.js';

const TWO_53 = 2 ** 53;
/** 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z in Unix milliseconds: protobuf-es's Timestamp JSON range. */
const MIN_TIMESTAMP_MS = -62135596800000;
const MAX_TIMESTAMP_MS = 253402300799000;
const SECONDS_PER_DAY = 86_400;

/** int32/uint32: JSON.stringify of the number. */
function int32Json(v: number): string {
  return Number.isFinite(v) ? String(v) : 'null';
}

let lastFloat = 0;
let lastFloatJson = '0';

/**
 * float/double: a number, or the strings protobuf JSON uses for the values
 * JSON lacks. The shortest round-trip spelling of a double is the costly
 * part, and a stat's score, min and median are often the same value. (A
 * map of recent renderings measured slower on the load generator's scores,
 * which rarely repeat across tracks: bench/README.md.)
 */
function float(v: number): string {
  if (v === lastFloat) return lastFloatJson;
  if (!Number.isFinite(v)) return v !== v ? '"NaN"' : v > 0 ? '"Infinity"' : '"-Infinity"';
  lastFloat = v;
  return (lastFloatJson = String(v));
}

/** The digits of a truncated 64-bit value outside [0, 2^53). */
function int64Digits(t: number): string {
  // below 2^53 a double prints exactly; above, only BigInt spells out the exact value (NaN throws, as BigInt(NaN) does)
  return t < TWO_53 && t > -TWO_53 ? String(t) : String(BigInt(t));
}

const pad2 = (n: number): string => (n < 10 ? `0${n}` : String(n));

function pad4(n: number): string {
  if (n >= 1000) return String(n);
  if (n >= 100) return `0${n}`;
  return n >= 10 ? `00${n}` : `000${n}`;
}

/**
 * The first part of what protobuf-es's Timestamp.toJson returns, with its
 * opening quote: `new Date(ms).toISOString()` up to the seconds. The date is
 * computed with the proleptic Gregorian civil-from-days algorithm
 * (H. Hinnant), as Date does.
 */
function datePrefix(seconds: number): string {
  if (!Number.isInteger(seconds)) throw new RangeError(`cannot encode Timestamp seconds ${seconds}`);
  const ms = seconds * 1000;
  if (ms < MIN_TIMESTAMP_MS || ms > MAX_TIMESTAMP_MS) {
    throw new Error(
      'cannot encode google.protobuf.Timestamp to JSON: must be from 0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z inclusive',
    );
  }
  const days = Math.floor(seconds / SECONDS_PER_DAY);
  const secondOfDay = seconds - days * SECONDS_PER_DAY;
  const z0 = days + 719_468;
  const era = Math.floor(z0 / 146_097);
  const dayOfEra = z0 - era * 146_097;
  const yearOfEra = Math.floor(
    (dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365,
  );
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const mp = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  const hour = Math.floor(secondOfDay / 3600);
  const minute = Math.floor((secondOfDay - hour * 3600) / 60);
  const second = secondOfDay - hour * 3600 - minute * 60;
  return `"${pad4(year)}-${pad2(month)}-${pad2(day)}T${pad2(hour)}:${pad2(minute)}:${pad2(second)}`;
}

/** The rest, with the closing quote: the toISOString's `.000Z` replaced by 0, 3, 6 or 9 digits of the nanos. */
function fraction(nanos: number): string {
  if (nanos < 0) throw new Error('cannot encode google.protobuf.Timestamp to JSON: nanos must not be negative');
  if (nanos === 0) return 'Z"';
  const digits = String(nanos + 1_000_000_000).substring(1);
  if (digits.substring(3) === '000000') return `.${digits.substring(0, 3)}Z"`;
  if (digits.substring(6) === '000') return `.${digits.substring(0, 6)}Z"`;
  return `.${digits}Z"`;
}

/**
 * One rendering remembered per timestamp field, in two parts: a flush
 * stamps every stat with the same time, and the start and end times of a
 * flush's tracks mostly fall in the same few seconds, with nanos that differ.
 */
class TimestampCache {
  private seconds = NaN;
  private nanos = NaN;
  private prefix = '';
  private suffix = '';

  /** Writes the Timestamp's JSON; throws, as the library does, for one that has none. */
  write(ts: Timestamp): void {
    if (ts.seconds !== this.seconds) {
      this.prefix = datePrefix(ts.seconds);
      this.seconds = ts.seconds;
    }
    if (ts.nanos !== this.nanos) {
      this.suffix = fraction(ts.nanos);
      this.nanos = ts.nanos;
    }
    ascii(this.prefix);
    ascii(this.suffix);
  }
}

const timeStampCache = new TimestampCache();
const startTimeCache = new TimestampCache();
const endTimeCache = new TimestampCache();

/*
 * The line is written byte by byte into the caller's buffer: building it as
 * a string first (a rope of ~100 pieces, flattened, then UTF-8 encoded by
 * Buffer#write) cost more than the rendering itself (bench/README.md,
 * 2026-11-27 night). Keys, numbers and the cached renderings are ASCII and
 * are copied a character at a time; strings too, while they are printable
 * ASCII without `"` or `\\`, else JSON.stringify writes them.
 */

const EMPTY = Buffer.alloc(0);
const OPEN = 0x7b; // {
const COMMA = 0x2c;
const CLOSE = 0x7d; // }
const QUOTE = 0x22;

let buf: Buffer = EMPTY;
let pos = 0;

/** Room for `n` more bytes, or OUT_OF_ROOM thrown: nothing is written past the buffer's end. */
function room(n: number): void {
  if (pos + n > buf.length) throw OUT_OF_ROOM;
}

/** A string known to be ASCII: a key, a number, a cached rendering. */
function ascii(s: string): void {
  const n = s.length;
  room(n);
  // locals: the module's `buf` and `pos` would be reloaded from the context on every byte
  const b = buf;
  const p = pos;
  for (let i = 0; i < n; i++) b[p + i] = s.charCodeAt(i);
  pos = p + n;
}

/** `{` before an object's first field, `,` before the others, then the quoted key and its colon. */
function key(sep: number, k: string): void {
  room(1);
  buf[pos++] = sep;
  ascii(k);
}

/** Ends an object: `}`, or `{}` when no field was written. */
function close(sep: number): void {
  if (sep === OPEN) {
    room(2);
    buf[pos++] = OPEN;
  } else room(1);
  buf[pos++] = CLOSE;
}

/** A non-negative integer below 2^53, in decimal. */
function digits(v: number): void {
  let n = 1;
  for (let x = v; x >= 10; x = Math.floor(x / 10)) n++;
  room(n);
  const b = buf;
  let i = pos + n;
  pos = i;
  do {
    const q = Math.floor(v / 10);
    b[--i] = 48 + (v - q * 10);
    v = q;
  } while (v > 0);
}

/** int32/uint32 as JSON.stringify writes the number. */
function int32(v: number): void {
  if (v >= 0 && v < TWO_53 && Math.floor(v) === v) digits(v);
  else ascii(int32Json(v));
}

/** A 64-bit field: protobuf-es holds BigInt(Math.trunc(v)) (to-livekit.ts) and writes its decimal string. */
function int64(t: number): void {
  room(1);
  buf[pos++] = QUOTE;
  if (t >= 0 && t < TWO_53) digits(t);
  else ascii(int64Digits(t));
  room(1);
  buf[pos++] = QUOTE;
}

/** A string, quoted and escaped as JSON.stringify does. */
function string(s: string): void {
  const n = s.length;
  room(n + 2);
  const b = buf;
  let p = pos;
  b[p++] = QUOTE;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    // control characters, `"` and `\\` are escaped; past ASCII the UTF-8 differs from the code unit
    if (c < 0x20 || c === QUOTE || c === 0x5c || c > 0x7e) return escaped(s);
    b[p++] = c;
  }
  b[p++] = QUOTE;
  pos = p;
}

function escaped(s: string): void {
  const json = JSON.stringify(s);
  // JSON.stringify escaped every lone surrogate, so each UTF-16 unit is at most 3 UTF-8 bytes
  if (pos + json.length * 3 > buf.length && pos + Buffer.byteLength(json, 'utf8') > buf.length) throw OUT_OF_ROOM;
  pos += buf.write(json, pos, 'utf8');
}

function layer(l: AnalyticsVideoLayer): void {
  let sep = OPEN;
  if (l.layer !== 0) {
    key(sep, '"layer":');
    int32(l.layer);
    sep = COMMA;
  }
  if (l.packets !== 0) {
    key(sep, '"packets":');
    int32(l.packets);
    sep = COMMA;
  }
  const bytes = Math.trunc(l.bytes);
  if (bytes !== 0) {
    key(sep, '"bytes":');
    int64(bytes);
    sep = COMMA;
  }
  if (l.frames !== 0) {
    key(sep, '"frames":');
    int32(l.frames);
    sep = COMMA;
  }
  close(sep);
}

/** A counter field of a stream: written unless zero; returns the separator for the next field. */
function counter(sep: number, k: string, v: number): number {
  if (v === 0) return sep;
  key(sep, k);
  int32(v);
  return COMMA;
}

/** A 64-bit byte counter of a stream (truncated first, as to-livekit.ts does). */
function bytes64(sep: number, k: string, v: number): number {
  const t = Math.trunc(v);
  if (t === 0) return sep;
  key(sep, k);
  int64(t);
  return COMMA;
}

function stream(s: AnalyticsStream): void {
  let sep = OPEN;
  sep = counter(sep, '"ssrc":', s.ssrc);
  sep = counter(sep, '"primaryPackets":', s.primaryPackets);
  sep = bytes64(sep, '"primaryBytes":', s.primaryBytes);
  sep = counter(sep, '"retransmitPackets":', s.retransmitPackets);
  sep = bytes64(sep, '"retransmitBytes":', s.retransmitBytes);
  sep = counter(sep, '"paddingPackets":', s.paddingPackets);
  sep = bytes64(sep, '"paddingBytes":', s.paddingBytes);
  sep = counter(sep, '"packetsLost":', s.packetsLost);
  sep = counter(sep, '"frames":', s.frames);
  sep = counter(sep, '"rtt":', s.rtt);
  sep = counter(sep, '"jitter":', s.jitter);
  sep = counter(sep, '"nacks":', s.nacks);
  sep = counter(sep, '"plis":', s.plis);
  sep = counter(sep, '"firs":', s.firs);
  const layers = s.videoLayers;
  if (layers.length > 0) {
    key(sep, '"videoLayers":[');
    layer(layers[0]!);
    for (let i = 1; i < layers.length; i++) {
      room(1);
      buf[pos++] = COMMA;
      layer(layers[i]!);
    }
    room(1);
    buf[pos++] = 0x5d; // ]
    sep = COMMA;
  }
  if (s.startTime) {
    key(sep, '"startTime":');
    startTimeCache.write(s.startTime);
    sep = COMMA;
  }
  if (s.endTime) {
    key(sep, '"endTime":');
    endTimeCache.write(s.endTime);
    sep = COMMA;
  }
  sep = counter(sep, '"packetsOutOfOrder":', s.packetsOutOfOrder);
  close(sep);
}

/** A string field of the stat: written unless empty. */
function text(sep: number, k: string, v: string): number {
  if (v === '') return sep;
  key(sep, k);
  string(v);
  return COMMA;
}

/** A float field of the stat: written unless zero. */
function score(sep: number, k: string, v: number): number {
  if (v === 0) return sep;
  key(sep, k);
  ascii(float(v));
  return COMMA;
}

/** The stat's protobuf-JSON, as `toLivekitStat(stat).toJsonString()`. */
function stat(s: AnalyticsStat): void {
  let sep = OPEN;
  sep = text(sep, '"analyticsKey":', s.analyticsKey);
  if (s.kind !== 0) {
    key(sep, '"kind":');
    // StreamType by name; protobuf-es writes a number it has no name for as that number
    if (s.kind === 1) ascii('"DOWNSTREAM"');
    else int32(s.kind);
    sep = COMMA;
  }
  if (s.timeStamp) {
    key(sep, '"timeStamp":');
    timeStampCache.write(s.timeStamp);
    sep = COMMA;
  }
  sep = text(sep, '"node":', s.node);
  sep = text(sep, '"roomId":', s.roomId);
  sep = text(sep, '"roomName":', s.roomName);
  sep = text(sep, '"participantId":', s.participantId);
  sep = text(sep, '"trackId":', s.trackId);
  sep = score(sep, '"score":', s.score);
  const streams = s.streams;
  if (streams.length > 0) {
    key(sep, '"streams":[');
    stream(streams[0]!);
    for (let i = 1; i < streams.length; i++) {
      room(1);
      buf[pos++] = COMMA;
      stream(streams[i]!);
    }
    room(1);
    buf[pos++] = 0x5d; // ]
    sep = COMMA;
  }
  sep = text(sep, '"mime":', s.mime);
  sep = score(sep, '"minScore":', s.minScore);
  sep = score(sep, '"medianScore":', s.medianScore);
  sep = text(sep, '"id":', s.id);
  close(sep);
}

/**
 * Writes one NDJSON line (the stat's protobuf-JSON and `\n`) as UTF-8 into
 * `into` from `at`, and returns its length; or NO_ROOM when it does not fit before the end of `into`. Nothing before
 * `at` is touched.
 */
export function encodeNdjsonLineInto(s: AnalyticsStat, into: Buffer, at: number): number {
  buf = into;
  pos = at;
  try {
    stat(s);
    room(1);
    buf[pos++] = 0x0a;
    return pos - at;
  } catch (err) {
    if (err === OUT_OF_ROOM) return NO_ROOM;
    throw err;
  } finally {
    // the batch buffer is the delivery queue's: not kept alive from here
    buf = EMPTY;
  }
}
