/** fast-check building blocks shared by the property tests. */
import fc from 'fast-check';
import type { AnalyticsStream, AnalyticsVideoLayer, Timestamp } from '../../src/core/analytics.js';
import { GO_ZERO_SECONDS } from '../../src/core/gotime.js';
import type { Sample } from './stats.js';

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

// ---- Stat sequences for the coalescing property test ---------------------------------------------
//
// Every field is drawn from its *valid* range; an invalid value is injected by a separate, per-sequence
// corruption rate. Drawing each of ~20 fields from a range that is partly invalid would make almost
// every stat invalid (one bad field invalidates the whole stat).

/** uint32 counters that pass the validity check: small ones, and large ones whose sums wrap past 2^32. */
export const validU32 = fc.oneof(
  { weight: 5, arbitrary: fc.nat({ max: 5000 }) },
  { weight: 3, arbitrary: fc.integer({ min: 2 ** 30, max: 2 ** 31 - 1 }) },
  { weight: 1, arbitrary: fc.constantFrom(0, 1, 2 ** 31 - 1) },
);

/** uint64 counters below 2^63: byte counts, exact up to 2^53, and the largest valid double. */
export const validU64 = fc.oneof(
  { weight: 6, arbitrary: fc.nat({ max: 10_000_000 }) },
  { weight: 2, arbitrary: fc.nat({ max: Number.MAX_SAFE_INTEGER }) },
  { weight: 1, arbitrary: fc.constantFrom(0, 2 ** 53, 2 ** 63 - 1024) },
);

/** rtt, jitter, ssrc: not validity-checked, any uint32. */
const anyU32 = fc.oneof(fc.nat({ max: 500 }), fc.nat({ max: 2 ** 32 - 1 }));

/** uint32 values with the top bit set, and uint64 values at or past 2^63 (as u64ToNumber yields them). */
const invalidU32 = fc.oneof(fc.constantFrom(2 ** 31, 2 ** 32 - 1), fc.integer({ min: 2 ** 31, max: 2 ** 32 - 1 }));
const invalidU64 = fc.constantFrom(2 ** 63, 2 ** 64 - 2048);

export const U32_COUNTERS = [
  'primaryPackets',
  'retransmitPackets',
  'paddingPackets',
  'packetsLost',
  'packetsOutOfOrder',
  'frames',
  'nacks',
  'plis',
  'firs',
] as const;
export const U64_COUNTERS = ['primaryBytes', 'retransmitBytes', 'paddingBytes'] as const;

