import { defineConfig } from 'vitest/config';

/**
 * The unit tests StrykerJS runs against each mutant of src/core and src/wire
 * (`npm run mutate`): pure, no servers. The wire properties try a tenth of
 * their cases here (test/wire/runs.ts), as every wire mutant reruns them.
 */
export default defineConfig({
  test: {
    include: ['test/core/**/*.test.ts', 'test/wire/**/*.test.ts'],
    setupFiles: ['test/helpers/mutation-setup.ts'],
    env: { SIDECAR_MUTATION_RUN: '1' },
    testTimeout: 60_000,
    pool: 'forks',
  },
});
