/**
 * Hand-written decoders for the hot requests, SessionRequest and
 * TrackStatsRequest: bytes straight to the core's shapes (numbers, not Long
 * objects; uint64 through u64ToNumber so the validity check stays exact),
 * with no intermediate protobufjs message and no toObject pass. Profiling
 * the ingest bench showed protobufjs decode + toObject + from-wire taking
 * about half the sidecar's CPU (README, Performance).
 *
 * The result equals what proto-loader (LOADER_OPTIONS) and test/helpers/from-wire.ts give
 * for the same bytes, quirks included (fields dispatched by number whatever
 * their wire type, the last of several oneof members named in `request`,
 * a repeated sub-message replacing rather than merging); the reader is a
 * port of protobufjs's. Malformed bytes throw, as protobufjs does; the server
 * turns that into a MalformedMessage.
 */
import {
  u64ToNumber,
  type AnalyticsVideoLayer,
  type StatSample,
  type StreamSample,
  type Timestamp,
} from '../core/analytics.js';
import type { ActivateRequest__Output } from '../generated/telemetry/sidecar/v1/ActivateRequest.js';
import type { FlushRequest__Output } from '../generated/telemetry/sidecar/v1/FlushRequest.js';
import type { Hello__Output } from '../generated/telemetry/sidecar/v1/Hello.js';
import type { ReleaseRequest__Output } from '../generated/telemetry/sidecar/v1/ReleaseRequest.js';
import type { SessionRequest__Output } from '../generated/telemetry/sidecar/v1/SessionRequest.js';
import { ProtoReader, stringCache, type StringCache } from './proto-reader.js';

/** A TrackStat as received: ids not yet validated, the stat already in the core's shape. */
export interface DecodedTrackStat {
  roomId: string;
  participantId: string;
  trackId: string;
  kind: number;
  stat: StatSample | null;
  country: string;
  trackSource: number;
  trackType: number;
}

export interface DecodedTrackStats {
  stats: DecodedTrackStat[];
}

/**
 * SessionRequest as proto-loader gives it, but `seq` is a number (a decimal
 * string beyond 2^53) instead of a Long: it is only echoed back, and the
 * response serializer takes either.
 */
export type DecodedSessionRequest = Omit<SessionRequest__Output, 'seq' | 'stats'> & {
  seq: number | string;
  stats?: DecodedTrackStats | null;
};

/** uint64 halves to a number when exact, else its decimal string. */
function u64Seq(lo: number, hi: number): number | string {
  return hi < 0x200000 ? hi * 2 ** 32 + lo : ((BigInt(hi) << 32n) | BigInt(lo)).toString();
}

/** Ids and mime types repeat from one stat to the next within a request. */
interface Caches {
  room: StringCache;
  participant: StringCache;
  mime: StringCache;
}

function timestamp(r: ProtoReader, length: number, n: number): Timestamp {
  const outer = r.enter(length);
  let seconds = 0;
  let nanos = 0;
  while (r.pos < r.len) {
    const t = r.uint32();
    switch (t >>> 3) {
      case 1:
        r.long();
        // int64 as from-wire's i64 reads a Long: signed high half
        seconds = (r.hi | 0) * 2 ** 32 + (r.lo >>> 0);
        break;
      case 2:
        nanos = r.int32();
        break;
      default:
        r.skipType(t & 7, n);
    }
  }
  r.leave(outer);
  return { seconds, nanos };
}

/** A Timestamp whose value is not needed (AnalyticsStat.time_stamp): decoded for its errors only. */
function skipTimestamp(r: ProtoReader, length: number, n: number): void {
  timestamp(r, length, n);
}

