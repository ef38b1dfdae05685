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
 * The date and time up to the seconds, remembered per timestamp field: a
 * flush stamps every stat with the same time, and the start and end times of
 * a flush's tracks mostly fall in the same few seconds. Their nanos differ,
 * and are written as digits.
 */
class TimestampCache {
  private seconds = NaN;
  private prefix = '';

  /** Writes the Timestamp's JSON; throws, as the library does, for one that has none. */
  write(ts: Timestamp): void {
    if (ts.seconds !== this.seconds) {
      this.prefix = datePrefix(ts.seconds);
      this.seconds = ts.seconds;
    }
    ascii(this.prefix);
    const nanos = ts.nanos;
    if (nanos > 0 && nanos < 1_000_000_000 && Math.floor(nanos) === nanos) fractionDigits(nanos);
    else ascii(fraction(nanos));
  }
}

/** What `fraction` returns for whole nanos in (0, 10^9), written as digits: `.`, 3, 6 or 9 of them, `Z"`. */
function fractionDigits(nanos: number): void {
  let x = nanos;
  let n = 9;
  if (x % 1_000_000 === 0) {
    x /= 1_000_000;
    n = 3;
  } else if (x % 1000 === 0) {
    x /= 1000;
    n = 6;
  }
  room(n + 3);
  const b = buf;
  const end = pos + 1 + n;
  b[pos] = 0x2e; // .
  for (let i = end; i > pos + 1;) {
    const q = Math.floor(x / 10);
    b[--i] = 48 + x - q * 10;
    x = q;
  }
  b[end] = 0x5a; // Z
  b[end + 1] = QUOTE;
  pos = end + 2;
}

const timeStampCache = new TimestampCache();
const startTimeCache = new TimestampCache();
const endTimeCache = new TimestampCache();

/*
 * The line is written byte by byte into the caller's buffer: building it as
 * a string first (a rope of ~100 pieces, flattened, then UTF-8 encoded by
 * Buffer#write) cost more than the rendering itself (bench/README.md,
 * 2026-11-27 night). Keys are bytes made once, each with the comma before
 * it: an object's fields are all written as `,"key":value` and its first
 * comma becomes the `{` when the object is closed, so no field needs to know
 * whether one came before it. Numbers and the cached renderings are ASCII
 * and copied a character at a time; strings too, while they are printable
 * ASCII without `"` or `\\`, else JSON.stringify writes them.
 */

const EMPTY = Buffer.alloc(0);
const OPEN = 0x7b; // {
const COMMA = 0x2c;
const CLOSE = 0x7d; // }
const QUOTE = 0x22;
const OPEN_LIST = 0x5b; // [
const CLOSE_LIST = 0x5d; // ]
const TWO_31 = 2 ** 31;

let buf: Buffer = EMPTY;
let pos = 0;

/** Room for `n` more bytes, or OUT_OF_ROOM thrown: nothing is written past the buffer's end. */
function room(n: number): void {
  if (pos + n > buf.length) throw OUT_OF_ROOM;
}

/** A key as it is written: `,"name":`, in bytes. */
const field = (name: string): Uint8Array => Buffer.from(`,"${name}":`, 'latin1');

/** A key, with the comma before it. */
function key(k: Uint8Array): void {
  const n = k.length;
  room(n);
  // locals: the module's `buf` and `pos` would be reloaded from the context on every byte
  const b = buf;
  const p = pos;
  for (let i = 0; i < n; i++) b[p + i] = k[i]!;
  pos = p + n;
}

/** A string known to be ASCII: a number, a cached rendering. */
function ascii(s: string): void {
  const n = s.length;
  room(n);
  const b = buf;
  const p = pos;
  for (let i = 0; i < n; i++) b[p + i] = s.charCodeAt(i);
  pos = p + n;
}

/** One byte. */
function byte(c: number): void {
  room(1);
  buf[pos++] = c;
}

/**
 * Starts an object whose fields are written with a comma before each:
 * returns where its first comma goes, for `close`.
 */
function open(): number {
  return pos;
}

/** Ends an object started at `start`: its first comma becomes `{`, or `{}` when no field was written. */
function close(start: number): void {
  if (pos === start) {
    room(2);
    buf[pos++] = OPEN;
  } else {
    room(1);
    buf[start] = OPEN;
  }
  buf[pos++] = CLOSE;
}

/** A non-negative integer below 2^53, in decimal. */
function digits(v: number): void {
  if (v >= TWO_31) return ascii(String(v));
  // below 2^31 the arithmetic stays in int32 and the division by 10 is a multiplication
  let x = v | 0;
  let n = 1;
  for (let p = 10; p <= x; p *= 10) n++;
  room(n);
  const b = buf;
  let i = pos + n;
  pos = i;
  do {
    const q = (x / 10) | 0;
    b[--i] = 48 + x - q * 10;
    x = q;
  } while (x > 0);
}

/** int32/uint32 as JSON.stringify writes the number. */
function int32(v: number): void {
  if (v >= 0 && v < TWO_53 && Math.floor(v) === v) digits(v);
  else ascii(int32Json(v));
}

