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

const TWO_53 = 2 ** 53;
/** 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z in Unix milliseconds: protobuf-es's Timestamp JSON range. */
const MIN_TIMESTAMP_MS = -62135596800000;
const MAX_TIMESTAMP_MS = 253402300799000;
const SECONDS_PER_DAY = 86_400;

/** int32/uint32: JSON.stringify of the number. */
function int32(v: number): string {
  return Number.isFinite(v) ? String(v) : 'null';
}

let lastFloat = 0;
let lastFloatJson = '0';

/**
 * float/double: a number, or the strings protobuf JSON uses for the values
 * JSON lacks. The shortest round-trip spelling of a double is the costly
 * part, and a stat's score, min and median are often the same value.
 */
function float(v: number): string {
  if (v === lastFloat) return lastFloatJson;
  if (!Number.isFinite(v)) return v !== v ? '"NaN"' : v > 0 ? '"Infinity"' : '"-Infinity"';
  lastFloat = v;
  return (lastFloatJson = String(v));
}

/** A 64-bit field: protobuf-es holds BigInt(Math.trunc(v)) (to-livekit.ts) and writes its decimal string. */
function int64(t: number): string {
  // below 2^53 a double prints exactly; above, only BigInt spells out the exact value (NaN throws, as BigInt(NaN) does)
  return t < TWO_53 && t > -TWO_53 ? `"${t}"` : `"${BigInt(t)}"`;
}

const pad2 = (n: number): string => (n < 10 ? `0${n}` : String(n));

function pad4(n: number): string {
  if (n >= 1000) return String(n);
  if (n >= 100) return `0${n}`;
  return n >= 10 ? `00${n}` : `000${n}`;
}

/**
 * What protobuf-es's Timestamp.toJson returns, quoted: `new Date(ms).toISOString()`
 * with its `.000Z` replaced by the nanos. The date is computed with the
 * proleptic Gregorian civil-from-days algorithm (H. Hinnant), as Date does.
 */
