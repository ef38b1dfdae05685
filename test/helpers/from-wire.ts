/**
 * proto-loader objects (Long for 64-bit fields) to the core's plain-number
 * shapes: the reference the hand decoder (src/wire/session-decoder.ts) is
 * tested against.
 */
import type { Long } from '@grpc/proto-loader';
import {
  u64ToNumber,
  type AnalyticsStream,
  type AnalyticsVideoLayer,
  type StatSample,
  type Timestamp,
} from '../../src/core/analytics.js';
import type { AnalyticsStat__Output } from '../../src/generated/livekit/AnalyticsStat.js';
import type { AnalyticsStream__Output } from '../../src/generated/livekit/AnalyticsStream.js';
import type { Timestamp__Output } from '../../src/generated/google/protobuf/Timestamp.js';

/** uint64 → number with the top bit kept exact (see u64ToNumber). */
export function u64(value: Long | number | string): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string') {
    const big = BigInt(value);
    return u64ToNumber(Number(big >> 32n), Number(big & 0xffffffffn));
  }
  return u64ToNumber(value.high, value.low);
}

/** int64 → number (exact within ±2^53, which covers every Timestamp Go accepts). */
export function i64(value: Long | number | string): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string') return Number(value);
  return value.high * 2 ** 32 + (value.low >>> 0);
}

export function toTimestamp(ts: Timestamp__Output | null | undefined): Timestamp | null {
  return ts ? { seconds: i64(ts.seconds), nanos: ts.nanos } : null;
}

function toStream(s: AnalyticsStream__Output): AnalyticsStream {
  const videoLayers: AnalyticsVideoLayer[] = [];
  for (const l of s.videoLayers) {
    videoLayers.push({ layer: l.layer, packets: l.packets, bytes: u64(l.bytes), frames: l.frames });
  }
  return {
    ssrc: s.ssrc,
    primaryPackets: s.primaryPackets,
    primaryBytes: u64(s.primaryBytes),
    retransmitPackets: s.retransmitPackets,
    retransmitBytes: u64(s.retransmitBytes),
    paddingPackets: s.paddingPackets,
    paddingBytes: u64(s.paddingBytes),
    packetsLost: s.packetsLost,
    frames: s.frames,
    rtt: s.rtt,
    jitter: s.jitter,
    nacks: s.nacks,
    plis: s.plis,
    firs: s.firs,
    videoLayers,
    startTime: toTimestamp(s.startTime),
    endTime: toTimestamp(s.endTime),
    packetsOutOfOrder: s.packetsOutOfOrder,
  };
}

/** The fields of a received AnalyticsStat that coalescing reads. */
export function toStatSample(stat: AnalyticsStat__Output | null): StatSample {
  if (!stat) return { score: 0, mime: '', streams: [] };
  return { score: stat.score, mime: stat.mime, streams: stat.streams.map(toStream) };
}
