import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AnalyticsStat, StatSample } from '../../src/core/analytics.js';
import { coalesce, scoreBlocksInUse, TrackAggregate } from '../../src/core/coalesce.js';
import { GO_ZERO_SECONDS } from '../../src/core/gotime.js';
import { statSequence, U32_COUNTERS } from '../helpers/arbitraries.js';
import { referenceCoalesce, referenceIsValid } from '../helpers/reference-coalesce.js';
import { layer, sample, stream, ts, type Sample } from '../helpers/stats.js';

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

  it('keeps up to four layer sums (a simulcast ladder) for the next interval, and no more', () => {
    const aggregate = new TrackAggregate();
    const ladder = (n: number) =>
      sample({ streams: [stream({ videoLayers: Array.from({ length: n }, (_, l) => layer(l, 1)) })] });
    aggregate.add(ladder(4));
    aggregate.reset();
    expect(aggregate.heldLayers).toBe(4);
    aggregate.add(ladder(10));
    expect(aggregate.heldLayers).toBe(10);
    aggregate.reset();
    expect(aggregate.heldLayers).toBe(0);
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

  describe('uint32 wrap-around', () => {
    const nearTop = 2 ** 31 - 1;
    const wrapped = (3 * nearTop + 7) % 2 ** 32;

    it.each(U32_COUNTERS)('wraps %s past 2^32 as Go does', (field) => {
      const out = only([
        sample({ streams: [stream({ [field]: nearTop })] }),
        sample({ streams: [stream({ [field]: nearTop }), stream({ [field]: nearTop })] }),
        sample({ streams: [stream({ [field]: 7 })] }),
      ]);
      expect(streamOf(out)[field]).toBe(wrapped);
    });

    it.each(['packets', 'frames'] as const)('wraps video layer %s past 2^32 as Go does', (field) => {
      const big = { ...layer(1), [field]: nearTop };
      const out = only([
        sample({ streams: [stream({ videoLayers: [big] }), stream({ videoLayers: [big] })] }),
        sample({ streams: [stream({ videoLayers: [big, layer(0, 1, 1, 1)] })] }),
        sample({ streams: [stream({ videoLayers: [{ ...layer(1), [field]: 7 }] })] }),
      ]);
      expect(streamOf(out).videoLayers).toEqual([{ ...layer(1), [field]: wrapped }]);
    });

    it('sums uint64 byte counters past 2^32 without wrapping', () => {
      const out = only([
        sample({ streams: [stream({ primaryBytes: 2 ** 40, retransmitBytes: 2 ** 33, paddingBytes: 2 ** 32 })] }),
        sample({ streams: [stream({ primaryBytes: 2 ** 40, retransmitBytes: 2 ** 33, paddingBytes: 2 ** 32 })] }),
      ]);
      expect(streamOf(out)).toMatchObject({ primaryBytes: 2 ** 41, retransmitBytes: 2 ** 34, paddingBytes: 2 ** 33 });
    });
  });

  describe('time span', () => {
    it('keeps the earliest start and the latest end whatever position they arrive in', () => {
      const out = only([
        sample({ streams: [stream({ startTime: ts(100), endTime: ts(150) })] }),
        sample({
          streams: [
            stream({ startTime: ts(40, 7), endTime: ts(300, 1) }),
            stream({ startTime: ts(90), endTime: ts(200) }),
          ],
        }),
        sample({ streams: [stream({ startTime: ts(60), endTime: ts(120) })] }),
      ]);
      expect(streamOf(out).startTime).toEqual(ts(40, 7));
      expect(streamOf(out).endTime).toEqual(ts(300, 1));
    });

    it('orders instants in the same second by nanos', () => {
      const out = only([
        sample({ streams: [stream({ startTime: ts(50, 9), endTime: ts(60, 1) })] }),
        sample({ streams: [stream({ startTime: ts(50, 3), endTime: ts(60, 8) })] }),
        sample({ streams: [stream({ startTime: ts(50, 5), endTime: ts(60, 4) })] }),
      ]);
      expect(streamOf(out).startTime).toEqual(ts(50, 3));
      expect(streamOf(out).endTime).toEqual(ts(60, 8));
    });

    it("keeps Go's zero second with non-zero nanos as a real (earliest) start", () => {
      const out = only([
        sample({ streams: [stream({ startTime: ts(GO_ZERO_SECONDS, 5), endTime: ts(GO_ZERO_SECONDS, 5) })] }),
        sample({ streams: [stream({ startTime: ts(100), endTime: ts(GO_ZERO_SECONDS, 1) })] }),
      ]);
      expect(streamOf(out).startTime).toEqual(ts(GO_ZERO_SECONDS, 5));
      expect(streamOf(out).endTime).toEqual(ts(GO_ZERO_SECONDS, 5));
    });

    it("lets the next stream replace a start or end that carried into Go's zero time (IsZero)", () => {
      const out = only([
        sample({
          streams: [stream({ startTime: ts(GO_ZERO_SECONDS - 1, 1e9), endTime: ts(GO_ZERO_SECONDS + 1, -1e9) })],
        }),
        sample({ streams: [stream({ startTime: ts(100), endTime: ts(50) })] }),
      ]);
      expect(streamOf(out).startTime).toEqual(ts(100));
      expect(streamOf(out).endTime).toEqual(ts(50));
    });

    it('carries nanos of the earlier instant before comparing', () => {
      const out = only([
        sample({ streams: [stream({ startTime: ts(10, 500), endTime: ts(20) })] }),
        sample({ streams: [stream({ startTime: ts(11, -1_000_000_000), endTime: ts(19, 2_000_000_001) })] }),
      ]);
      expect(streamOf(out).startTime).toEqual(ts(10));
      expect(streamOf(out).endTime).toEqual(ts(21, 1));
    });
  });

  describe('scores', () => {
    it('keeps the smallest counted score wherever it arrives', () => {
      const out = only([sample({ score: 3 }), sample({ score: 1.5 }), sample({ score: 4 }), sample({ score: 2 })]);
      expect(out.minScore).toBe(1.5);
    });

    it('takes a single score as the median', () => {
      expect(only([sample({ score: 0 }), sample({ score: 2.5 })]).medianScore).toBe(2.5);
    });

    it('sorts scores numerically for the median, past the initial buffer', () => {
      const scores = [9, 10, 1, 2.5, 30, 4, 0.5, 7, 8, 100, 3];
      const out = only(scores.map((score) => sample({ score })));
      expect(out.medianScore).toBe(7);
      expect(out.score).toBe(f32(scores.reduce((sum, x) => f32(sum + f32(x)), 0) / 11));
      expect(out.minScore).toBe(0.5);
    });
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

    it.each([2 ** 31, 2 ** 53, 2 ** 63 - 1024])('accepts video layer bytes of %d (the bound is 2^63)', (bytes) => {
      const out = only([sample({ streams: [stream({ primaryPackets: 3, videoLayers: [layer(0, 1, bytes, 1)] })] })]);
      expect(streamOf(out).primaryPackets).toBe(3);
      expect(streamOf(out).videoLayers).toEqual([layer(0, 1, bytes, 1)]);
    });

    it.each([
      ['packets', layer(0, 2 ** 31 - 1)],
      ['frames', layer(0, 0, 0, 2 ** 31 - 1)],
    ])('accepts video layer %s just below 2^31', (_field, edge) => {
      expect(streamOf(only([sample({ streams: [stream({ videoLayers: [edge] })] })])).videoLayers).toEqual([edge]);
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
    /** Which paths of the algorithm one sequence exercises (classified with the reference's validity). */
    function paths(stats: Sample[]): string[] {
      const out: string[] = [];
      const valid = stats.filter(referenceIsValid);
      const validStreams = valid.flatMap((s) => s.streams);
      const counted = valid.filter((s) => Math.fround(s.score) > 0).length;
      if (stats.length === 0) out.push('empty');
      if (stats.length >= 100) out.push('100+ stats');
      if (validStreams.length >= 2) out.push('2+ valid streams');
      if (valid.length > 0 && valid.length < stats.length) out.push('valid and invalid mixed');
      if (stats.length > 0 && valid.length === 0) out.push('all invalid');
      if (counted > 0 && counted % 2 === 0) out.push('even median');
      if (counted > 1 && counted % 2 === 1) out.push('odd median');
      if (counted > 8) out.push('median buffer grown twice');
      if (valid.some((s) => !Number.isFinite(s.score))) out.push('non-finite score');
      else if (counted >= 2) out.push('finite mean of 2+ scores');
      if (validStreams.some((s) => s.videoLayers.length > 0)) out.push('video layer');
      const times = validStreams.flatMap((s) => [s.startTime, s.endTime]);
      if (times.some((t) => t === null)) out.push('nil timestamp');
      if (times.some((t) => t && (t.nanos < 0 || t.nanos >= 1e9))) out.push('nanos carry');
      if (times.some((t) => t && t.seconds <= GO_ZERO_SECONDS + 1)) out.push("near Go's zero time");
      for (const field of U32_COUNTERS) {
        if (validStreams.reduce((sum, s) => sum + s[field], 0) >= 2 ** 32) out.push(`${field} wraps`);
      }
      const layerSums = new Map<number, { packets: number; frames: number }>();
      for (const l of validStreams.flatMap((s) => s.videoLayers)) {
        const sum = layerSums.get(l.layer) ?? { packets: 0, frames: 0 };
        layerSums.set(l.layer, { packets: sum.packets + l.packets, frames: sum.frames + l.frames });
      }
      if ([...layerSums.values()].some((l) => l.packets >= 2 ** 32)) out.push('layer packets wrap');
      if ([...layerSums.values()].some((l) => l.frames >= 2 ** 32)) out.push('layer frames wrap');
      return out;
    }

    /**
     * Least share of sequences that must reach each path: a generator that stops reaching one fails here.
     * Each floor sits about five standard deviations (of a share over 500 sequences) below the share the
     * generators give, so a sound generator never trips it by chance.
     */
    const FLOORS: Record<string, number> = {
      empty: 0.005,
      '100+ stats': 0.2,
      '2+ valid streams': 0.65,
      'valid and invalid mixed': 0.25,
      'all invalid': 0.05,
      'even median': 0.25,
      'odd median': 0.25,
      'median buffer grown twice': 0.4,
      'non-finite score': 0.05,
      'finite mean of 2+ scores': 0.5,
      'video layer': 0.6,
      'nil timestamp': 0.4,
      'nanos carry': 0.4,
      "near Go's zero time": 0.3,
      ...Object.fromEntries(U32_COUNTERS.map((f) => [`${f} wraps`, 0.3])),
      'layer packets wrap': 0.2,
      'layer frames wrap': 0.2,
    };

    it('equals the reference field for field, and the generators reach every path', () => {
      const runs = 500;
      const reached = new Map<string, number>();
      fc.assert(
        fc.property(statSequence, (stats) => {
          expect(comparable(coalesce(stats))).toEqual(comparable(referenceCoalesce(stats)));
          for (const path of paths(stats)) reached.set(path, (reached.get(path) ?? 0) + 1);
        }),
        { numRuns: runs },
      );
      const shares = Object.fromEntries(Object.keys(FLOORS).map((p) => [p, (reached.get(p) ?? 0) / runs]));
      console.info(
        `coalesce property: share of ${runs} sequences per path\n` +
          Object.entries(shares)
            .map(([p, s]) => `  ${p.padEnd(28)} ${(100 * s).toFixed(1)} %`)
            .join('\n'),
      );
      for (const [path, floor] of Object.entries(FLOORS)) {
        expect({ path, share: shares[path] }).toEqual({ path, share: expect.toSatisfy((s: number) => s >= floor) });
      }
    }, 60_000);

    it('an aggregate emptied by reset() folds the next interval as a new one would, whether or not result() ran', () => {
      fc.assert(
        fc.property(statSequence, statSequence, fc.boolean(), (first, next, flushed) => {
          const blocks = scoreBlocksInUse();
          const reused = new TrackAggregate();
          for (const stat of first) reused.add(stat);
          if (flushed) reused.result();
          reused.reset();
          const fresh = new TrackAggregate();
          for (const stat of next) {
            expect(reused.add(stat)).toBe(fresh.add(stat));
          }
          expect([reused.received, reused.invalid]).toEqual([fresh.received, fresh.invalid]);
          expect(comparable(reused.result())).toEqual(comparable(fresh.result()));
          // the scores of an interval reset without a flush went back to the arena too
          expect(scoreBlocksInUse()).toBe(blocks);
        }),
        { numRuns: 300 },
      );
    }, 60_000);
  });
});
