import { defineConfig } from 'vitest/config';

/**
 * The unit tests StrykerJS runs against each mutant of src/core and src/wire
 * (`npm run mutate`): pure, fast, no servers, so a mutant costs milliseconds.
 */
export default defineConfig({
  test: {
    include: ['test/core/**/*.test.ts', 'test/wire/**/*.test.ts'],
    setupFiles: ['test/helpers/mutation-setup.ts'],
    testTimeout: 60_000,
    pool: 'forks',
  },
});
