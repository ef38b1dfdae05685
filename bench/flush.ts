/**
 * Scenario 2: a flush of 100 000 pending tracks while TrackStats keep
 * arriving, once to each kind of sink: a real gRPC upstream in another
 * process, and the default NDJSON file. The longest event-loop stall inside
 * the sidecar (the first, cold flush of a fresh process included), the ack
 * latency the SFU sees meanwhile, and the stats/s each sink takes.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Loadgen } from '../src/cli/loadgen.js';
import type { LatencySummary } from '../src/cli/latency.js';
import { BenchChild } from './child.js';
import type { LoopDelay } from './ipc.js';
import { FLUSH_LOAD_STATS_PER_SECOND, loadgenOptions, PARTICIPANTS, TRACKS } from './settings.js';

/** One measured flush. */
export interface FlushRound {
  statsEmitted: number;
  /** Flush{wait_delivered} from request to response: flush, encode, send, upstream ack; in seconds. */
  flushSeconds: number;
  delivered: boolean;
  loopDelay: LoopDelay;
  ackDuringFlush: LatencySummary;
}

export type FlushSinkKind = 'grpc' | 'ndjson';

export interface FlushResult {
  pendingTracks: number;
  loadStatsPerSecond: number;
  /** Per sink, round 1 is the first flush of a fresh process (flush path not yet JIT-compiled); the rest are steady state. */
  sinks: Record<FlushSinkKind, FlushRound[]>;
}

/** Flushes measured per run: the first one cold, the others as a long-running sidecar flushes. */
export const FLUSH_ROUNDS = 3;
const LEAD_IN_MS = 1_000;

export async function flushScenario(env: Record<string, string>, log: (line: string) => void): Promise<FlushResult> {
  log(`flush: ${PARTICIPANTS * TRACKS} pending tracks flushed and delivered during ingest, to gRPC and to NDJSON`);
  const upstream = await BenchChild.start('upstream');
  try {
    const grpc = await sinkRounds({ ...env, SIDECAR_UPSTREAM: `grpc://${upstream.target}` }, log, 'grpc');
    // env's SIDECAR_UPSTREAM is the default kind of sink: an NDJSON file (in the run's temporary directory)
    const ndjson = await sinkRounds(env, log, 'ndjson');
    return {
      pendingTracks: PARTICIPANTS * TRACKS,
      loadStatsPerSecond: FLUSH_LOAD_STATS_PER_SECOND,
      sinks: { grpc, ndjson },
    };
  } finally {
    await upstream.stop();
  }
}

/** FLUSH_ROUNDS flushes in one fresh sidecar child. */
async function sinkRounds(
  env: Record<string, string>,
  log: (line: string) => void,
  sink: FlushSinkKind,
): Promise<FlushRound[]> {
  const sidecar = await BenchChild.start('sidecar', { ...env, SIDECAR_FLUSH_INTERVAL: '1h' });
  const loadgen = new Loadgen(loadgenOptions(sidecar.target));
  try {
    await loadgen.setup();
    const rounds: FlushRound[] = [];
    for (let round = 1; round <= FLUSH_ROUNDS; round++) {
      // one stat for every track: 100 000 aggregates pending
      await loadgen.ingest({ messages: loadgen.messagesPerRound });
      rounds.push(await measuredFlush(loadgen, sidecar, log, `${sink} round ${round}`));
    }
    return rounds;
  } finally {
    await loadgen.close().catch(() => undefined);
    await sidecar.stop();
  }
}

async function measuredFlush(loadgen: Loadgen, sidecar: BenchChild, log: (line: string) => void, label: string) {
  // the SFU keeps reporting while the flush runs
  const stop = new AbortController();
  const load = loadgen.ingest({ durationMs: 120_000, rate: FLUSH_LOAD_STATS_PER_SECOND, signal: stop.signal });
  await sleep(LEAD_IN_MS);
  await sidecar.ask('loop-delay-start');
  const from = performance.now();
  const flush = await sidecar.profiled(`flush-${label.replace(/\W+/g, '')}`, () => loadgen.flush(true));
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
  log(
    `  ${label}: flush of ${flush.statsEmitted} stats in ${flush.seconds.toFixed(2)} s; longest stall ${loopDelay.maxMs.toFixed(1)} ms (CPU ${loopDelay.cpuMaxMs.toFixed(1)} ms); ack p99 ${ackDuringFlush.p99.toFixed(1)} ms; ${Math.round(flush.statsEmitted / flush.seconds)} stats/s`,
  );
  if (process.env.BENCH_STALLS === '1') {
    for (const w of loopDelay.worst) {
      log(
        `    gap ${w.wallMs.toFixed(1)} ms wall, ${w.cpuMs.toFixed(1)} ms CPU; GC ${w.gcMs.toFixed(1)} ms [${w.gc.join(' ')}]`,
      );
    }
  }
  return {
    statsEmitted: flush.statsEmitted,
    flushSeconds: flush.seconds,
    delivered: flush.delivered,
    loopDelay,
    ackDuringFlush,
  };
}
