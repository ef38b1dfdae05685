/**
 * Scenario 1: ingest throughput through the whole sidecar next to a bare
 * grpc-js server that only decodes with proto-loader's defaults; same load
 * generator, same workload, each server alone in its own child process.
 */
import { Loadgen, type PhaseReport } from '../src/cli/loadgen.js';
import { BenchChild } from './child.js';
import { INGEST_MEASURE_MS, INGEST_ROUNDS, INGEST_WARMUP_MS, loadgenOptions } from './settings.js';

/** A measured window, with the load generator's own CPU use (1.0 = one core busy) to show it was not the limit. */
export interface IngestMeasure extends PhaseReport {
  loadgenCpu: number;
}

export interface IngestResult {
  sidecar: IngestMeasure;
  bare: IngestMeasure;
  /** sidecar stats/s ÷ bare stats/s, each pooled over its rounds */
  ratio: number;
  rounds: { sidecar: number; bare: number }[];
}

async function measure(child: BenchChild, log: (line: string) => void, label: string): Promise<IngestMeasure> {
  const loadgen = new Loadgen(loadgenOptions(child.target));
  try {
    await loadgen.setup();
    await loadgen.ingest({ durationMs: INGEST_WARMUP_MS });
    const cpu = process.cpuUsage();
    const report = await loadgen.ingest({ durationMs: INGEST_MEASURE_MS });
    const used = process.cpuUsage(cpu);
    const loadgenCpu = (used.user + used.system) / 1e6 / report.seconds;
    const totals = loadgen.totals();
    if (totals.streamErrors > 0)
      throw new Error(`${label}: ${totals.streamErrors} stream errors: ${loadgen.firstError}`);
    log(
      `  ${label}: ${Math.round(report.statsPerSecond)} stats/s, ack p50 ${report.ackLatencyMs.p50.toFixed(1)} ms, p99 ${report.ackLatencyMs.p99.toFixed(1)} ms; load generator CPU ${(loadgenCpu * 100).toFixed(0)} % of a core`,
    );
    return { ...report, loadgenCpu };
  } finally {
    await loadgen.close().catch(() => undefined);
  }
}

/** Combines windows into one: total stats over total time, latencies of the last window. */
function pooled(windows: IngestMeasure[]): IngestMeasure {
  const seconds = windows.reduce((a, w) => a + w.seconds, 0);
  const statsAcked = windows.reduce((a, w) => a + w.statsAcked, 0);
  const last = windows[windows.length - 1]!;
  return {
    ...last,
    seconds,
    statsAcked,
    statsPerSecond: statsAcked / seconds,
    loadgenCpu: windows.reduce((a, w) => a + w.loadgenCpu * w.seconds, 0) / seconds,
  };
}

export async function ingestScenario(env: Record<string, string>, log: (line: string) => void): Promise<IngestResult> {
  log(`ingest: bare grpc-js + proto-loader defaults and the sidecar, alternating, ${INGEST_ROUNDS} rounds each`);
  const bare: IngestMeasure[] = [];
  const sidecar: IngestMeasure[] = [];
  // alternating rounds, each server fresh in its own child, so drift on a shared machine hits both alike
  for (let round = 1; round <= INGEST_ROUNDS; round++) {
    const bareChild = await BenchChild.start('bare');
    bare.push(await measure(bareChild, log, `bare    #${round}`).finally(() => bareChild.stop()));
    // no scheduled flush inside the window: this measures ingest alone (scenario 2 measures flushes)
    const sidecarChild = await BenchChild.start('sidecar', { ...env, SIDECAR_FLUSH_INTERVAL: '1h' });
    sidecar.push(await measure(sidecarChild, log, `sidecar #${round}`).finally(() => sidecarChild.stop()));
  }
  const s = pooled(sidecar);
  const b = pooled(bare);
  return {
    sidecar: s,
    bare: b,
    ratio: s.statsPerSecond / b.statsPerSecond,
    rounds: sidecar.map((w, i) => ({ sidecar: w.statsPerSecond, bare: bare[i]!.statsPerSecond })),
  };
}
