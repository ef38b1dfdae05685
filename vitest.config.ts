import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: 'forks',
    // Vitest's default on a 2-core machine is one worker, i.e. the files one after another; most of
    // the long files wait on child processes, servers and disks rather than on this CPU, so three
    // overlap that waiting. Timing in the tests is event-driven, so the overlap cannot fail them.
    maxWorkers: 3,
  },
});
