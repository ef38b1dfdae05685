/**
 * Hand-written decoders for every TelemetrySidecar request: bytes straight
 * to the core's shapes (numbers, not Long objects; uint64 through
 * u64ToNumber so the validity check stays exact), with no intermediate
 * protobufjs message and no toObject pass. Profiling the ingest bench showed
 * protobufjs decode + toObject + conversion taking about half the sidecar's
 * CPU (bench/README.md).
 *
 * On valid input within the limits the result equals what proto-loader
 * (LOADER_OPTIONS) gives for the same bytes, quirks included (fields
 * dispatched by number whatever their wire type, the last of several oneof
 * members named in `request`, a repeated singular sub-message replacing
 * rather than merging); the reader is a port of protobufjs's. Where
 * proto-loader would throw, these throw too. They also refuse, as a
 * SidecarError, what proto-loader accepts but the sidecar must not:
 *
 * - a request past a limit of request-limits.ts (RESOURCE_EXHAUSTED),
 *   checked while decoding, so a hostile message is refused after a bounded
 *   read and a bounded allocation;
 * - a string field that is not valid UTF-8 (INVALID_ARGUMENT): proto3
 *   requires UTF-8, and `P\xff` and `P\xfe` must not both become `P\uFFFD`.
 *
 * test/wire/session-decoder.test.ts holds all of this to proto-loader;
 * field numbers come from fields.ts.
 */
import {
  u64ToNumber,
  type AnalyticsVideoLayer,
  type StatSample,
  type StreamSample,
  type Timestamp,
} from '../core/analytics.js';
import { SidecarError } from '../core/errors.js';
import type { ActivateRequest__Output } from '../generated/telemetry/sidecar/v1/ActivateRequest.js';
import type { FlushRequest__Output } from '../generated/telemetry/sidecar/v1/FlushRequest.js';
import type { Hello__Output } from '../generated/telemetry/sidecar/v1/Hello.js';
import type { ListWorkersRequest__Output } from '../generated/telemetry/sidecar/v1/ListWorkersRequest.js';
import type { ReleaseRequest__Output } from '../generated/telemetry/sidecar/v1/ReleaseRequest.js';
import type { SessionRequest__Output } from '../generated/telemetry/sidecar/v1/SessionRequest.js';
import type { TrackStat__Output } from '../generated/telemetry/sidecar/v1/TrackStat.js';
import type { TrackStatsRequest__Output } from '../generated/telemetry/sidecar/v1/TrackStatsRequest.js';
import {
  type ACTIVATE_REQUEST,
  ANALYTICS_STAT,
  ANALYTICS_STREAM,
  type FLUSH_REQUEST,
  type HELLO,
  type LIST_WORKERS_REQUEST,
  type RELEASE_REQUEST,
  type SESSION_REQUEST,
  TIMESTAMP,
  TRACK_STAT,
  type TRACK_STATS_REQUEST,
  VIDEO_LAYER,
} from './fields.js';
import { ProtoReader, stringCache, type StringCache } from './proto-reader.js';
import { REQUEST_LIMITS, type RequestLimits } from './request-limits.js';

/*
 * Field numbers are literals, so each switch compiles to a jump table (reading
 * them from the tables measured 10 % slower); `satisfies` holds every literal
 * to its entry in fields.ts at compile time.
 */
type Ts = typeof TIMESTAMP;
type Layer = typeof VIDEO_LAYER;
type Stream = typeof ANALYTICS_STREAM;
type Stat = typeof ANALYTICS_STAT;
type Track = typeof TRACK_STAT;
type Stats = typeof TRACK_STATS_REQUEST;
type Hi = typeof HELLO;
type Act = typeof ACTIVATE_REQUEST;
type Rel = typeof RELEASE_REQUEST;
type Fl = typeof FLUSH_REQUEST;
type List = typeof LIST_WORKERS_REQUEST;
type Req = typeof SESSION_REQUEST;

/**
 * A TrackStat as received: ids not yet validated, the stat already in the
 * core's shape, `kind` any int32 (proto3 enums are open; validation refuses
 * unknown values).
 */
export type DecodedTrackStat = Omit<TrackStat__Output, 'stat' | 'kind'> & { kind: number; stat: StatSample | null };

export type DecodedTrackStats = Omit<TrackStatsRequest__Output, 'stats'> & { stats: DecodedTrackStat[] };

/**
 * SessionRequest as proto-loader gives it, but `seq` is a number (a decimal
 * string beyond 2^53) instead of a Long: it is only echoed back, and the
 * response serializer takes either.
 */