function videoLayer(r: ProtoReader, length: number, n: number): AnalyticsVideoLayer {
  const outer = r.enter(length);
  let layer = 0;
  let packets = 0;
  let bytes = 0;
  let frames = 0;
  while (r.pos < r.len) {
    const t = r.uint32();
    switch (t >>> 3) {
      case 1:
        layer = r.int32();
        break;
      case 2:
        packets = r.uint32();
        break;
      case 3:
        r.long();
        bytes = u64ToNumber(r.hi, r.lo);
        break;
      case 4:
        frames = r.uint32();
        break;
      default:
        r.skipType(t & 7, n);
    }
  }
  r.leave(outer);
  return { layer, packets, bytes, frames };
}

function analyticsStream(r: ProtoReader, length: number, n: number): StreamSample {
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
  const videoLayers: AnalyticsVideoLayer[] = [];
  let startTime: Timestamp | null = null;
  let endTime: Timestamp | null = null;
  let packetsOutOfOrder = 0;
  while (r.pos < r.len) {
    const t = r.uint32();
    switch (t >>> 3) {
      case 1:
        ssrc = r.uint32();
        break;
      case 2:
        primaryPackets = r.uint32();
        break;
      case 3:
        r.long();
        primaryBytes = u64ToNumber(r.hi, r.lo);
        break;
      case 4:
        retransmitPackets = r.uint32();
        break;
      case 5:
        r.long();
        retransmitBytes = u64ToNumber(r.hi, r.lo);
        break;
      case 6:
        paddingPackets = r.uint32();
        break;
      case 7:
        r.long();
        paddingBytes = u64ToNumber(r.hi, r.lo);
        break;
      case 8:
        packetsLost = r.uint32();
        break;
      case 9:
        frames = r.uint32();
        break;
      case 10:
        rtt = r.uint32();
        break;
      case 11:
        jitter = r.uint32();
        break;
      case 12:
        nacks = r.uint32();
        break;
      case 13:
        plis = r.uint32();
        break;
      case 14:
        firs = r.uint32();
        break;
      case 15:
        videoLayers.push(videoLayer(r, r.uint32(), n + 1));
        break;
      case 17:
        startTime = timestamp(r, r.uint32(), n + 1);
        break;
      case 18:
        endTime = timestamp(r, r.uint32(), n + 1);
        break;
      case 19:
        packetsOutOfOrder = r.uint32();
        break;
      default:
        r.skipType(t & 7, n);
    }
  }
  r.leave(outer);
  // the key order of from-wire's toStream, so both paths give objects of one shape
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
    videoLayers,
    startTime,
    endTime,
    packetsOutOfOrder,
  };
}

/** AnalyticsStat to the fields coalescing reads; the others are read past with the same checks. */
function analyticsStat(r: ProtoReader, length: number, caches: Caches, n: number): StatSample {
  const outer = r.enter(length);
  let score = 0;
  let mime = '';
  const streams: StreamSample[] = [];
  while (r.pos < r.len) {
    const t = r.uint32();
    switch (t >>> 3) {
      case 1: // analytics_key
      case 4: // node
      case 5: // room_id
      case 6: // room_name
      case 7: // participant_id
      case 8: // track_id
      case 14: // id
        r.skipString();
        break;
      case 2: // kind
        r.uint32();
        break;
      case 3:
        skipTimestamp(r, r.uint32(), n + 1);
        break;
      case 9:
        score = r.float();
        break;
      case 10:
        streams.push(analyticsStream(r, r.uint32(), n + 1));
        break;
      case 11:
        mime = r.stringLike(caches.mime);
        break;
      case 12: // min_score
      case 13: // median_score
        r.float();
        break;
      default:
        r.skipType(t & 7, n);
    }
  }
  r.leave(outer);
  return { score, mime, streams };
}

