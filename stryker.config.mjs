// Mutation testing of the pure core and the wire codec: `npm run mutate`, not part of `npm test`.
// Survivors and the score of record: test/MUTANTS.md.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutate.config.ts' },
  // protos.ts only finds and loads proto/: the tests' reference decoder is built from it
  mutate: ['src/core/**/*.ts', 'src/wire/**/*.ts', '!src/wire/protos.ts'],
  coverageAnalysis: 'perTest',
  // the machine is shared: two mutants at a time is plenty
  concurrency: 2,
  // a mutant that loops forever is detected by the timeout (added to 1.5 x its tests' own time)
  timeoutMS: 10_000,
  // reruns only test mutants whose code or covering tests changed; the file is local (gitignored)
  incremental: true,
  incrementalFile: 'reports/stryker-incremental.json',
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  thresholds: { high: 97, low: 90, break: null },
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
};
