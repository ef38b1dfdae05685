/**
 * Scenario 1: ingest throughput through the whole sidecar next to two
 * references on the same load generator and workload, each server alone in
 * its own child process: a transport-only grpc-js server (no decoding, a
 * pre-encoded ack: the stack's ceiling) and a bare grpc-js server that
 * decodes with proto-loader's defaults. Then the sidecar's ack latency at
 * 80 % of the maximum rate it reached.
 */
import { Loadgen, type PhaseReport } from '../src/cli/loadgen.js';
import { BenchChild } from './child.js';
import type { ChildMode, CpuReading } from './ipc.js';
import {
  INGEST_MEASURE_MS,
  INGEST_ROUNDS,
  INGEST_WARMUP_MS,
  loadgenOptions,
  PACED_MEASURE_MS,
  PACED_SHARE,
} from './settings.js';

/** A measured window, with CPU figures: the server's (from its own process.cpuUsage) and the load generator's. */
export interface IngestMeasure extends PhaseReport {
  /** Stats the server acknowledged as accepted in the window (TrackStatsResponse.accepted). */
  statsAccepted: number;
  /** Server process CPU time (all threads, user + system) per accepted stat; in microseconds. */
  serverCpuUsPerStat: number;
  /** Server process CPU over the window (1.0 = one core busy). */
  serverCpu: number;
  /** Load generator CPU over the window (1.0 = one core busy), to show it was not the limit. */
  loadgenCpu: number;
}

export interface IngestRound {
  transport: number;
  bare: number;
  sidecar: number;
}

export interface PacedMeasure extends IngestMeasure {
  /** stats/s offered: PACED_SHARE × the sidecar's pooled maximum */
  offered: number;
}

export interface IngestResult {
  transport: IngestMeasure;
  bare: IngestMeasure;
  sidecar: IngestMeasure;
  /** sidecar stats/s ÷ transport-only stats/s, each pooled over its rounds */
  vsTransport: number;
  /** sidecar stats/s ÷ bare stats/s, each pooled over its rounds */
  vsBare: number;
  rounds: IngestRound[];
  paced: PacedMeasure;
}

const cpuMicros = (c: CpuReading) => c.user + c.system;

async function window(loadgen: Loadgen, child: BenchChild, durationMs: number, rate?: number): Promise<IngestMeasure> {
  const acceptedBefore = loadgen.totals().accepted;
  const serverBefore = await child.ask<CpuReading>('cpu');
  const own = process.cpuUsage();
  const report = await loadgen.ingest(rate === undefined ? { durationMs } : { durationMs, rate });
  const ownUsed = process.cpuUsage(own);
  const serverAfter = await child.ask<CpuReading>('cpu');
  const statsAccepted = loadgen.totals().accepted - acceptedBefore;
  const serverMicros = cpuMicros(serverAfter) - cpuMicros(serverBefore);
  return {
    ...report,
    statsAccepted,
    serverCpuUsPerStat: statsAccepted > 0 ? serverMicros / statsAccepted : NaN,
    serverCpu: serverMicros / 1e6 / report.seconds,
    loadgenCpu: cpuMicros(ownUsed) / 1e6 / report.seconds,
  };
}

function check(loadgen: Loadgen, label: string): void {
  const totals = loadgen.totals();
  if (totals.streamErrors > 0) throw new Error(`${label}: ${totals.streamErrors} stream errors: ${loadgen.firstError}`);
}

function describe(label: string, m: IngestMeasure): string {
  return `  ${label}: ${Math.round(m.statsPerSecond)} stats/s, ack p50 ${m.ackLatencyMs.p50.toFixed(1)} ms, p99 ${m.ackLatencyMs.p99.toFixed(1)} ms; server CPU ${m.serverCpuUsPerStat.toFixed(2)} µs/stat (${(m.serverCpu * 100).toFixed(0)} % of a core); load generator ${(m.loadgenCpu * 100).toFixed(0)} %`;
}

