/**
 * How many cases a wire property tries. `npm test` tries the full count.
 * `npm run mutate` (vitest.mutate.config.ts sets SIDECAR_MUTATION_RUN) tries
 * a tenth, from a fixed seed (test/helpers/mutation-setup.ts): every wire
 * mutant reruns these properties, and the example tests beside them pin the
 * boundaries the properties would reach only by chance.
 */
export const UNDER_MUTATION = process.env.SIDECAR_MUTATION_RUN === '1';

export function runs(n: number): number {
  return UNDER_MUTATION ? Math.ceil(n / 10) : n;
}
