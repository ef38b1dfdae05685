/** The bench's workload, as the scenarios of bench/README.md state it; `BENCH_SCALE` shrinks participant counts for quick local runs (the table says so). */
import type { LoadgenOptions } from '../src/cli/loadgen.js';

export const SCALE = Number(process.env.BENCH_SCALE ?? '1');
if (!(SCALE > 0 && SCALE <= 1)) throw new Error(`BENCH_SCALE must be in (0, 1], got ${process.env.BENCH_SCALE}`);

/** 10 000 participants × 10 tracks = 100 000 (track, direction) aggregates. */
export const PARTICIPANTS = Math.round(10_000 * SCALE);
export const TRACKS = 10;
export const STATS_PER_MESSAGE = 100;
export const ROOM_SIZE = 10;
/** Two Session streams, as an SFU process might open; unacknowledged requests allowed on each. */
export const STREAMS = 2;
export const IN_FLIGHT = 8;

/**
 * `BENCH_QUICK=1`: short ingest windows and one round, to check the machinery
 * (figures from it are not comparable; the table says so).
 */
export const QUICK = process.env.BENCH_QUICK === '1';

/** Ingest: JIT warm-up, then the measured window; in milliseconds. */
export const INGEST_WARMUP_MS = QUICK ? 1_500 : 4_000;
export const INGEST_MEASURE_MS = QUICK ? 3_000 : 7_500;
/**
 * Transport, bare and sidecar windows alternate this many times; the figures
 * pool them. Four short rounds rather than two long ones: this machine's
 * speed drifts between windows a minute apart by more than the builds
 * differ (per-round ratios to bare of 0.99–1.76 in one run), and more
 * alternation spreads the drift over all three servers (bench/README.md).
 */
export const INGEST_ROUNDS = QUICK ? 1 : 4;
/** Ack latency is measured at this share of the sidecar's measured maximum ingest rate (bench/README.md)... */
export const PACED_SHARE = 0.8;
/** ...over a window this long; in milliseconds. */
export const PACED_MEASURE_MS = QUICK ? 3_000 : 10_000;

/**
 * Flush under load: TrackStats keep coming at this rate while 100 000 tracks
 * are flushed and delivered. 20 000 stats/s is 100 000 tracks reporting every
 * 5 s, a busy SFU pod's steady state.
 */
export const FLUSH_LOAD_STATS_PER_SECOND = Math.round(20_000 * SCALE);

/** Memory: flush cycles with churn, and the share of participants that leave and rejoin per cycle. */
export const MEMORY_CYCLES = Number(process.env.BENCH_MEMORY_CYCLES ?? '20');
if (!(Number.isInteger(MEMORY_CYCLES) && MEMORY_CYCLES >= 2)) {
  throw new Error(`BENCH_MEMORY_CYCLES must be a whole number ≥ 2, got ${process.env.BENCH_MEMORY_CYCLES}`);
}
export const CHURN_PER_CYCLE = 0.1;
/** RSS after the last cycle may exceed RSS after the first by at most this share before we call it growth. */
export const RSS_GROWTH_TOLERANCE = 0.05;

/** Scaling curve: participants (× TRACKS tracks each) at each point, scaled like the rest. */
export const SCALING_PARTICIPANTS = [1_000, 10_000, 50_000].map((p) => Math.max(STREAMS, Math.round(p * SCALE)));
/** Full-speed ingest window at each scaling point; in milliseconds. */
export const SCALING_INGEST_MS = QUICK ? 2_000 : 5_000;

export const ONLY = new Set((process.env.BENCH_ONLY ?? 'ingest,flush,scaling,memory,jetstream').split(','));

/** The load generator as every scenario drives it: the workload above against `target`. */
export function loadgenOptions(target: string, participants = PARTICIPANTS, idPrefix?: string): LoadgenOptions {
  return {
    target,
    participants,
    tracks: TRACKS,
    statsPerMessage: STATS_PER_MESSAGE,
    streams: STREAMS,
    roomSize: ROOM_SIZE,
    inFlight: IN_FLIGHT,
    ...(idPrefix ? { idPrefix } : {}),
  };
}