/** Full speed: warm-up, then the measured window. */
async function measure(child: BenchChild, log: (line: string) => void, label: string): Promise<IngestMeasure> {
  const loadgen = new Loadgen(loadgenOptions(child.target));
  try {
    await loadgen.setup();
    await loadgen.ingest({ durationMs: INGEST_WARMUP_MS });
    const m = await child.profiled(`ingest-${label.replace(/\W+/g, '')}`, () =>
      window(loadgen, child, INGEST_MEASURE_MS),
    );
    check(loadgen, label);
    log(describe(label, m));
    return m;
  } finally {
    await loadgen.close().catch(() => undefined);
  }
}

/** Combines windows into one: totals over total time, latencies of the last window. */
function pooled(windows: IngestMeasure[]): IngestMeasure {
  const seconds = windows.reduce((a, w) => a + w.seconds, 0);
  const statsAcked = windows.reduce((a, w) => a + w.statsAcked, 0);
  const statsAccepted = windows.reduce((a, w) => a + w.statsAccepted, 0);
  const serverMicros = windows.reduce((a, w) => a + w.serverCpu * w.seconds * 1e6, 0);
  const last = windows[windows.length - 1]!;
  return {
    ...last,
    seconds,
    statsAcked,
    statsAccepted,
    statsPerSecond: statsAcked / seconds,
    serverCpuUsPerStat: serverMicros / statsAccepted,
    serverCpu: serverMicros / 1e6 / seconds,
    loadgenCpu: windows.reduce((a, w) => a + w.loadgenCpu * w.seconds, 0) / seconds,
  };
}

async function fresh(
  mode: ChildMode,
  env: Record<string, string>,
  run: (child: BenchChild) => Promise<IngestMeasure>,
): Promise<IngestMeasure> {
  const child = await BenchChild.start(mode, env);
  return run(child).finally(() => child.stop());
}

export async function ingestScenario(env: Record<string, string>, log: (line: string) => void): Promise<IngestResult> {
  log(`ingest: transport-only, bare proto-loader and the sidecar, alternating, ${INGEST_ROUNDS} rounds each`);
  const windows: Record<'transport' | 'bare' | 'sidecar', IngestMeasure[]> = { transport: [], bare: [], sidecar: [] };
  // no scheduled flush inside the window: this measures ingest alone (scenario 2 measures flushes)
  const sidecarEnv = { ...env, SIDECAR_FLUSH_INTERVAL: '1h' };
  // alternating rounds, each server fresh in its own child, so drift on a shared machine hits all alike
  for (let round = 1; round <= INGEST_ROUNDS; round++) {
    windows.transport.push(await fresh('transport', {}, (c) => measure(c, log, `transport #${round}`)));
    windows.bare.push(await fresh('bare', {}, (c) => measure(c, log, `bare      #${round}`)));
    windows.sidecar.push(await fresh('sidecar', sidecarEnv, (c) => measure(c, log, `sidecar   #${round}`)));
  }
  const transport = pooled(windows.transport);
  const bare = pooled(windows.bare);
  const sidecar = pooled(windows.sidecar);

  const offered = Math.round(sidecar.statsPerSecond * PACED_SHARE);
  const paced = await fresh('sidecar', sidecarEnv, async (child) => {
    const loadgen = new Loadgen(loadgenOptions(child.target));
    try {
      await loadgen.setup();
      await loadgen.ingest({ durationMs: INGEST_WARMUP_MS, rate: offered });
      const m = await window(loadgen, child, PACED_MEASURE_MS, offered);
      check(loadgen, 'paced');
      log(describe(`sidecar at ${PACED_SHARE * 100} % (${offered} stats/s offered)`, m));
      return m;
    } finally {
      await loadgen.close().catch(() => undefined);
    }
  });

  return {
    transport,
    bare,
    sidecar,
    vsTransport: sidecar.statsPerSecond / transport.statsPerSecond,
    vsBare: sidecar.statsPerSecond / bare.statsPerSecond,
    rounds: windows.sidecar.map((w, i) => ({
      transport: windows.transport[i]!.statsPerSecond,
      bare: windows.bare[i]!.statsPerSecond,
      sidecar: w.statsPerSecond,
    })),
    paced: { ...paced, offered },
  };
}
