/**
 * Scenario 2: a flush of 100 000 pending tracks, delivered to a real gRPC
 * upstream, while TrackStats keep arriving: the longest event-loop stall
 * inside the sidecar and the ack latency the SFU sees meanwhile.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Loadgen } from '../src/cli/loadgen.js';
import type { LatencySummary } from '../src/cli/latency.js';
import { BenchChild } from './child.js';
import type { LoopDelay } from './ipc.js';
import {
  FLUSH_LOAD_STATS_PER_SECOND,
  IN_FLIGHT,
  PARTICIPANTS,
  ROOM_SIZE,
  STATS_PER_MESSAGE,
  STREAMS,
  TRACKS,
} from './settings.js';

export interface FlushResult {
  pendingTracks: number;
  statsEmitted: number;
  /** Flush{wait_delivered} from request to response: flush, encode, send, upstream ack; in seconds. */
  flushSeconds: number;
  delivered: boolean;
  loadStatsPerSecond: number;
  loopDelay: LoopDelay;
  ackDuringFlush: LatencySummary;
}

const LEAD_IN_MS = 1_000;

export async function flushScenario(env: Record<string, string>, log: (line: string) => void): Promise<FlushResult> {
  log('flush: 100 000 pending tracks flushed and delivered during ingest');
  const upstream = await BenchChild.start('upstream');
  const sidecar = await BenchChild.start('sidecar', {
    ...env,
    SIDECAR_UPSTREAM: `grpc://${upstream.target}`,
    SIDECAR_FLUSH_INTERVAL: '1h',
  });
  const loadgen = new Loadgen({
    target: sidecar.target,
    participants: PARTICIPANTS,
    tracks: TRACKS,
    statsPerMessage: STATS_PER_MESSAGE,
    streams: STREAMS,
    roomSize: ROOM_SIZE,
    inFlight: IN_FLIGHT,
  });
  try {
    await loadgen.setup();
    await loadgen.ingest({ messages: loadgen.messagesPerRound });
    // the SFU keeps reporting while the flush runs
    const stop = new AbortController();
    const load = loadgen.ingest({ durationMs: 120_000, rate: FLUSH_LOAD_STATS_PER_SECOND, signal: stop.signal });
    await sleep(LEAD_IN_MS);
    await sidecar.ask('loop-delay-start');
    const from = performance.now();
    const flush = await loadgen.flush(true);
    const to = performance.now();
    const loopDelay = await sidecar.ask<LoopDelay>('loop-delay-stop');
    stop.abort();
    const background = await load;
    if (background.statsPerSecond < FLUSH_LOAD_STATS_PER_SECOND * 0.9) {
      log(
        `  note: the sidecar kept up with only ${Math.round(background.statsPerSecond)} stats/s of the ${FLUSH_LOAD_STATS_PER_SECOND} offered`,
      );
    }
    const ackDuringFlush = loadgen.latency.summary(from, to);
    const result: FlushResult = {
      pendingTracks: PARTICIPANTS * TRACKS,
      statsEmitted: flush.statsEmitted,
      flushSeconds: flush.seconds,
      delivered: flush.delivered,
      loadStatsPerSecond: FLUSH_LOAD_STATS_PER_SECOND,
      loopDelay,
      ackDuringFlush,
    };
    log(
      `  flush of ${flush.statsEmitted} stats in ${flush.seconds.toFixed(2)} s; longest stall ${loopDelay.maxMs.toFixed(1)} ms; ack p99 ${ackDuringFlush.p99.toFixed(1)} ms`,
    );
    return result;
  } finally {
    await loadgen.close().catch(() => undefined);
    await sidecar.stop();
    await upstream.stop();
  }
}