export type DecodedSessionRequest = Omit<SessionRequest__Output, 'seq' | 'stats'> & {
  seq: Seq;
  stats?: DecodedTrackStats | null;
};

export type Seq = number | string;

/** The drop reason of stats in a request refused by a limit (stats_dropped_total). */
export const REQUEST_LIMIT_REASON = 'request_limit';
/** The drop reason of stats in a request that is not protobuf. */
export const MALFORMED_REASON = 'malformed';

/** uint64 halves to a number when exact, else its decimal string. */
export function u64Seq(lo: number, hi: number): Seq {
  return hi < 0x200000 ? hi * 2 ** 32 + lo : ((BigInt(hi) << 32n) | BigInt(lo)).toString();
}

function overLimit(what: string): SidecarError {
  return new SidecarError('RESOURCE_EXHAUSTED', `${what}: split the request`, REQUEST_LIMIT_REASON);
}

function notUtf8(field: string): never {
  throw new SidecarError('INVALID_ARGUMENT', `${field} is not valid UTF-8`);
}

/** One request's decoding state: what it may still allocate, and the string caches. */
class Context {
  /** Sub-messages this request may still decode. */
  private messagesLeft: number;
  /** Ids and mime types repeat from one stat to the next within a request. */
  readonly room: StringCache = stringCache();
  readonly participant: StringCache = stringCache();
  readonly mime: StringCache = stringCache();
  /**
   * Where a stream's layers and a stat's streams are gathered before they are
   * copied out at their final length: an array grown by push from empty holds
   * room for 17, which made a third of the decoder's garbage (bench/README.md).
   * A layer holds no stream and a stream no stat, so one of each serves the
   * whole request.
   */
  readonly layers: AnalyticsVideoLayer[] = [];
  readonly streams: StreamSample[] = [];

  constructor(readonly limits: RequestLimits) {
    this.messagesLeft = limits.messagesPerRequest;
  }

  /** Counts one nested message (before it is read); refuses the request past the limit. */
  message(): void {
    // the refusal in its own method keeps this one small enough for V8 to inline at every message
    if (--this.messagesLeft < 0) this.tooManyMessages();
  }

  private tooManyMessages(): never {
    throw overLimit(`request holds more than ${this.limits.messagesPerRequest} nested messages`);
  }
}

/** A uint64 field past shortVarint()'s reach. */
function u64(r: ProtoReader): number {
  r.long();
  return u64ToNumber(r.hi, r.lo);
}

/*
 * The hot messages read each field's leading varint (its value, or the length
 * of a string or sub-message) once with shortVarint() before dispatching, for
 * the field numbers in their mask, and fall back to the reader's methods when
 * it gives -1; unknown fields are left to skipType untouched.
 */
// seconds is not read as a short varint first: a time since 1978 takes five bytes (fiveByteVarint below)
const TS_VARINTS = fieldBits(TIMESTAMP.nanos);
const LAYER_VARINTS = fieldBits(VIDEO_LAYER.layer, VIDEO_LAYER.packets, VIDEO_LAYER.bytes, VIDEO_LAYER.frames);
/** Every AnalyticsStream field: numbers, the layers and the two times (a string field, which reads its own length, would have to be left out). */
const STREAM_VARINTS = fieldBits(...Object.values(ANALYTICS_STREAM));
/** AnalyticsStat's kind (read past) and its sub-messages' lengths; its strings read their own lengths. */
const STAT_VARINTS = fieldBits(ANALYTICS_STAT.kind, ANALYTICS_STAT.timeStamp, ANALYTICS_STAT.streams);
/** TrackStat's enums and its stat's length; its strings read their own lengths. */
const TRACK_VARINTS = fieldBits(TRACK_STAT.kind, TRACK_STAT.stat, TRACK_STAT.trackSource, TRACK_STAT.trackType);

/** A mask with the bit of each field number (all below 32). */
function fieldBits(...fields: number[]): number {
  let mask = 0;
  for (const f of fields) mask |= 1 << f;
  return mask;
}

function leading(r: ProtoReader, f: number, mask: number): number {
  return f < 32 && ((mask >>> f) & 1) === 1 ? r.shortVarint() : -1;
}

/**
 * A Timestamp into `out` (a repeated one replaces the earlier, as in
 * proto-loader): the caller decides whether it is a new object or scratch.
 */