/** A 64-bit field: protobuf-es holds BigInt(Math.trunc(v)) (to-livekit.ts) and writes its decimal string. */
function int64(t: number): void {
  byte(QUOTE);
  if (t >= 0 && t < TWO_53) digits(t);
  else ascii(int64Digits(t));
  byte(QUOTE);
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

/** An int32/uint32 field: written unless zero. */
function counter(k: Uint8Array, v: number): void {
  if (v === 0) return;
  key(k);
  int32(v);
}

/** A 64-bit byte counter (truncated first, as to-livekit.ts does): written unless zero. */
function bytes64(k: Uint8Array, v: number): void {
  const t = Math.trunc(v);
  if (t === 0) return;
  key(k);
  int64(t);
}

/** A string field: written unless empty. */
function text(k: Uint8Array, v: string): void {
  if (v === '') return;
  key(k);
  string(v);
}

/** A float field: written unless zero. */
function score(k: Uint8Array, v: number): void {
  if (v === 0) return;
  key(k);
  ascii(float(v));
}

const LAYER = field('layer');
const PACKETS = field('packets');
const BYTES = field('bytes');
const FRAMES = field('frames');

function layer(l: AnalyticsVideoLayer): void {
  const start = open();
  counter(LAYER, l.layer);
  counter(PACKETS, l.packets);
  bytes64(BYTES, l.bytes);
  counter(FRAMES, l.frames);
  close(start);
}

const SSRC = field('ssrc');
const PRIMARY_PACKETS = field('primaryPackets');
const PRIMARY_BYTES = field('primaryBytes');
const RETRANSMIT_PACKETS = field('retransmitPackets');
const RETRANSMIT_BYTES = field('retransmitBytes');
const PADDING_PACKETS = field('paddingPackets');
const PADDING_BYTES = field('paddingBytes');
const PACKETS_LOST = field('packetsLost');
const RTT = field('rtt');
const JITTER = field('jitter');
const NACKS = field('nacks');
const PLIS = field('plis');
const FIRS = field('firs');
const VIDEO_LAYERS = field('videoLayers');
const START_TIME = field('startTime');
const END_TIME = field('endTime');
const PACKETS_OUT_OF_ORDER = field('packetsOutOfOrder');

function stream(s: AnalyticsStream): void {
  const start = open();
  counter(SSRC, s.ssrc);
  counter(PRIMARY_PACKETS, s.primaryPackets);
  bytes64(PRIMARY_BYTES, s.primaryBytes);
  counter(RETRANSMIT_PACKETS, s.retransmitPackets);
  bytes64(RETRANSMIT_BYTES, s.retransmitBytes);
  counter(PADDING_PACKETS, s.paddingPackets);
  bytes64(PADDING_BYTES, s.paddingBytes);
  counter(PACKETS_LOST, s.packetsLost);
  counter(FRAMES, s.frames);
  counter(RTT, s.rtt);
  counter(JITTER, s.jitter);
  counter(NACKS, s.nacks);
  counter(PLIS, s.plis);
  counter(FIRS, s.firs);
  const layers = s.videoLayers;
  if (layers.length > 0) {
    key(VIDEO_LAYERS);
    byte(OPEN_LIST);
    layer(layers[0]!);
    for (let i = 1; i < layers.length; i++) {
      byte(COMMA);
      layer(layers[i]!);
    }
    byte(CLOSE_LIST);
  }
  if (s.startTime) {
    key(START_TIME);
    startTimeCache.write(s.startTime);
  }
  if (s.endTime) {
    key(END_TIME);
    endTimeCache.write(s.endTime);
  }
  counter(PACKETS_OUT_OF_ORDER, s.packetsOutOfOrder);
  close(start);
}

const ANALYTICS_KEY = field('analyticsKey');
const KIND = field('kind');
const TIME_STAMP = field('timeStamp');
const NODE = field('node');
const ROOM_ID = field('roomId');
const ROOM_NAME = field('roomName');
const PARTICIPANT_ID = field('participantId');
const TRACK_ID = field('trackId');
const SCORE = field('score');
const STREAMS = field('streams');
const MIME = field('mime');
const MIN_SCORE = field('minScore');
const MEDIAN_SCORE = field('medianScore');
const ID = field('id');

/** The stat's protobuf-JSON, as `toLivekitStat(stat).toJsonString()`. */
function stat(s: AnalyticsStat): void {
  const start = open();
  text(ANALYTICS_KEY, s.analyticsKey);
  if (s.kind !== 0) {
    key(KIND);
    // StreamType by name; protobuf-es writes a number it has no name for as that number
    if (s.kind === 1) ascii('"DOWNSTREAM"');
    else int32(s.kind);
  }
  if (s.timeStamp) {
    key(TIME_STAMP);
    timeStampCache.write(s.timeStamp);
  }
  text(NODE, s.node);
  text(ROOM_ID, s.roomId);
  text(ROOM_NAME, s.roomName);
  text(PARTICIPANT_ID, s.participantId);
  text(TRACK_ID, s.trackId);
  score(SCORE, s.score);
  const streams = s.streams;
  if (streams.length > 0) {
    key(STREAMS);
    byte(OPEN_LIST);
    stream(streams[0]!);
    for (let i = 1; i < streams.length; i++) {
      byte(COMMA);
      stream(streams[i]!);
    }
    byte(CLOSE_LIST);
  }
  text(MIME, s.mime);
  score(MIN_SCORE, s.minScore);
  score(MEDIAN_SCORE, s.medianScore);
  text(ID, s.id);
  close(start);
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
    byte(0x0a);
    return pos - at;
  } catch (err) {
    if (err === OUT_OF_ROOM) return NO_ROOM;
    throw err;
  } finally {
    // the batch buffer is the delivery queue's: not kept alive from here
    buf = EMPTY;
  }
}
