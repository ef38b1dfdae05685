/**
 * Vitest setup for `npm run mutate` only: a failing property stops at its
 * first counterexample instead of shrinking it, so a killed mutant costs
 * milliseconds rather than a shrink over hundreds of stats.
 */
import fc from 'fast-check';

fc.configureGlobal({ endOnFailure: true });
