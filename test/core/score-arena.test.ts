/**
 * The score arena is shared by every pending aggregate: chains of many
 * tracks interleave in it, and a flushed track's blocks go to the next
 * track that needs one. Each track's median must still be the reference's,
 * and flushing every track must give every block back.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { scoreBlocksInUse, TrackAggregate } from '../../src/core/coalesce.js';
import { BLOCK_SCORES, NO_BLOCK, ScoreArena } from '../../src/core/score-arena.js';
import { referenceCoalesce } from '../helpers/reference-coalesce.js';
import { sample, type Sample } from '../helpers/stats.js';

const score = fc.oneof(
  { weight: 6, arbitrary: fc.float({ min: Math.fround(0.01), max: 5, noNaN: true }) },
  // repeats, extremes, and scores that are not counted
  { weight: 1, arbitrary: fc.constantFrom(Math.fround(4.5), Math.fround(1e-30), Math.fround(3.4e38), Infinity) },
  { weight: 1, arbitrary: fc.constantFrom(0, -1) },
);

/** Adds to one of a few tracks, with now and then a flush of one of them (the worker flushes and drops it). */
const op = fc.oneof(
  { weight: 12, arbitrary: fc.record({ add: fc.nat(5), score }) },
  { weight: 1, arbitrary: fc.record({ flush: fc.nat(5) }) },
);

describe('score arena', () => {
  it('keeps interleaved chains apart and reuses flushed blocks: every median equals the reference', () => {
    const reached = { multiBlockFlushes: 0, builtinSortFlushes: 0, flushesWithOthersPending: 0 };
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 800, size: 'max' }), (ops) => {
        const before = scoreBlocksInUse();
        const tracks = Array.from({ length: 6 }, () => ({ aggregate: new TrackAggregate(), stats: [] as Sample[] }));
        const flush = (i: number) => {
          const t = tracks[i]!;
          const counted = t.stats.filter((s) => Math.fround(s.score) > 0).length;
          if (counted > BLOCK_SCORES) reached.multiBlockFlushes++;
          if (counted > 32) reached.builtinSortFlushes++;
          if (tracks.some((o, j) => j !== i && o.stats.some((s) => s.score > 0))) reached.flushesWithOthersPending++;
          const held = scoreBlocksInUse();
          const ours = t.aggregate.result();
          // the result hands back exactly the track's blocks
          expect(held - scoreBlocksInUse()).toBe(Math.ceil(counted / BLOCK_SCORES));
          const reference = referenceCoalesce(t.stats) ?? { medianScore: 0, score: 0, minScore: 0 };
          expect(Object.is(ours.medianScore, reference.medianScore)).toBe(true);
          expect(Object.is(ours.score, reference.score)).toBe(true);
          expect(Object.is(ours.minScore, reference.minScore)).toBe(true);
          // asked again, it answers the same from what it took
          expect(Object.is(t.aggregate.result().medianScore, ours.medianScore)).toBe(true);
          tracks[i] = { aggregate: new TrackAggregate(), stats: [] };
        };
        for (const o of ops) {
          if ('flush' in o) flush(o.flush);
          else {
            const stat = sample({ score: o.score });
            tracks[o.add]!.stats.push(stat);
            tracks[o.add]!.aggregate.add(stat);
          }
        }
        for (let i = 0; i < tracks.length; i++) flush(i);
        expect(scoreBlocksInUse()).toBe(before);
      }),
      { numRuns: 300 },
    );
    // the generator reaches chains of several blocks, the builtin sort, and flushes amid other chains
    expect(reached.multiBlockFlushes).toBeGreaterThan(300);
    expect(reached.builtinSortFlushes).toBeGreaterThan(100);
    expect(reached.flushesWithOthersPending).toBeGreaterThan(300);
  });

  it('reuses freed blocks before it grows: one chunk of 144 KiB holds 4,096 blocks', () => {
    const arena = new ScoreArena();
    const keep = arena.push(NO_BLOCK, 0, 1);
    const chains = () => Array.from({ length: 4_000 }, (_, i) => arena.push(NO_BLOCK, 0, i + 2));
    const first = chains();
    expect(arena.bytes).toBe(4_096 * (BLOCK_SCORES + 1) * 4);
    for (const tail of first) arena.takeSorted(tail, 1);
    // one chain still held, so the arena keeps what it has: the freed blocks are handed out again
    const second = chains();
    expect(new Set(second)).toEqual(new Set(first));
    expect(arena.bytes).toBe(4_096 * (BLOCK_SCORES + 1) * 4);
    expect(arena.blocksInUse).toBe(4_001);
    second.forEach((tail, i) => expect(arena.takeSorted(tail, 1)[0]).toBe(i + 2));
    expect(arena.takeSorted(keep, 1)[0]).toBe(1);
  });

  it('spans chunks, takes back every block, and keeps one chunk once nothing is held', () => {
    const arena = new ScoreArena();
    // more single-score chains than one chunk has blocks, and a few long ones across the boundary
    const chains: { head: number; tail: number; scores: number[] }[] = [];
    for (let i = 0; i < 5_000; i++) {
      const s = Math.fround(1 + (i % 97) / 10);
      const tail = arena.push(NO_BLOCK, 0, s);
      chains.push({ head: tail, tail, scores: [s] });
    }
    for (let c = 0; c < 40; c++) {
      const chain = chains[c * 100]!;
      for (let k = 0; k < 50; k++) {
        const s = Math.fround(((c * 31 + k * 17) % 101) / 7 + 0.5);
        chain.tail = arena.push(chain.tail, chain.scores.length, s);
        chain.scores.push(s);
      }
    }
    const oneChunk = new ScoreArena();
    oneChunk.push(NO_BLOCK, 0, 1);
    expect(arena.bytes).toBeGreaterThan(oneChunk.bytes);
    expect(arena.blocksInUse).toBe(5_000 + 40 * (Math.ceil(51 / BLOCK_SCORES) - 1));
    // released in an order unrelated to their allocation
    const order = chains.map((_, i) => (i * 7_919) % chains.length);
    expect(new Set(order).size).toBe(chains.length);
    for (const i of order) {
      const chain = chains[i]!;
      const sorted = Array.from(arena.takeSorted(chain.head, chain.scores.length).subarray(0, chain.scores.length));
      expect(sorted).toEqual([...chain.scores].sort((a, b) => a - b));
    }
    expect(arena.blocksInUse).toBe(0);
    expect(arena.bytes).toBe(oneChunk.bytes);
    // and it hands out blocks again, past one chunk, none of them twice
    const again = Array.from({ length: 5_000 }, (_, i) => arena.push(NO_BLOCK, 0, i + 1));
    expect(new Set(again).size).toBe(again.length);
    again.forEach((tail, i) => expect(arena.takeSorted(tail, 1)[0]).toBe(i + 1));
    expect(arena.blocksInUse).toBe(0);
  });
});