function timestamp(r: ProtoReader, ctx: Context, length: number, n: number, out: Timestamp): Timestamp {
  ctx.message();
  const outer = r.enter(length);
  let seconds = 0;
  let nanos = 0;
  while (r.pos < r.len) {
    const t = r.tag();
    const f = t >>> 3;
    const v = leading(r, f, TS_VARINTS);
    switch (f) {
      case 1 satisfies Ts['seconds']:
        if ((seconds = r.fiveByteVarint()) < 0) {
          r.long();
          // int64 as from-wire's i64 reads a Long: signed high half
          seconds = (r.hi | 0) * 2 ** 32 + (r.lo >>> 0);
        }
        break;
      case 2 satisfies Ts['nanos']:
        nanos = v >= 0 ? v : r.int32();
        break;
      default:
        r.skipType(t & 7, n);
    }
  }
  r.leave(outer);
  out.seconds = seconds;
  out.nanos = nanos;
  return out;
}

/** Where the stat's own time_stamp goes: it is read for its malformation checks only, and never kept. */
const IGNORED_TIMESTAMP: Timestamp = { seconds: 0, nanos: 0 };

function videoLayer(r: ProtoReader, ctx: Context, length: number, n: number): AnalyticsVideoLayer {
  ctx.message();
  const outer = r.enter(length);
  let layer = 0;
  let packets = 0;
  let bytes = 0;
  let frames = 0;
  while (r.pos < r.len) {
    const t = r.tag();
    const f = t >>> 3;
    const v = leading(r, f, LAYER_VARINTS);
    switch (f) {
      case 1 satisfies Layer['layer']:
        layer = v >= 0 ? v : r.int32();
        break;
      case 2 satisfies Layer['packets']:
        packets = v >= 0 ? v : r.uint32();
        break;
      case 3 satisfies Layer['bytes']:
        bytes = v >= 0 ? v : u64(r);
        break;
      case 4 satisfies Layer['frames']:
        frames = v >= 0 ? v : r.uint32();
        break;
      default:
        r.skipType(t & 7, n);
    }
  }
  r.leave(outer);
  return { layer, packets, bytes, frames };
}

function analyticsStream(r: ProtoReader, ctx: Context, length: number, n: number): StreamSample {
  ctx.message();
  const outer = r.enter(length);
  let ssrc = 0;
  let primaryPackets = 0;
  let primaryBytes = 0;
  let retransmitPackets = 0;
  let retransmitBytes = 0;
  let paddingPackets = 0;
  let paddingBytes = 0;
  let packetsLost = 0;
  let frames = 0;
  let rtt = 0;
  let jitter = 0;
  let nacks = 0;
  let plis = 0;
  let firs = 0;
  const layers = ctx.layers;
  let layerCount = 0;
  let startTime: Timestamp | null = null;
  let endTime: Timestamp | null = null;
  let packetsOutOfOrder = 0;
  while (r.pos < r.len) {
    const t = r.tag();
    const f = t >>> 3;
    const v = leading(r, f, STREAM_VARINTS);
    switch (f) {
      case 1 satisfies Stream['ssrc']:
        ssrc = v >= 0 ? v : r.uint32();
        break;
      case 2 satisfies Stream['primaryPackets']:
        primaryPackets = v >= 0 ? v : r.uint32();
        break;
      case 3 satisfies Stream['primaryBytes']:
        primaryBytes = v >= 0 ? v : u64(r);
        break;
      case 4 satisfies Stream['retransmitPackets']:
        retransmitPackets = v >= 0 ? v : r.uint32();
        break;
      case 5 satisfies Stream['retransmitBytes']:
        retransmitBytes = v >= 0 ? v : u64(r);
        break;
      case 6 satisfies Stream['paddingPackets']:
        paddingPackets = v >= 0 ? v : r.uint32();
        break;
      case 7 satisfies Stream['paddingBytes']:
        paddingBytes = v >= 0 ? v : u64(r);
        break;
      case 8 satisfies Stream['packetsLost']:
        packetsLost = v >= 0 ? v : r.uint32();
        break;
      case 9 satisfies Stream['frames']:
        frames = v >= 0 ? v : r.uint32();
        break;
      case 10 satisfies Stream['rtt']:
        rtt = v >= 0 ? v : r.uint32();
        break;
      case 11 satisfies Stream['jitter']:
        jitter = v >= 0 ? v : r.uint32();
        break;
      case 12 satisfies Stream['nacks']:
        nacks = v >= 0 ? v : r.uint32();
        break;
      case 13 satisfies Stream['plis']:
        plis = v >= 0 ? v : r.uint32();
        break;
      case 14 satisfies Stream['firs']:
        firs = v >= 0 ? v : r.uint32();
        break;
      case 15 satisfies Stream['videoLayers']:
        if (layerCount === ctx.limits.layersPerStream) {
          throw overLimit(`a stream holds more than ${ctx.limits.layersPerStream} video layers`);
        }
        layers[layerCount++] = videoLayer(r, ctx, v >= 0 ? v : r.uint32(), n + 1);
        break;
      case 17 satisfies Stream['startTime']:
        startTime = timestamp(r, ctx, v >= 0 ? v : r.uint32(), n + 1, { seconds: 0, nanos: 0 });
        break;
      case 18 satisfies Stream['endTime']:
        endTime = timestamp(r, ctx, v >= 0 ? v : r.uint32(), n + 1, { seconds: 0, nanos: 0 });
        break;
      case 19 satisfies Stream['packetsOutOfOrder']:
        packetsOutOfOrder = v >= 0 ? v : r.uint32();
        break;
      default:
        r.skipType(t & 7, n);
    }
  }
  r.leave(outer);
  // the key order of the core's AnalyticsStream, so every stream has one shape
  return {
    ssrc,
    primaryPackets,
    primaryBytes,
    retransmitPackets,
    retransmitBytes,
    paddingPackets,
    paddingBytes,
    packetsLost,
    frames,
    rtt,
    jitter,
    nacks,
    plis,
    firs,
    videoLayers: layers.slice(0, layerCount),
    startTime,
    endTime,
    packetsOutOfOrder,
  };
}

