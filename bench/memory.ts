/**
 * Scenario 3 (memory) and 4 (delivery), on one sidecar: RSS per idle worker
 * and per active track, then flush cycles with participant churn, each
 * delivered to a real gRPC upstream, comparing RSS after the last cycle with
 * RSS after the first. Every RSS reading follows two full GCs in the sidecar.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Loadgen } from '../src/cli/loadgen.js';
import { BenchChild } from './child.js';
import type { MemoryReading } from './ipc.js';
import { CHURN_PER_CYCLE, loadgenOptions, MEMORY_CYCLES, PARTICIPANTS, STREAMS, TRACKS } from './settings.js';

export interface CycleReading {
  rss: number;
  heapUsed: number;
  statsEmitted: number;
  workersReaped: number;
  /** Flush{wait_delivered}: flush, encode, send and upstream ack; in seconds. */
  flushSeconds: number;
}

export interface MemoryResult {
  workers: number;
  tracks: number;
  baseline: MemoryReading;
  idle: MemoryReading;
  active: MemoryReading;
  /** RSS growth per idle worker; in bytes. */
  perIdleWorkerBytes: number;
  /** V8 heapUsed growth per idle worker: RSS can hide growth into pages freed earlier, the heap cannot. */
  heapPerIdleWorkerBytes: number;
  perActiveTrackBytes: number;
  heapPerActiveTrackBytes: number;
  cycles: CycleReading[];
  /** RSS after the last cycle minus RSS after the first; in bytes. */
  growthBytes: number;
  growthShare: number;
  /** heapUsed after the last cycle relative to after the first. */
  heapGrowthShare: number;
  /** Median over the cycles of stats emitted ÷ Flush{wait_delivered} time. */
  deliveryStatsPerSecond: number;
  upstreamReceived: number;
}

/** Compiles the hot paths and fills the pools before the baseline, then leaves nothing behind. */
async function warmUp(sidecar: BenchChild): Promise<void> {
  const warm = new Loadgen(loadgenOptions(sidecar.target, Math.max(STREAMS, Math.round(PARTICIPANTS / 10)), 'warm_'));
  await warm.setup();
  await warm.ingest({ messages: warm.messagesPerRound * 3 });
  await warm.flush(true);
  await warm.releaseAll();
  await sleep(5); // close_wait is 0 ms: reapable strictly after it
  await warm.flush(true);
  await warm.close();
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

export async function memoryScenario(env: Record<string, string>, log: (line: string) => void): Promise<MemoryResult> {
  log(
    `memory: ${PARTICIPANTS} idle workers, ${PARTICIPANTS * TRACKS} active tracks, ${MEMORY_CYCLES} flush cycles with churn`,
  );
  const upstream = await BenchChild.start('upstream');
  const sidecar = await BenchChild.start('sidecar', {
    ...env,
    SIDECAR_UPSTREAM: `grpc://${upstream.target}`,
    SIDECAR_FLUSH_INTERVAL: '1h',
    // churned-out workers are reaped by the next flush, so a steady state exists to compare against
    SIDECAR_CLOSE_WAIT: '0ms',
  });
  const loadgen = new Loadgen(loadgenOptions(sidecar.target));
  try {
    await warmUp(sidecar);
    await loadgen.hello();
    const baseline = await sidecar.ask<MemoryReading>('memory');
    await loadgen.activateAll();
    const idle = await sidecar.ask<MemoryReading>('memory');
    await loadgen.ingest({ messages: loadgen.messagesPerRound });
    const active = await sidecar.ask<MemoryReading>('memory');
    const workers = PARTICIPANTS;
    const tracks = PARTICIPANTS * TRACKS;
    log(
      `  idle workers: ${((idle.rss - baseline.rss) / workers).toFixed(0)} B each; active tracks: ${((active.rss - idle.rss) / tracks).toFixed(0)} B each`,
    );

    // the stats pending since `active` go out first, so every measured cycle is alike
    if (!(await loadgen.flush(true)).delivered) throw new Error('the first flush was not delivered');
    const cycles: CycleReading[] = [];
    for (let c = 1; c <= MEMORY_CYCLES; c++) {
      await loadgen.churn(Math.round(PARTICIPANTS * CHURN_PER_CYCLE));
      await loadgen.ingest({ messages: loadgen.messagesPerRound });
      const flush = await loadgen.flush(true);
      if (!flush.delivered) throw new Error(`cycle ${c}: the flush was not delivered`);
      const m = await sidecar.ask<MemoryReading>('memory');
      cycles.push({
        rss: m.rss,
        heapUsed: m.heapUsed,
        statsEmitted: flush.statsEmitted,
        workersReaped: flush.workersReaped,
        flushSeconds: flush.seconds,
      });
    }
    const first = cycles[0]!;
    const last = cycles[cycles.length - 1]!;
    const deliveryStatsPerSecond = median(cycles.map((c) => c.statsEmitted / c.flushSeconds));
    const received = await upstream.ask<{ stats: number }>('received');
    log(
      `  RSS after cycle 1: ${(first.rss / 2 ** 20).toFixed(1)} MiB, after cycle ${MEMORY_CYCLES}: ${(last.rss / 2 ** 20).toFixed(1)} MiB; delivery ${Math.round(deliveryStatsPerSecond)} stats/s`,
    );
    return {
      workers,
      tracks,
      baseline,
      idle,
      active,
      perIdleWorkerBytes: (idle.rss - baseline.rss) / workers,
      heapPerIdleWorkerBytes: (idle.heapUsed - baseline.heapUsed) / workers,
      perActiveTrackBytes: (active.rss - idle.rss) / tracks,
      heapPerActiveTrackBytes: (active.heapUsed - idle.heapUsed) / tracks,
      cycles,
      growthBytes: last.rss - first.rss,
      growthShare: (last.rss - first.rss) / first.rss,
      heapGrowthShare: (last.heapUsed - first.heapUsed) / first.heapUsed,
      deliveryStatsPerSecond,
      upstreamReceived: received.stats,
    };
  } finally {
    await loadgen.close().catch(() => undefined);
    await sidecar.stop();
    await upstream.stop();
  }
}
