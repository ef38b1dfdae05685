/** fast-check building blocks shared by the property tests. */
import fc from 'fast-check';
import type { AnalyticsStream, Timestamp } from '../../src/core/analytics.js';

export interface StreamParts {
  u32: fc.Arbitrary<number>;
  u64: fc.Arbitrary<number>;
  timestamp: fc.Arbitrary<Timestamp | null>;
  /** video layer numbers */
  layer: fc.Arbitrary<number>;
}

/** An AnalyticsStream with every field drawn from the given value ranges, up to three video layers. */
export function analyticsStream({ u32, u64, timestamp, layer }: StreamParts): fc.Arbitrary<AnalyticsStream> {
  return fc.record({
    ssrc: u32,
    primaryPackets: u32,
    primaryBytes: u64,
    retransmitPackets: u32,
    retransmitBytes: u64,
    paddingPackets: u32,
    paddingBytes: u64,
    packetsLost: u32,
    frames: u32,
    rtt: u32,
    jitter: u32,
    nacks: u32,
    plis: u32,
    firs: u32,
    videoLayers: fc.array(fc.record({ layer, packets: u32, bytes: u64, frames: u32 }), { maxLength: 3 }),
    startTime: timestamp,
    endTime: timestamp,
    packetsOutOfOrder: u32,
  });
}
