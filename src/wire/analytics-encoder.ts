/**
 * Binary encoding of coalesced stats for IngestStats, by hand. It runs inside
 * flush slices, once per track and direction: protobufjs (through
 * proto-loader) allocates a writer, an operation object per field and a
 * buffer per stat, which measured ~9 µs per stat alone and ~30 µs under the
 * flush's GC pressure (bench/README.md). This writes straight into the
 * delivery queue's batch buffer (~2 µs), at the offset it is given.
 *
 * Output is canonical proto3, as LiveKit's Go and protobuf-es produce it:
 * fields in number order, zero values and empty strings left out.
 * test/wire/analytics-encoder.test.ts holds it byte for byte against
 * @livekit/protocol's `toBinary`.
 */
import type { AnalyticsStat, AnalyticsStream, AnalyticsVideoLayer, Timestamp } from '../core/analytics.js';
import type { ANALYTICS_STAT, ANALYTICS_STATS, ANALYTICS_STREAM, TIMESTAMP, VIDEO_LAYER } from './fields.js';
import { NO_ROOM, OUT_OF_ROOM } from './room.js';

/* Field numbers are literals (reading them from the tables measured 7 % slower); `satisfies` holds each to fields.ts. */
type Ts = typeof TIMESTAMP;
type Layer = typeof VIDEO_LAYER;
type Stream = typeof ANALYTICS_STREAM;
type Stat = typeof ANALYTICS_STAT;
type Stats = typeof ANALYTICS_STATS;

const VARINT = 0;
const FIXED32 = 5;
const LENGTH = 2;
const TWO_32 = 2 ** 32;

const EMPTY = Buffer.alloc(0);

/** Writes into a buffer it does not own, up to its end. */
class Writer {
  buf: Buffer = EMPTY;
  pos = 0;

  /** Room for `n` more bytes, or OUT_OF_ROOM thrown: nothing is written past the buffer's end. */
  ensure(n: number): void {
    if (this.pos + n > this.buf.length) throw OUT_OF_ROOM;
  }

  tag(field: number, wireType: number): void {
    this.varint32((field << 3) | wireType);
  }

  /** An unsigned 32-bit value (a tag, a length, a uint32 field). */
  varint32(v: number): void {
    this.ensure(5);
    const buf = this.buf;
    let pos = this.pos;
    v >>>= 0;
    while (v > 127) {
      buf[pos++] = (v & 127) | 128;
      v >>>= 7;
    }
    buf[pos++] = v;
    this.pos = pos;
  }