function timestamp(ts: Timestamp): string {
  const { seconds, nanos } = ts;
  if (!Number.isInteger(seconds)) throw new RangeError(`cannot encode Timestamp seconds ${seconds}`);
  const ms = seconds * 1000;
  if (ms < MIN_TIMESTAMP_MS || ms > MAX_TIMESTAMP_MS) {
    throw new Error(
      'cannot encode google.protobuf.Timestamp to JSON: must be from 0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z inclusive',
    );
  }
  if (nanos < 0) throw new Error('cannot encode google.protobuf.Timestamp to JSON: nanos must not be negative');
  let z = 'Z';
  if (nanos > 0) {
    const digits = String(nanos + 1_000_000_000).substring(1);
    if (digits.substring(3) === '000000') z = `.${digits.substring(0, 3)}Z`;
    else if (digits.substring(6) === '000') z = `.${digits.substring(0, 6)}Z`;
    else z = `.${digits}Z`;
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
  return `"${pad4(year)}-${pad2(month)}-${pad2(day)}T${pad2(hour)}:${pad2(minute)}:${pad2(second)}${z}"`;
}

/**
 * One rendering remembered per timestamp field: a flush stamps every stat
 * with the same time, and a track's start and end times often repeat.
 */
class TimestampCache {
  private seconds = NaN;
  private nanos = NaN;
  private json = '';

  render(ts: Timestamp): string {
    if (ts.seconds !== this.seconds || ts.nanos !== this.nanos) {
      this.json = timestamp(ts);
      this.seconds = ts.seconds;
      this.nanos = ts.nanos;
    }
    return this.json;
  }
}

const timeStampCache = new TimestampCache();
const startTimeCache = new TimestampCache();
const endTimeCache = new TimestampCache();

/*
 * Objects are built as fields each led by `{` (the first) or `,` (the rest),
 * then `}`: slicing a separator off the built string would copy it.
 */

function layer(l: AnalyticsVideoLayer): string {
  let f = '';
  if (l.layer !== 0) f += (f ? ',"layer":' : '{"layer":') + int32(l.layer);
  if (l.packets !== 0) f += (f ? ',"packets":' : '{"packets":') + int32(l.packets);
  const bytes = Math.trunc(l.bytes);
  if (bytes !== 0) f += (f ? ',"bytes":' : '{"bytes":') + int64(bytes);
  if (l.frames !== 0) f += (f ? ',"frames":' : '{"frames":') + int32(l.frames);
  return f ? `${f}}` : '{}';
}

function stream(s: AnalyticsStream): string {
  let f = '';
  if (s.ssrc !== 0) f += (f ? ',"ssrc":' : '{"ssrc":') + int32(s.ssrc);
  if (s.primaryPackets !== 0) f += (f ? ',"primaryPackets":' : '{"primaryPackets":') + int32(s.primaryPackets);
  let t = Math.trunc(s.primaryBytes);
  if (t !== 0) f += (f ? ',"primaryBytes":' : '{"primaryBytes":') + int64(t);
  if (s.retransmitPackets !== 0)
    f += (f ? ',"retransmitPackets":' : '{"retransmitPackets":') + int32(s.retransmitPackets);
  t = Math.trunc(s.retransmitBytes);
  if (t !== 0) f += (f ? ',"retransmitBytes":' : '{"retransmitBytes":') + int64(t);
  if (s.paddingPackets !== 0) f += (f ? ',"paddingPackets":' : '{"paddingPackets":') + int32(s.paddingPackets);
  t = Math.trunc(s.paddingBytes);
  if (t !== 0) f += (f ? ',"paddingBytes":' : '{"paddingBytes":') + int64(t);
  if (s.packetsLost !== 0) f += (f ? ',"packetsLost":' : '{"packetsLost":') + int32(s.packetsLost);
  if (s.frames !== 0) f += (f ? ',"frames":' : '{"frames":') + int32(s.frames);
  if (s.rtt !== 0) f += (f ? ',"rtt":' : '{"rtt":') + int32(s.rtt);
  if (s.jitter !== 0) f += (f ? ',"jitter":' : '{"jitter":') + int32(s.jitter);
  if (s.nacks !== 0) f += (f ? ',"nacks":' : '{"nacks":') + int32(s.nacks);
  if (s.plis !== 0) f += (f ? ',"plis":' : '{"plis":') + int32(s.plis);
  if (s.firs !== 0) f += (f ? ',"firs":' : '{"firs":') + int32(s.firs);
  const layers = s.videoLayers;
  if (layers.length > 0) {
    let list = layer(layers[0]!);
    for (let i = 1; i < layers.length; i++) list += `,${layer(layers[i]!)}`;
    f += (f ? ',"videoLayers":[' : '{"videoLayers":[') + list + ']';
  }
  if (s.startTime) f += (f ? ',"startTime":' : '{"startTime":') + startTimeCache.render(s.startTime);
  if (s.endTime) f += (f ? ',"endTime":' : '{"endTime":') + endTimeCache.render(s.endTime);
  if (s.packetsOutOfOrder !== 0)
    f += (f ? ',"packetsOutOfOrder":' : '{"packetsOutOfOrder":') + int32(s.packetsOutOfOrder);
  return f ? `${f}}` : '{}';
}

/** StreamType by name; protobuf-es writes a number it has no name for as that number. */
function kind(v: number): string {
  if (v === 1) return '"DOWNSTREAM"';
  return int32(v);
}

/** The stat's protobuf-JSON, as `toLivekitStat(stat).toJsonString()`. */
export function statJson(s: AnalyticsStat): string {
  let f = '';
  if (s.analyticsKey !== '') f += (f ? ',"analyticsKey":' : '{"analyticsKey":') + JSON.stringify(s.analyticsKey);
  if (s.kind !== 0) f += (f ? ',"kind":' : '{"kind":') + kind(s.kind);
  if (s.timeStamp) f += (f ? ',"timeStamp":' : '{"timeStamp":') + timeStampCache.render(s.timeStamp);
  if (s.node !== '') f += (f ? ',"node":' : '{"node":') + JSON.stringify(s.node);
  if (s.roomId !== '') f += (f ? ',"roomId":' : '{"roomId":') + JSON.stringify(s.roomId);
  if (s.roomName !== '') f += (f ? ',"roomName":' : '{"roomName":') + JSON.stringify(s.roomName);
  if (s.participantId !== '') f += (f ? ',"participantId":' : '{"participantId":') + JSON.stringify(s.participantId);
  if (s.trackId !== '') f += (f ? ',"trackId":' : '{"trackId":') + JSON.stringify(s.trackId);
  if (s.score !== 0) f += (f ? ',"score":' : '{"score":') + float(s.score);
  const streams = s.streams;
  if (streams.length > 0) {
    let list = stream(streams[0]!);
    for (let i = 1; i < streams.length; i++) list += `,${stream(streams[i]!)}`;
    f += (f ? ',"streams":[' : '{"streams":[') + list + ']';
  }
  if (s.mime !== '') f += (f ? ',"mime":' : '{"mime":') + JSON.stringify(s.mime);
  if (s.minScore !== 0) f += (f ? ',"minScore":' : '{"minScore":') + float(s.minScore);
  if (s.medianScore !== 0) f += (f ? ',"medianScore":' : '{"medianScore":') + float(s.medianScore);
  if (s.id !== '') f += (f ? ',"id":' : '{"id":') + JSON.stringify(s.id);
  return f ? `${f}}` : '{}';
}

/**
 * Writes one NDJSON line (the stat's JSON and `\n`) as UTF-8 into `into`
 * from `at`, and returns its length; or -1 (the sink contract's NO_ROOM)
 * when it does not fit before the end of `into`. Nothing before `at` is touched.
 */
export function encodeNdjsonLineInto(stat: AnalyticsStat, into: Buffer, at: number): number {
  const line = `${statJson(stat)}\n`;
  const room = into.length - at;
  // JSON.stringify escaped every lone surrogate, so each UTF-16 unit is at most 3 UTF-8 bytes
  if (line.length * 3 > room && Buffer.byteLength(line, 'utf8') > room) return -1;
  return into.write(line, at, 'utf8');
}
