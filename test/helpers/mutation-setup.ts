/**
 * Vitest setup for `npm run mutate` only: a failing property stops at its
 * first counterexample instead of shrinking it, so a killed mutant costs
 * milliseconds rather than a shrink over hundreds of stats; and every
 * property starts from one fixed seed, so a rerun judges a mutant on the same
 * cases (a survivor is not a matter of luck, and incremental reruns agree).
 */
import fc from 'fast-check';

fc.configureGlobal({ endOnFailure: true, seed: 20_261_127 });
