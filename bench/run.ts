/**
 * `npm run bench`: the benchmark scenarios (bench/README.md) in one run on loopback, each server
 * in its own child process, the load generator in this one. Writes
 * bench/results/latest.json and latest.md and prints the table.
 *
 *   BENCH_SCALE=0.1   a tenth of the participants, for a quick look (the table says so)
 *   BENCH_ONLY=ingest,flush,scaling,memory   a subset of the scenarios
 *   BENCH_QUICK=1   short ingest windows, one round: checks the machinery, figures not comparable
 *   BENCH_CPU_PROF=DIR   --cpu-prof every sidecar child into DIR
 *   BENCH_WINDOW_PROF=DIR   a CPU profile of each measured ingest window and flush (any server) into DIR
 *   BENCH_MEMORY_CYCLES=200   a longer churn soak in the memory scenario (default 20)
 *   BENCH_ONLY=jetstream   the JetStream sink (R1 and R3 on loopback) beside the gRPC sink; needs nats-server
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { flushScenario } from './flush.js';
import { ingestScenario } from './ingest.js';
import { jetStreamScenario } from './jetstream.js';
import { memoryScenario } from './memory.js';
import { machine, WORKLOAD, writeResults, type BenchResults } from './report.js';
import { scalingScenario } from './scaling.js';
import { ONLY } from './settings.js';

/** bench/results beside the sources, whether run from bench/ (tsx) or dist/bench/. */
const RESULTS = fileURLToPath(
  new URL(import.meta.url.includes('/dist/') ? '../../bench/results' : './results', import.meta.url),
);

async function main(): Promise<void> {
  const log = (line: string) => process.stdout.write(`${line}\n`);
  const started = performance.now();
  const dir = mkdtempSync(join(tmpdir(), 'sidecar-bench-'));
  // what every sidecar child shares: production defaults except where a scenario says otherwise
  const env = {
    SIDECAR_UPSTREAM: `file:${join(dir, 'stats.ndjson')}`,
    SIDECAR_NODE_ID: 'bench',
    SIDECAR_SHUTDOWN_TIMEOUT: '5s',
  };
  const results: BenchResults = { machine: machine(), ...WORKLOAD, seconds: 0 };
  try {
    if (ONLY.has('ingest')) results.ingest = await ingestScenario(env, log);
    if (ONLY.has('flush')) results.flush = await flushScenario(env, log);
    if (ONLY.has('scaling')) results.scaling = await scalingScenario(env, log);
    if (ONLY.has('memory')) results.memory = await memoryScenario(env, log);
    if (ONLY.has('jetstream')) results.jetstream = await jetStreamScenario(env, log);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  results.seconds = (performance.now() - started) / 1000;
  log('');
  log(writeResults(RESULTS, results));
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
