import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AnalyticsStat, StatSample } from '../../src/core/analytics.js';
import { coalesce, TrackAggregate } from '../../src/core/coalesce.js';
import { GO_ZERO_SECONDS } from '../../src/core/gotime.js';
import { analyticsStream } from '../helpers/arbitraries.js';
import { referenceCoalesce } from '../helpers/reference-coalesce.js';
import { layer, sample, stream, ts } from '../helpers/stats.js';

const f32 = Math.fround;

function only(stats: StatSample[]): AnalyticsStat {
  const out = coalesce(stats);
  if (!out) throw new Error('expected a coalesced stat');
  return out;
}
const streamOf = (stat: AnalyticsStat) => stat.streams[0]!;

/** Float fields compared as float32 bit patterns (NaN equal to NaN). */
function bits(x: number): number | 'NaN' {
  if (Number.isNaN(x)) return 'NaN';
  const buf = new Float32Array([x]);
  return new Uint32Array(buf.buffer)[0]!;
}
function comparable(stat: AnalyticsStat | null) {
  if (!stat) return null;
  return { ...stat, score: bits(stat.score), minScore: bits(stat.minScore), medianScore: bits(stat.medianScore) };
}

describe('coalesce', () => {
  it('returns null for no stats', () => {
    expect(coalesce([])).toBeNull();
  });

  it('sums downstream counters across stats', () => {
    const out = only([
      sample({ streams: [stream({ primaryPackets: 10, primaryBytes: 1000, nacks: 1, plis: 2, firs: 3 })] }),
      sample({ streams: [stream({ primaryPackets: 5, primaryBytes: 500, nacks: 4, retransmitPackets: 7 })] }),
    ]);
    expect(streamOf(out)).toMatchObject({
      primaryPackets: 15,
      primaryBytes: 1500,
      nacks: 5,
      plis: 2,
      firs: 3,
      retransmitPackets: 7,
    });
  });

  it('sums upstream counters including padding, loss and out-of-order', () => {
    const out = only([
      sample({ streams: [stream({ paddingPackets: 1, paddingBytes: 100, packetsLost: 2, packetsOutOfOrder: 3 })] }),
      sample({ streams: [stream({ paddingPackets: 2, paddingBytes: 200, packetsLost: 5, packetsOutOfOrder: 1 })] }),
    ]);
    expect(streamOf(out)).toMatchObject({ paddingPackets: 3, paddingBytes: 300, packetsLost: 7, packetsOutOfOrder: 4 });
  });

  it('keeps the maximum rtt and jitter', () => {
    const out = only([
      sample({ streams: [stream({ rtt: 30, jitter: 9 })] }),
      sample({ streams: [stream({ rtt: 80, jitter: 2 })] }),
      sample({ streams: [stream({ rtt: 10, jitter: 4 })] }),
    ]);
    expect(streamOf(out)).toMatchObject({ rtt: 80, jitter: 9 });
  });

  it('folds several streams of one stat (simulcast) into one', () => {
    const out = only([
      sample({ streams: [stream({ primaryPackets: 1, ssrc: 11 }), stream({ primaryPackets: 2, ssrc: 22 })] }),
    ]);
    expect(out.streams).toHaveLength(1);
    expect(streamOf(out)).toMatchObject({ primaryPackets: 3, ssrc: 0 });
  });

  it('sums video layers per layer and emits only the highest', () => {
    const out = only([
      sample({ streams: [stream({ videoLayers: [layer(0, 10, 100, 1), layer(2, 20, 200, 2)] })] }),
      sample({ streams: [stream({ videoLayers: [layer(2, 5, 50, 5), layer(1, 7, 70, 7)] })] }),
    ]);
    expect(streamOf(out).videoLayers).toEqual([layer(2, 25, 250, 7)]);
  });

  it('emits no layer when none was received', () => {
    expect(streamOf(only([sample()])).videoLayers).toEqual([]);
  });

  it('picks the highest of negative layers (the reference is order-dependent there)', () => {
    const out = only([sample({ streams: [stream({ videoLayers: [layer(-1, 1), layer(-3, 3)] })] })]);
    expect(streamOf(out).videoLayers).toEqual([layer(-1, 1)]);
  });

  it('counts only positive scores: min, float32 mean and odd median', () => {
    const out = only([
      sample({ score: 0 }),
      sample({ score: 4.2 }),
      sample({ score: -1 }),
      sample({ score: 3.1 }),
      sample({ score: 4.5 }),
    ]);
    expect(out.minScore).toBe(f32(3.1));
    expect(out.score).toBe(f32(f32(f32(f32(4.2) + f32(3.1)) + f32(4.5)) / 3));
    expect(out.medianScore).toBe(f32(4.2));
  });

  it('takes left + (right-left)/2 in float32 as the even median', () => {
    const out = only([sample({ score: 1.1 }), sample({ score: 3.7 }), sample({ score: 2.3 }), sample({ score: 4.9 })]);
    const left = f32(2.3);
    const right = f32(3.7);
    expect(out.medianScore).toBe(f32(left + f32(f32(right - left) / 2)));
  });

  it('reports zero scores when no score was positive', () => {
    const out = only([sample({ score: 0 }), sample({ score: -2 })]);
    expect([out.score, out.minScore, out.medianScore]).toEqual([0, 0, 0]);
  });

  it('uses the earliest start and the latest end', () => {
    const out = only([
      sample({ streams: [stream({ startTime: ts(100, 5), endTime: ts(200) })] }),
      sample({ streams: [stream({ startTime: ts(100, 2), endTime: ts(200, 9) })] }),
    ]);
    expect(streamOf(out).startTime).toEqual(ts(100, 2));
    expect(streamOf(out).endTime).toEqual(ts(200, 9));
  });

  it('treats a missing timestamp as the Unix epoch', () => {
    const out = only([
      sample({
        streams: [stream({ startTime: ts(100), endTime: null }), stream({ startTime: null, endTime: ts(-5) })],
      }),
    ]);
    expect(streamOf(out).startTime).toEqual(ts(0));
    expect(streamOf(out).endTime).toEqual(ts(0));
  });

  it("emits Go's zero time when no valid stat had a stream", () => {
    const out = only([sample({ streams: [] })]);
    expect(streamOf(out).startTime).toEqual(ts(GO_ZERO_SECONDS));
    expect(streamOf(out).endTime).toEqual(ts(GO_ZERO_SECONDS));
  });

  it('carries out-of-range nanos into seconds as time.Unix does', () => {
    const out = only([sample({ streams: [stream({ startTime: ts(10, -1), endTime: ts(10, 2_500_000_000) })] })]);
    expect(streamOf(out).startTime).toEqual(ts(9, 999_999_999));
    expect(streamOf(out).endTime).toEqual(ts(12, 500_000_000));
  });

  it('wraps uint32 counters mod 2^32 as Go does', () => {
    const big = 2 ** 31 - 1;
    const out = only([
      sample({ streams: [stream({ primaryPackets: big, frames: big })] }),
      sample({ streams: [stream({ primaryPackets: big, frames: big })] }),
      sample({ streams: [stream({ primaryPackets: 5, frames: 2 })] }),
    ]);
    expect(streamOf(out).primaryPackets).toBe((2 * big + 5) % 2 ** 32);
    expect(streamOf(out).frames).toBe((2 * big + 2) % 2 ** 32);
  });

  describe('invalid stats', () => {
    const u32Fields = [
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
    const u64Fields = ['primaryBytes', 'retransmitBytes', 'paddingBytes'] as const;

    it.each(u32Fields)('skips a stat whose %s has the top bit set', (field) => {
      const agg = new TrackAggregate();
      agg.add(sample({ score: 3, streams: [stream({ primaryPackets: 1 })] }));
      expect(agg.add(sample({ score: 5, streams: [stream({ [field]: 2 ** 31, primaryBytes: 9 })] }))).toBe(false);
      const out = agg.result();
      expect(streamOf(out).primaryPackets).toBe(1);
      expect(streamOf(out).primaryBytes).toBe(0);
      expect(out.score).toBe(3);
    });

    it.each(u64Fields)('skips a stat whose %s is at least 2^63', (field) => {
      const out = only([sample({ streams: [stream({ [field]: 2 ** 63, primaryPackets: 4 })] })]);
      expect(streamOf(out).primaryPackets).toBe(0);
    });

    it('accepts uint32 just below 2^31 and uint64 just below 2^63', () => {
      const out = only([sample({ streams: [stream({ nacks: 2 ** 31 - 1, paddingBytes: 2 ** 63 - 1024 })] })]);
      expect(streamOf(out).nacks).toBe(2 ** 31 - 1);
    });

    it.each([
      ['packets', layer(0, 2 ** 31)],
      ['bytes', layer(0, 0, 2 ** 63)],
      ['frames', layer(0, 0, 0, 2 ** 31)],
    ])('skips a stat whose video layer %s is out of range', (_field, bad) => {
      const out = only([sample({ streams: [stream({ primaryPackets: 3, videoLayers: [bad] })] })]);
      expect(streamOf(out).primaryPackets).toBe(0);
      expect(streamOf(out).videoLayers).toEqual([]);
    });

    it('still emits an all-invalid track with a zeroed stream and the last mime', () => {
      const out = only([
        sample({ mime: 'video/H264', streams: [stream({ nacks: 2 ** 31, startTime: ts(5) })] }),
        sample({ mime: 'video/AV1', score: 4, streams: [stream({ plis: 2 ** 32 - 1 })] }),
      ]);
      expect(out.mime).toBe('video/AV1');
      expect(streamOf(out)).toMatchObject({ nacks: 0, plis: 0, startTime: ts(GO_ZERO_SECONDS) });
      expect([out.score, out.minScore, out.medianScore]).toEqual([0, 0, 0]);
    });

    it('takes the mime of the last stat even when that stat is invalid', () => {
      const out = only([
        sample({ mime: 'audio/opus' }),
        sample({ mime: 'audio/red', streams: [stream({ firs: 2 ** 31 })] }),
      ]);
      expect(out.mime).toBe('audio/red');
    });

    it('counts received and invalid stats', () => {
      const agg = new TrackAggregate();
      agg.add(sample());
      agg.add(sample({ streams: [stream({ firs: 2 ** 31 })] }));
      expect([agg.received, agg.invalid]).toEqual([2, 1]);
    });
  });

  describe('against a batch port of the reference', () => {
    const u32 = fc.oneof(
      fc.nat({ max: 5000 }),
      fc.constantFrom(0, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 31 - 2),
      fc.nat({ max: 2 ** 32 - 1 }),
    );
    const u64 = fc.oneof(
      { weight: 8, arbitrary: fc.nat({ max: 10_000_000 }) },
      { weight: 1, arbitrary: fc.constantFrom(0, 2 ** 53, 2 ** 63 - 1024, 2 ** 63, 2 ** 64 - 2048) },
    );
    const timestamp = fc.option(
      fc.record({
        seconds: fc.oneof(
          fc.integer({ min: -5, max: 5 }),
          fc.constantFrom(GO_ZERO_SECONDS, GO_ZERO_SECONDS - 1, 1_700_000_000),
        ),
        nanos: fc.oneof(
          fc.constantFrom(0, 999_999_999, -1, 1_000_000_000),
          fc.integer({ min: -2_000_000_000, max: 2_000_000_000 }),
        ),
      }),
      { freq: 4 },
    );
    const anyStream = analyticsStream({ u32, u64, timestamp, layer: fc.integer({ min: 0, max: 3 }) });
    const score = fc.oneof(
      fc.float({ noNaN: false }),
      fc.float({ min: 0, max: 5, noNaN: true }),
      fc.constantFrom(0, -0, 1, 5, 2 ** -149, 3.4028234663852886e38),
    );
    const stat = fc.record({
      score,
      mime: fc.constantFrom('audio/opus', 'video/VP8', 'video/H264', ''),
      streams: fc.array(anyStream, { maxLength: 3 }),
    });

    it('equals the reference field for field over thousands of sequences', () => {
      fc.assert(
        fc.property(fc.array(stat, { maxLength: 12 }), (stats) => {
          expect(comparable(coalesce(stats))).toEqual(comparable(referenceCoalesce(stats)));
        }),
        { numRuns: 3000 },
      );
    });

    it('equals the reference on long runs of valid scores (median buffer growth)', () => {
      const valid = fc.record({
        score: fc.float({ min: Math.fround(0.5), max: 5, noNaN: true }),
        mime: fc.constant('audio/opus'),
        streams: fc.array(
          anyStream.map((s) => ({ ...s, primaryPackets: s.primaryPackets % 1000, videoLayers: [] })),
          { maxLength: 1 },
        ),
      });
      fc.assert(
        fc.property(fc.array(valid, { minLength: 1, maxLength: 200 }), (stats) => {
          expect(comparable(coalesce(stats))).toEqual(comparable(referenceCoalesce(stats)));
        }),
        { numRuns: 300 },
      );
    });
  });
});