/** AnalyticsStat to the fields coalescing reads; the others (ANALYTICS_STAT_NOT_DECODED) are read past with the same checks. */
function analyticsStat(r: ProtoReader, ctx: Context, length: number, n: number, at: number): StatSample {
  ctx.message();
  const outer = r.enter(length);
  let score = 0;
  let mime = '';
  const streams = ctx.streams;
  let streamCount = 0;
  while (r.pos < r.len) {
    const t = r.tag();
    const f = t >>> 3;
    const v = leading(r, f, STAT_VARINTS);
    switch (f) {
      case 1 satisfies Stat['analyticsKey']:
      case 4 satisfies Stat['node']:
      case 5 satisfies Stat['roomId']:
      case 6 satisfies Stat['roomName']:
      case 7 satisfies Stat['participantId']:
      case 8 satisfies Stat['trackId']:
      case 14 satisfies Stat['id']:
        r.skipString();
        break;
      case 2 satisfies Stat['kind']:
        if (v < 0) r.uint32();
        break;
      case 3 satisfies Stat['timeStamp']:
        timestamp(r, ctx, v >= 0 ? v : r.uint32(), n + 1, IGNORED_TIMESTAMP);
        break;
      case 9 satisfies Stat['score']:
        score = r.float();
        break;
      case 10 satisfies Stat['streams']:
        if (streamCount === ctx.limits.streamsPerStat) {
          throw overLimit(`a stat holds more than ${ctx.limits.streamsPerStat} streams`);
        }
        streams[streamCount++] = analyticsStream(r, ctx, v >= 0 ? v : r.uint32(), n + 1);
        break;
      case 11 satisfies Stat['mime']:
        mime = r.stringLike(ctx.mime) ?? notUtf8(`stats[${at}].stat.mime`);
        break;
      case 12 satisfies Stat['minScore']:
      case 13 satisfies Stat['medianScore']:
        r.float();
        break;
      default:
        r.skipType(t & 7, n);
    }
  }
  r.leave(outer);
  return { score, mime, streams: streams.slice(0, streamCount) };
}

function trackStat(r: ProtoReader, ctx: Context, length: number, n: number, at: number): DecodedTrackStat {
  ctx.message();
  const outer = r.enter(length);
  let roomId = '';
  let participantId = '';
  let trackId = '';
  let kind = 0;
  let stat: StatSample | null = null;
  let country = '';
  let trackSource = 0;
  let trackType = 0;
  while (r.pos < r.len) {
    const t = r.tag();
    const f = t >>> 3;
    const v = leading(r, f, TRACK_VARINTS);
    switch (f) {
      case 1 satisfies Track['roomId']:
        roomId = r.stringLike(ctx.room) ?? notUtf8(`stats[${at}].room_id`);
        break;
      case 2 satisfies Track['participantId']:
        participantId = r.stringLike(ctx.participant) ?? notUtf8(`stats[${at}].participant_id`);
        break;
      case 3 satisfies Track['trackId']:
        trackId = r.string() ?? notUtf8(`stats[${at}].track_id`);
        break;
      case 4 satisfies Track['kind']:
        kind = v >= 0 ? v : r.int32();
        break;
      case 5 satisfies Track['stat']:
        stat = analyticsStat(r, ctx, v >= 0 ? v : r.uint32(), n + 1, at);
        break;
      case 6 satisfies Track['country']:
        country = r.string() ?? notUtf8(`stats[${at}].country`);
        break;
      case 7 satisfies Track['trackSource']:
        trackSource = v >= 0 ? v : r.int32();
        break;
      case 8 satisfies Track['trackType']:
        trackType = v >= 0 ? v : r.int32();
        break;
      default:
        r.skipType(t & 7, n);
    }
  }
  r.leave(outer);
  return { roomId, participantId, trackId, kind, stat, country, trackSource, trackType };
}