  /** An integral double as a 64-bit two's-complement varint (uint64, int64, and negative int32). */
  varint64(v: number): void {
    let lo = v >>> 0;
    let hi = Math.floor(v / TWO_32) >>> 0;
    this.ensure(10);
    const buf = this.buf;
    let pos = this.pos;
    while (hi !== 0) {
      buf[pos++] = (lo & 127) | 128;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    while (lo > 127) {
      buf[pos++] = (lo & 127) | 128;
      lo >>>= 7;
    }
    buf[pos++] = lo;
    this.pos = pos;
  }

  float(v: number): void {
    this.ensure(4);
    this.buf.writeFloatLE(v, this.pos);
    this.pos += 4;
  }

  string(s: string): void {
    if (s.length * 3 < 128) {
      // at most 3 UTF-8 bytes per UTF-16 unit: the length fits one byte
      this.ensure(1 + s.length * 3);
      const n = this.buf.write(s, this.pos + 1, 'utf8');
      this.buf[this.pos] = n;
      this.pos += 1 + n;
      return;
    }
    const n = Buffer.byteLength(s, 'utf8');
    this.varint32(n);
    this.ensure(n);
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }

  /** Starts a length-delimited field: one byte is reserved for the length, the usual case. */
  begin(field: number): number {
    this.tag(field, LENGTH);
    this.ensure(1);
    return this.pos++;
  }

  /** Ends what `begin` started, moving the body along when its length needs more than one byte. */
  end(at: number): void {
    const length = this.pos - at - 1;
    if (length < 128) {
      this.buf[at] = length;
      return;
    }
    let extra = 0;
    for (let v = length >>> 7; v > 0; v >>>= 7) extra++;
    this.ensure(extra);
    this.buf.copyWithin(at + 1 + extra, at + 1, this.pos);
    const body = this.pos;
    this.pos = at;
    this.varint32(length);
    this.pos = body + extra;
  }
}

function uint(w: Writer, field: number, v: number): void {
  if (v === 0) return;
  w.tag(field, VARINT);
  w.varint32(v);
}

/** int32 (negative values take ten bytes, as in every protobuf runtime), int64 and uint64. */
function int(w: Writer, field: number, v: number): void {
  if (v === 0) return;
  w.tag(field, VARINT);
  if (v > 0 && v < TWO_32) w.varint32(v);
  else w.varint64(v);
}

function float(w: Writer, field: number, v: number): void {
  if (v === 0) return;
  w.tag(field, FIXED32);
  w.float(v);
}

function string(w: Writer, field: number, s: string): void {
  if (s.length === 0) return;
  w.tag(field, LENGTH);
  w.string(s);
}

function timestamp(w: Writer, field: number, ts: Timestamp | null): void {
  if (!ts) return;
  const at = w.begin(field);
  int(w, 1 satisfies Ts['seconds'], ts.seconds);
  int(w, 2 satisfies Ts['nanos'], ts.nanos);
  w.end(at);
}

function layer(w: Writer, l: AnalyticsVideoLayer): void {
  const at = w.begin(15 satisfies Stream['videoLayers']);
  int(w, 1 satisfies Layer['layer'], l.layer);
  uint(w, 2 satisfies Layer['packets'], l.packets);
  int(w, 3 satisfies Layer['bytes'], l.bytes);
  uint(w, 4 satisfies Layer['frames'], l.frames);
  w.end(at);
}

function stream(w: Writer, s: AnalyticsStream): void {
  const at = w.begin(10 satisfies Stat['streams']);
  uint(w, 1 satisfies Stream['ssrc'], s.ssrc);
  uint(w, 2 satisfies Stream['primaryPackets'], s.primaryPackets);
  int(w, 3 satisfies Stream['primaryBytes'], s.primaryBytes);
  uint(w, 4 satisfies Stream['retransmitPackets'], s.retransmitPackets);
  int(w, 5 satisfies Stream['retransmitBytes'], s.retransmitBytes);
  uint(w, 6 satisfies Stream['paddingPackets'], s.paddingPackets);
  int(w, 7 satisfies Stream['paddingBytes'], s.paddingBytes);
  uint(w, 8 satisfies Stream['packetsLost'], s.packetsLost);
  uint(w, 9 satisfies Stream['frames'], s.frames);
  uint(w, 10 satisfies Stream['rtt'], s.rtt);
  uint(w, 11 satisfies Stream['jitter'], s.jitter);
  uint(w, 12 satisfies Stream['nacks'], s.nacks);
  uint(w, 13 satisfies Stream['plis'], s.plis);
  uint(w, 14 satisfies Stream['firs'], s.firs);
  for (const l of s.videoLayers) layer(w, l);
  timestamp(w, 17 satisfies Stream['startTime'], s.startTime);
  timestamp(w, 18 satisfies Stream['endTime'], s.endTime);
  uint(w, 19 satisfies Stream['packetsOutOfOrder'], s.packetsOutOfOrder);
  w.end(at);
}

/** Fields in number order, as canonical encoders write them. */
function stat(w: Writer, s: AnalyticsStat): void {
  string(w, 1 satisfies Stat['analyticsKey'], s.analyticsKey);
  uint(w, 2 satisfies Stat['kind'], s.kind);
  timestamp(w, 3 satisfies Stat['timeStamp'], s.timeStamp);
  string(w, 4 satisfies Stat['node'], s.node);
  string(w, 5 satisfies Stat['roomId'], s.roomId);
  string(w, 6 satisfies Stat['roomName'], s.roomName);
  string(w, 7 satisfies Stat['participantId'], s.participantId);
  string(w, 8 satisfies Stat['trackId'], s.trackId);
  float(w, 9 satisfies Stat['score'], s.score);
  for (const st of s.streams) stream(w, st);
  string(w, 11 satisfies Stat['mime'], s.mime);
  float(w, 12 satisfies Stat['minScore'], s.minScore);
  float(w, 13 satisfies Stat['medianScore'], s.medianScore);
  string(w, 14 satisfies Stat['id'], s.id);
}

const writer = new Writer();

/**
 * Writes `AnalyticsStats{stats: [stat]}` into `into` from `at`: field 1's
 * tag, length and the stat, so concatenated encodings form one
 * AnalyticsStats holding all of them. Returns the bytes written, or NO_ROOM
 * when they may not fit before the end of
 * `into`: near the end it reserves the most a field can take, so it may
 * refuse a stat that would just have fitted. Nothing before `at` is touched.
 */
export function encodeAnalyticsStatsEntryInto(s: AnalyticsStat, into: Buffer, at: number): number {
  writer.buf = into;
  writer.pos = at;
  try {
    const entry = writer.begin(1 satisfies Stats['stats']);
    stat(writer, s);
    writer.end(entry);
    return writer.pos - at;
  } catch (err) {
    if (err === OUT_OF_ROOM) return NO_ROOM;
    throw err;
  } finally {
    // the batch buffer is the delivery queue's: not kept alive from here
    writer.buf = EMPTY;
  }
}
