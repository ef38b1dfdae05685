/**
 * Domain shapes of livekit.AnalyticsStat and friends, as plain numbers.
 *
 * uint32 fields are numbers in [0, 2^32). uint64 fields are numbers: exact up to
 * 2^53, and decoders map them through `u64ToNumber` so that the validity check
 * (top bit set) stays exact even where a double cannot hold the value.
 */

export const StreamType = { UPSTREAM: 0, DOWNSTREAM: 1 } as const;
export type StreamType = (typeof StreamType)[keyof typeof StreamType];

export interface Timestamp {
  seconds: number;
  nanos: number;
}

export interface AnalyticsVideoLayer {
  layer: number;
  packets: number;
  bytes: number;
  frames: number;
}

export interface AnalyticsStream {
  ssrc: number;
  primaryPackets: number;
  primaryBytes: number;
  retransmitPackets: number;
  retransmitBytes: number;
  paddingPackets: number;
  paddingBytes: number;
  packetsLost: number;
  frames: number;
  rtt: number;
  jitter: number;
  nacks: number;
  plis: number;
  firs: number;
  videoLayers: AnalyticsVideoLayer[];
  startTime: Timestamp | null;
  endTime: Timestamp | null;
  packetsOutOfOrder: number;
}

export interface AnalyticsStat {
  id: string;
  analyticsKey: string;
  kind: StreamType;
  timeStamp: Timestamp | null;
  node: string;
  roomId: string;
  roomName: string;
  participantId: string;
  trackId: string;
  score: number;
  streams: AnalyticsStream[];
  mime: string;
  minScore: number;
  medianScore: number;
}

/** The part of a received stat that coalescing reads (the reference ignores the rest). */
export interface StatSample {
  readonly score: number;
  readonly streams: readonly Readonly<StreamSample>[];
  readonly mime: string;
}

export type StreamSample = Omit<AnalyticsStream, 'videoLayers'> & {
  readonly videoLayers: readonly Readonly<AnalyticsVideoLayer>[];
};

/** 2^63: a uint64 at or above it has its top bit set (negative as Go's int64). */
export const U64_TOP_BIT = 2 ** 63;
/** Largest double below 2^63, so a valid uint64 never rounds up into the invalid range. */
const MAX_VALID_U64_NUMBER = 2 ** 63 - 1024;

/** Converts a uint64 given as two uint32 halves to the number the core works with. */
export function u64ToNumber(high: number, low: number): number {
  const value = (high >>> 0) * 2 ** 32 + (low >>> 0);
  if (high >>> 0 >= 0x80000000) return value;
  return Math.min(value, MAX_VALID_U64_NUMBER);
}

export function emptyStream(): AnalyticsStream {
  return {
    ssrc: 0,
    primaryPackets: 0,
    primaryBytes: 0,
    retransmitPackets: 0,
    retransmitBytes: 0,
    paddingPackets: 0,
    paddingBytes: 0,
    packetsLost: 0,
    frames: 0,
    rtt: 0,
    jitter: 0,
    nacks: 0,
    plis: 0,
    firs: 0,
    videoLayers: [],
    startTime: null,
    endTime: null,
    packetsOutOfOrder: 0,
  };
}