function trackStat(r: ProtoReader, length: number, caches: Caches, n: number): DecodedTrackStat {
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
    const t = r.uint32();
    switch (t >>> 3) {
      case 1:
        roomId = r.stringLike(caches.room);
        break;
      case 2:
        participantId = r.stringLike(caches.participant);
        break;
      case 3:
        trackId = r.string();
        break;
      case 4:
        kind = r.int32();
        break;
      case 5:
        stat = analyticsStat(r, r.uint32(), caches, n + 1);
        break;
      case 6:
        country = r.string();
        break;
      case 7:
        trackSource = r.int32();
        break;
      case 8:
        trackType = r.int32();
        break;
      default:
        r.skipType(t & 7, n);
    }
  }
  r.leave(outer);
  return { roomId, participantId, trackId, kind, stat, country, trackSource, trackType };
}

function trackStatsBody(r: ProtoReader, n: number): DecodedTrackStats {
  const caches: Caches = { room: stringCache(), participant: stringCache(), mime: stringCache() };
  const stats: DecodedTrackStat[] = [];
  while (r.pos < r.len) {
    const t = r.uint32();
    if (t >>> 3 === 1) stats.push(trackStat(r, r.uint32(), caches, n + 1));
    else r.skipType(t & 7, n);
  }
  return { stats };
}

function trackStatsRequest(r: ProtoReader, length: number): DecodedTrackStats {
  const outer = r.enter(length);
  const out = trackStatsBody(r, 1);
  r.leave(outer);
  return out;
}

function hello(r: ProtoReader, length: number): Hello__Output {
  const outer = r.enter(length);
  let clientId = '';
  while (r.pos < r.len) {
    const t = r.uint32();
    if (t >>> 3 === 1) clientId = r.string();
    else r.skipType(t & 7, 1);
  }
  r.leave(outer);
  return { clientId };
}

function activateRequest(r: ProtoReader, length: number): ActivateRequest__Output {
  const outer = r.enter(length);
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
      case 1:
        m.roomId = r.string();
        break;
      case 2:
        m.roomName = r.string();
        break;
      case 3:
        m.participantId = r.string();
        break;
      case 4:
        m.participantIdentity = r.string();
        break;
      case 5:
        m.guardId = r.string();
        break;
      case 6:
        m.connected = r.bool();
        break;
      default:
        r.skipType(t & 7, 1);
    }
  }
  r.leave(outer);
  return m;
}

function releaseRequest(r: ProtoReader, length: number): ReleaseRequest__Output {
  const outer = r.enter(length);
  const m: ReleaseRequest__Output = { roomId: '', participantId: '', guardId: '' };
  while (r.pos < r.len) {
    const t = r.uint32();
    switch (t >>> 3) {
      case 1:
        m.roomId = r.string();
        break;
      case 2:
        m.participantId = r.string();
        break;
      case 3:
        m.guardId = r.string();
        break;
      default:
        r.skipType(t & 7, 1);
    }
  }
  r.leave(outer);
  return m;
}

function flushRequest(r: ProtoReader, length: number): FlushRequest__Output {
  const outer = r.enter(length);
  let waitDelivered = false;
  while (r.pos < r.len) {
    const t = r.uint32();
    if (t >>> 3 === 1) waitDelivered = r.bool();
    else r.skipType(t & 7, 1);
  }
  r.leave(outer);
  return { waitDelivered };
}

/** A TrackStatsRequest message (the unary TrackStats RPC). Throws on malformed bytes. */
export function decodeTrackStatsRequest(buf: Buffer): DecodedTrackStats {
  return trackStatsBody(new ProtoReader(buf), 0);
}

/** A SessionRequest message. Throws on malformed bytes. */
export function decodeSessionRequest(buf: Buffer): DecodedSessionRequest {
  const r = new ProtoReader(buf);
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
      case 1:
        r.long();
        lo = r.lo;
        hi = r.hi;
        break;
      case 2:
        helloMsg = hello(r, r.uint32());
        break;
      case 3:
        activate = activateRequest(r, r.uint32());
        break;
      case 4:
        release = releaseRequest(r, r.uint32());
        break;
      case 5:
        stats = trackStatsRequest(r, r.uint32());
        break;
      case 6:
        flush = flushRequest(r, r.uint32());
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
