import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: 'forks',
    // Vitest's default on a 2-core machine is one worker, i.e. the files one after another; most of
    // the long files wait on child processes, servers and disks rather than on this CPU, so three
    // overlap that waiting. The tests await events or bounded polls, never fixed sleeps.
    maxWorkers: 3,
    // Files share a worker's module cache instead of importing grpc-js, protobufjs and the product
    // again for each file (most of the suite's CPU). Tests keep no module-level state across files:
    // each starts its own servers, and fake timers and spies are restored after each test.
    isolate: false,
  },
});