/** Timestamps near one instant (so order matters), with nil, out-of-range nanos and Go's zero time rare but present. */
export const timestamp: fc.Arbitrary<Timestamp | null> = fc.oneof(
  {
    weight: 12,
    arbitrary: fc.record({
      seconds: fc.integer({ min: 1_700_000_000, max: 1_700_000_060 }),
      nanos: fc.oneof(fc.integer({ min: 0, max: 999_999_999 }), fc.constantFrom(0, 500_000_000)),
    }),
  },
  { weight: 2, arbitrary: fc.constant(null) },
  {
    weight: 2,
    arbitrary: fc.record({
      seconds: fc.integer({ min: 1_700_000_000, max: 1_700_000_060 }),
      nanos: fc.oneof(
        fc.constantFrom(-1, 1_000_000_000, -1_000_000_000),
        fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
      ),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      { seconds: GO_ZERO_SECONDS, nanos: 0 },
      { seconds: GO_ZERO_SECONDS, nanos: 1 },
      { seconds: GO_ZERO_SECONDS - 1, nanos: 1_000_000_000 },
      { seconds: GO_ZERO_SECONDS + 1, nanos: -1_000_000_000 },
      { seconds: 0, nanos: 0 },
      { seconds: -1, nanos: 999_999_999 },
    ),
  },
);

/** Simulcast layers 0..2 (the reference picks the top one by map order for negative numbers only). */
const videoLayer: fc.Arbitrary<AnalyticsVideoLayer> = fc.record({
  layer: fc.integer({ min: 0, max: 2 }),
  packets: validU32,
  bytes: validU64,
  frames: validU32,
});

export const validStream: fc.Arbitrary<AnalyticsStream> = fc.record({
  ssrc: anyU32,
  primaryPackets: validU32,
  primaryBytes: validU64,
  retransmitPackets: validU32,
  retransmitBytes: validU64,
  paddingPackets: validU32,
  paddingBytes: validU64,
  packetsLost: validU32,
  frames: validU32,
  rtt: anyU32,
  jitter: anyU32,
  nacks: validU32,
  plis: validU32,
  firs: validU32,
  videoLayers: fc.oneof(
    { weight: 2, arbitrary: fc.array(videoLayer, { maxLength: 0 }) },
    { weight: 3, arbitrary: fc.array(videoLayer, { minLength: 1, maxLength: 3 }) },
  ),
  startTime: timestamp,
  endTime: timestamp,
  packetsOutOfOrder: validU32,
});

/** One field of a stream set out of range. */
type Corruption =
  | { field: (typeof U32_COUNTERS)[number] | 'layerPackets' | 'layerFrames'; value: number }
  | { field: (typeof U64_COUNTERS)[number] | 'layerBytes'; value: number };

const corruption: fc.Arbitrary<Corruption> = fc.oneof(
  fc.record({
    field: fc.constantFrom(...U32_COUNTERS, 'layerPackets' as const, 'layerFrames' as const),
    value: invalidU32,
  }),
  fc.record({ field: fc.constantFrom(...U64_COUNTERS, 'layerBytes' as const), value: invalidU64 }),
);

function corrupt(stream: AnalyticsStream, c: Corruption): AnalyticsStream {
  const out = { ...stream, videoLayers: stream.videoLayers.map((l) => ({ ...l })) };
  // a layer field on a stream without layers goes to a layer added for it
  const layer = () => (out.videoLayers[0] ??= { layer: 0, packets: 0, bytes: 0, frames: 0 });
  if (c.field === 'layerPackets') layer().packets = c.value;
  else if (c.field === 'layerFrames') layer().frames = c.value;
  else if (c.field === 'layerBytes') layer().bytes = c.value;
  else out[c.field] = c.value;
  return out;
}

/** A stream that is invalid in roughly one of `oneIn` draws (never when `oneIn` is 0). */
function streamWithCorruption(oneIn: number): fc.Arbitrary<AnalyticsStream> {
  const corrupted = fc.tuple(validStream, corruption).map(([s, c]) => corrupt(s, c));
  if (oneIn === 0) return validStream;
  if (oneIn === 1) return corrupted;
  return fc.oneof({ weight: oneIn - 1, arbitrary: validStream }, { weight: 1, arbitrary: corrupted });
}

/** float32 scores: mostly LiveKit's 0..5 range (with ties), some zero or negative, and extremes. */
const finiteScore = fc.oneof(
  { weight: 10, arbitrary: fc.float({ min: Math.fround(0.1), max: 5, noNaN: true }) },
  { weight: 3, arbitrary: fc.constantFrom(1, 2.5, 3, 4.5, 5) },
  { weight: 2, arbitrary: fc.constantFrom(0, -0, -1) },
  { weight: 1, arbitrary: fc.float({ noNaN: true, noDefaultInfinity: true }) },
  { weight: 1, arbitrary: fc.constantFrom(2 ** -149, 3.4028234663852886e38) },
);
/** NaN and infinities poison a mean: only some sequences get them, so the others check the arithmetic. */
const anyScore = fc.oneof(
  { weight: 20, arbitrary: finiteScore },
  fc.constantFrom(Infinity, -Infinity, NaN),
  fc.float(),
);

function stat(invalidOneIn: number, nonFinite: boolean): fc.Arbitrary<Sample> {
  const stream = streamWithCorruption(invalidOneIn);
  return fc.record({
    score: nonFinite ? anyScore : finiteScore,
    mime: fc.constantFrom('audio/opus', 'video/VP8', 'video/H264', ''),
    streams: fc.oneof(
      // a stat without streams is valid: none where the sequence is meant to be all invalid
      { weight: invalidOneIn === 1 ? 0 : 1, arbitrary: fc.array(stream, { maxLength: 0 }) },
      { weight: 6, arbitrary: fc.array(stream, { minLength: 1, maxLength: 1 }) },
      { weight: 3, arbitrary: fc.array(stream, { minLength: 2, maxLength: 3 }) },
    ),
  });
}

/**
 * Sequences of stats for one (track, direction) between two flushes: lengths from 0 to 300 (the median
 * buffer grows past its initial capacity many times), each sequence with its own share of invalid
 * streams: none, rare (1 in 40), or all (an all-invalid track); one in four may carry NaN or infinite scores.
 */
export const statSequence: fc.Arbitrary<Sample[]> = fc
  .tuple(
    fc.oneof(
      { weight: 1, arbitrary: fc.nat({ max: 12 }) },
      { weight: 1, arbitrary: fc.integer({ min: 13, max: 99 }) },
      { weight: 1, arbitrary: fc.integer({ min: 100, max: 300 }) },
    ),
    fc.constantFrom(0, 40, 40, 40, 1),
    fc.constantFrom(false, false, false, true),
  )
  .chain(([length, invalidOneIn, nonFinite]) =>
    fc.array(stat(invalidOneIn, nonFinite), { minLength: length, maxLength: length }),
  );
