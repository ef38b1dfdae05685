/**
 * Scenario 5: the scaling curve (issue 16). At 1k, 10k and 50k participants ×
 * 10 tracks, each in a fresh sidecar child delivering to a real gRPC
 * upstream: memory per track, the full-speed ingest rate, and the time to
 * flush and deliver every track once. Per-track figures should stay flat
 * (work and memory linear in tracks).
 */
import { Loadgen } from '../src/cli/loadgen.js';
import { BenchChild } from './child.js';
import type { MemoryReading } from './ipc.js';
import { loadgenOptions, SCALING_INGEST_MS, SCALING_PARTICIPANTS, TRACKS } from './settings.js';

export interface ScalingPoint {
  participants: number;
  tracks: number;
  /** Full-speed ingest over SCALING_INGEST_MS with every track pending. */
  statsPerSecond: number;
  /** Flush{wait_delivered} of every track, the process's second flush; in seconds. */
  flushSeconds: number;
  statsEmitted: number;
  /** Memory after two full GCs, before activating anyone and with every track pending. */
  baseline: MemoryReading;
  active: MemoryReading;
  /** (active − baseline) ÷ tracks: workers, guards, leases and aggregates, per track; in bytes. */
  rssPerTrack: number;
  heapPerTrack: number;
}

export interface ScalingResult {
  points: ScalingPoint[];
}

async function point(env: Record<string, string>, participants: number, log: (line: string) => void) {
  const upstream = await BenchChild.start('upstream');
  const sidecar = await BenchChild.start('sidecar', {
    ...env,
    SIDECAR_UPSTREAM: `grpc://${upstream.target}`,
    SIDECAR_FLUSH_INTERVAL: '1h',
  });
  const loadgen = new Loadgen(loadgenOptions(sidecar.target, participants));
  try {
    await loadgen.hello();
    const baseline = await sidecar.ask<MemoryReading>('memory');
    await loadgen.activateAll();
    // one flush first, so the measured one runs compiled code at every point (the cold flush is scenario 2's)
    await loadgen.ingest({ messages: loadgen.messagesPerRound });
    await loadgen.flush(true);
    await loadgen.ingest({ messages: loadgen.messagesPerRound });
    const active = await sidecar.ask<MemoryReading>('memory');
    const ingest = await loadgen.ingest({ durationMs: SCALING_INGEST_MS });
    // the ingest window only adds to tracks already pending: the flush emits each track once
    const flush = await loadgen.flush(true);
    if (!flush.delivered) throw new Error(`scaling ${participants}: the flush was not delivered`);
    if (loadgen.totals().streamErrors > 0) throw new Error(`scaling ${participants}: ${loadgen.firstError}`);
    const tracks = participants * TRACKS;
    const p: ScalingPoint = {
      participants,
      tracks,
      statsPerSecond: ingest.statsPerSecond,
      flushSeconds: flush.seconds,
      statsEmitted: flush.statsEmitted,
      baseline,
      active,
      rssPerTrack: (active.rss - baseline.rss) / tracks,
      heapPerTrack: (active.heapUsed - baseline.heapUsed) / tracks,
    };
    log(
      `  ${participants} participants × ${TRACKS}: ${Math.round(p.statsPerSecond)} stats/s; flush of ${p.statsEmitted} in ${p.flushSeconds.toFixed(2)} s (${((p.flushSeconds / tracks) * 1e6).toFixed(1)} µs/track); RSS ${p.rssPerTrack.toFixed(0)} B/track, heap ${p.heapPerTrack.toFixed(0)} B/track`,
    );
    return p;
  } finally {
    await loadgen.close().catch(() => undefined);
    await sidecar.stop();
    await upstream.stop();
  }
}

export async function scalingScenario(
  env: Record<string, string>,
  log: (line: string) => void,
): Promise<ScalingResult> {
  log(`scaling: ${SCALING_PARTICIPANTS.join(', ')} participants × ${TRACKS} tracks, each in a fresh sidecar`);
  const points: ScalingPoint[] = [];
  for (const participants of SCALING_PARTICIPANTS) points.push(await point(env, participants, log));
  return { points };
}
