/**
 * The hand-written IngestStats encoder against LiveKit's own generated code:
 * for any stat the core can produce (and wider: negative int32/int64, NaN,
 * every uint64 the core can hold, long and non-ASCII strings), the bytes equal
 * @livekit/protocol's `AnalyticsStats.toBinary()`, and our proto reads them back.
 */
import type { ServiceDefinition } from '@grpc/grpc-js';
import { AnalyticsStats as LkStats } from '@livekit/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AnalyticsStat, Timestamp } from '../../src/core/analytics.js';
import { encodeAnalyticsStatsEntryInto } from '../../src/wire/analytics-encoder.js';
import { encodeChecked } from '../helpers/encode.js';
import { loadPackageDefinition } from '../../src/wire/protos.js';
import { toLivekitStat } from '../../src/wire/to-livekit.js';
import { analyticsStream } from '../helpers/arbitraries.js';
import { runs } from './runs.js';

const livekitBytes = (stats: AnalyticsStat[]) =>
  Buffer.from(new LkStats({ stats: stats.map(toLivekitStat) }).toBinary());

/** Each stat written into a buffer at an offset, with too little room at first (test/helpers/encode.ts). */
const ours = (stats: AnalyticsStat[]) =>
  Buffer.concat(stats.map((s) => encodeChecked(encodeAnalyticsStatsEntryInto, s)));

const u32 = fc.oneof(fc.nat({ max: 300 }), fc.constantFrom(0, 127, 128, 16383, 16384, 2 ** 31, 2 ** 32 - 1));
/** The core holds uint64 counters as doubles: exact below 2^53, multiples of 2048 near 2^64. */
const u64 = fc.oneof(
  fc.nat({ max: 10_000_000 }),
  fc.constantFrom(2 ** 32 - 1, 2 ** 32, 2 ** 53, 2 ** 63 - 1024, 2 ** 63, 2 ** 64 - 2048),
  fc.bigInt({ min: 0n, max: 2n ** 53n }).map(Number),
);
const i32 = fc.oneof(fc.integer({ min: -3, max: 3 }), fc.constantFrom(-(2 ** 31), 2 ** 31 - 1));
const timestamp: fc.Arbitrary<Timestamp | null> = fc.option(
  fc.record({
    seconds: fc.oneof(fc.integer({ min: -5, max: 5 }), fc.constantFrom(-62135596800, 1_700_000_000, 253402300799)),
    nanos: fc.oneof(fc.constantFrom(0, 999_999_999), i32),
  }),
);
const float32 = fc.oneof(fc.constantFrom(0, -0, 1, 4.5, NaN, Infinity, -Infinity), fc.float());
const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));
const text = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc.string({ unit: fc.oneof(fc.constantFrom('a', 'é', '€', '😀'), loneSurrogate), maxLength: 50 }),
  fc.constantFrom('', 'x'.repeat(127), 'x'.repeat(128), 'é'.repeat(42), '€'.repeat(43), 'x'.repeat(20_000)),
);

const stream = analyticsStream({ u32, u64, timestamp, layer: i32 });

const stat: fc.Arbitrary<AnalyticsStat> = fc.record({
  id: text,
  analyticsKey: text,
  kind: fc.constantFrom(0, 1),
  timeStamp: timestamp,
  node: text,
  roomId: text,
  roomName: text,
  participantId: text,
  trackId: text,
  score: float32,
  streams: fc.array(stream, { maxLength: 3 }),
  mime: text,
  minScore: float32,
  medianScore: float32,
});

describe('AnalyticsStat encoder', () => {
  it('writes exactly the bytes @livekit/protocol writes', () => {
    fc.assert(
      fc.property(fc.array(stat, { minLength: 1, maxLength: 4 }), (stats) => {
        expect(ours(stats).equals(livekitBytes(stats))).toBe(true);
      }),
      { numRuns: runs(1500) },
    );
  });

  it('moves a body whose length needs two or three bytes (nested and top level)', () => {
    const base = fc.sample(stat, { numRuns: 1, seed: 7 })[0]!;
    for (const mime of ['m'.repeat(100), 'm'.repeat(200), 'm'.repeat(17_000), 'é'.repeat(9_000)]) {
      const s = { ...base, mime, streams: [{ ...fc.sample(stream, { numRuns: 1, seed: 3 })[0]!, videoLayers: [] }] };
      expect(ours([s]).equals(livekitBytes([s]))).toBe(true);
    }
  });

  it('is read back by our proto (the dev upstream and any AnalyticsRecorderService)', () => {
    const service = loadPackageDefinition()['livekit.AnalyticsRecorderService'] as ServiceDefinition;
    const decode = service.IngestStats!.requestDeserialize as (b: Buffer) => { stats: { id: string; mime: string }[] };
    const stats = fc.sample(stat, { numRuns: 20, seed: 11 });
    const decoded = decode(ours(stats));
    expect(decoded.stats.map((s) => s.id)).toEqual(stats.map((s) => Buffer.from(s.id).toString()));
  });
});