/** The body of a TrackStatsRequest, up to r.len. */
function trackStatsBody(r: ProtoReader, ctx: Context, n: number): DecodedTrackStats {
  const stats: DecodedTrackStat[] = [];
  while (r.pos < r.len) {
    const t = r.tag();
    if (t >>> 3 === (1 satisfies Stats['stats'])) {
      if (stats.length === ctx.limits.statsPerRequest) {
        throw overLimit(`request holds more than ${ctx.limits.statsPerRequest} stats`);
      }
      const length = r.shortVarint();
      stats.push(trackStat(r, ctx, length >= 0 ? length : r.uint32(), n + 1, stats.length));
    } else {
      r.skipType(t & 7, n);
    }
  }
  return { stats };
}

function nested<T>(r: ProtoReader, ctx: Context, body: (r: ProtoReader, ctx: Context, n: number) => T): T {
  ctx.message();
  const outer = r.enter(r.uint32());
  const out = body(r, ctx, 1);
  r.leave(outer);
  return out;
}

function helloBody(r: ProtoReader, _ctx: Context, n: number): Hello__Output {
  let clientId = '';
  while (r.pos < r.len) {
    const t = r.uint32();
    if (t >>> 3 === (1 satisfies Hi['clientId'])) clientId = r.string() ?? notUtf8('hello.client_id');
    else r.skipType(t & 7, n);
  }
  return { clientId };
}

function activateBody(r: ProtoReader, _ctx: Context, n: number): ActivateRequest__Output {
  const m: ActivateRequest__Output = {
    roomId: '',
    roomName: '',
    participantId: '',
    participantIdentity: '',
    guardId: '',
    connected: false,
  };
  while (r.pos < r.len) {
    const t = r.uint32();
    switch (t >>> 3) {
      case 1 satisfies Act['roomId']:
        m.roomId = r.string() ?? notUtf8('room_id');
        break;
      case 2 satisfies Act['roomName']:
        m.roomName = r.string() ?? notUtf8('room_name');
        break;
      case 3 satisfies Act['participantId']:
        m.participantId = r.string() ?? notUtf8('participant_id');
        break;
      case 4 satisfies Act['participantIdentity']:
        m.participantIdentity = r.string() ?? notUtf8('participant_identity');
        break;
      case 5 satisfies Act['guardId']:
        m.guardId = r.string() ?? notUtf8('guard_id');
        break;
      case 6 satisfies Act['connected']:
        m.connected = r.bool();
        break;
      default:
        r.skipType(t & 7, n);
    }
  }
  return m;
}

function releaseBody(r: ProtoReader, _ctx: Context, n: number): ReleaseRequest__Output {
  const m: ReleaseRequest__Output = { roomId: '', participantId: '', guardId: '' };
  while (r.pos < r.len) {
    const t = r.uint32();
    switch (t >>> 3) {
      case 1 satisfies Rel['roomId']:
        m.roomId = r.string() ?? notUtf8('room_id');
        break;
      case 2 satisfies Rel['participantId']:
        m.participantId = r.string() ?? notUtf8('participant_id');
        break;
      case 3 satisfies Rel['guardId']:
        m.guardId = r.string() ?? notUtf8('guard_id');
        break;
      default:
        r.skipType(t & 7, n);
    }
  }
  return m;
}

function flushBody(r: ProtoReader, _ctx: Context, n: number): FlushRequest__Output {
  let waitDelivered = false;
  while (r.pos < r.len) {
    const t = r.uint32();
    if (t >>> 3 === (1 satisfies Fl['waitDelivered'])) waitDelivered = r.bool();
    else r.skipType(t & 7, n);
  }
  return { waitDelivered };
}

