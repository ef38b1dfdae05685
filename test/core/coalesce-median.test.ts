/**
 * The median over many scores: a track reporting every second for a long
 * flush interval counts dozens of scores, past the insertion-sort range of
 * coalesce.ts, so the builtin-sort path must agree with the reference too.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { coalesce } from '../../src/core/coalesce.js';
import { referenceCoalesce } from '../helpers/reference-coalesce.js';
import { sample } from '../helpers/stats.js';

const score = fc.oneof(
  fc.float({ min: Math.fround(0.01), max: 5, noNaN: true }),
  // repeats and the extremes a score can take
  fc.constantFrom(Math.fround(4.5), Math.fround(1e-30), Math.fround(3.4e38), Infinity),
);

describe('median of many scores', () => {
  it('equals the reference for 1 to 150 scores, odd and even counts', () => {
    fc.assert(
      fc.property(fc.array(score, { minLength: 1, maxLength: 150, size: 'max' }), (scores) => {
        const stats = scores.map((s) => sample({ score: s }));
        const ours = coalesce(stats)!;
        const reference = referenceCoalesce(stats)!;
        expect(Object.is(ours.medianScore, reference.medianScore)).toBe(true);
        expect(Object.is(ours.score, reference.score)).toBe(true);
      }),
      { numRuns: 400 },
    );
  });
});