function listWorkersBody(r: ProtoReader, _ctx: Context, n: number): ListWorkersRequest__Output {
  let roomId = '';
  while (r.pos < r.len) {
    const t = r.uint32();
    if (t >>> 3 === (1 satisfies List['roomId'])) roomId = r.string() ?? notUtf8('room_id');
    else r.skipType(t & 7, n);
  }
  return { roomId };
}

function sessionBody(r: ProtoReader, ctx: Context): DecodedSessionRequest {
  let lo = 0;
  let hi = 0;
  let helloMsg: Hello__Output | undefined;
  let activate: ActivateRequest__Output | undefined;
  let release: ReleaseRequest__Output | undefined;
  let stats: DecodedTrackStats | undefined;
  let flush: FlushRequest__Output | undefined;
  while (r.pos < r.len) {
    const t = r.uint32();
    switch (t >>> 3) {
      case 1 satisfies Req['seq']:
        r.long();
        lo = r.lo;
        hi = r.hi;
        break;
      case 2 satisfies Req['hello']:
        helloMsg = nested(r, ctx, helloBody);
        break;
      case 3 satisfies Req['activate']:
        activate = nested(r, ctx, activateBody);
        break;
      case 4 satisfies Req['release']:
        release = nested(r, ctx, releaseBody);
        break;
      case 5 satisfies Req['stats']:
        stats = nested(r, ctx, trackStatsBody);
        break;
      case 6 satisfies Req['flush']:
        flush = nested(r, ctx, flushBody);
        break;
      default:
        r.skipType(t & 7, 0);
    }
  }
  const out: DecodedSessionRequest = { seq: u64Seq(lo, hi) };
  // toObject's order: every member present is kept, `request` names the last in declaration order
  if (helloMsg) {
    out.hello = helloMsg;
    out.request = 'hello';
  }
  if (activate) {
    out.activate = activate;
    out.request = 'activate';
  }
  if (release) {
    out.release = release;
    out.request = 'release';
  }
  if (stats) {
    out.stats = stats;
    out.request = 'stats';
  }
  if (flush) {
    out.flush = flush;
    out.request = 'flush';
  }
  return out;
}

/**
 * Decodes a whole request message: the size limit first, then the body;
 * anything the reader throws (bytes that are not protobuf) becomes INVALID_ARGUMENT.
 */
function decodeMessage<T>(
  what: string,
  buf: Buffer,
  limits: RequestLimits,
  body: (r: ProtoReader, ctx: Context, n: number) => T,
): T {
  if (buf.length > limits.messageBytes) {
    throw new SidecarError(
      'RESOURCE_EXHAUSTED',
      `${what} of ${buf.length} bytes is over the ${limits.messageBytes}-byte message size limit`,
      REQUEST_LIMIT_REASON,
    );
  }
  try {
    return body(new ProtoReader(buf), new Context(limits), 0);
  } catch (err) {
    if (err instanceof SidecarError) throw err;
    throw new SidecarError('INVALID_ARGUMENT', `malformed ${what}: ${(err as Error).message}`, MALFORMED_REASON);
  }
}

/** A SessionRequest message. Throws a SidecarError on refusal. */
export function decodeSessionRequest(buf: Buffer, limits = REQUEST_LIMITS): DecodedSessionRequest {
  return decodeMessage('SessionRequest', buf, limits, sessionBody);
}

/** A TrackStatsRequest message (the unary TrackStats RPC). Throws a SidecarError on refusal. */
export function decodeTrackStatsRequest(buf: Buffer, limits = REQUEST_LIMITS): DecodedTrackStats {
  return decodeMessage('TrackStatsRequest', buf, limits, trackStatsBody);
}

export function decodeActivateRequest(buf: Buffer, limits = REQUEST_LIMITS): ActivateRequest__Output {
  return decodeMessage('ActivateRequest', buf, limits, activateBody);
}

export function decodeReleaseRequest(buf: Buffer, limits = REQUEST_LIMITS): ReleaseRequest__Output {
  return decodeMessage('ReleaseRequest', buf, limits, releaseBody);
}

export function decodeFlushRequest(buf: Buffer, limits = REQUEST_LIMITS): FlushRequest__Output {
  return decodeMessage('FlushRequest', buf, limits, flushBody);
}

export function decodeListWorkersRequest(buf: Buffer, limits = REQUEST_LIMITS): ListWorkersRequest__Output {
  return decodeMessage('ListWorkersRequest', buf, limits, listWorkersBody);
}
