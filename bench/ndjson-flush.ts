/**
 * A flush of every pending track into a real NDJSON file sink, in process:
 * the load generator's pre-encoded Session requests give each track one
 * stat, then a real FlushScheduler walks the registry into a real Delivery
 * and NdjsonFileSink (a temporary directory) and the round ends when the
 * flush is delivered (written and fdatasync'd). What a shared machine
 * disturbs least is reported: process CPU per flushed stat, the longest
 * event-loop gap in CPU time (stall-monitor.ts, with the GC pauses inside
 * it) and, for reference, `monitorEventLoopDelay`'s maximum in wall time.
 *
 *   node dist/bench/ndjson-flush.js [rounds] [participants]
 *
 * Defaults: 3 rounds (the first is cold), 10 000 participants × 10 tracks
 * (the bench's 100 000 pending tracks). `FLUSH_MODE=delivery` measures the
 * sink's path alone: the same number of flush-shaped stats (warm-up.ts),
 * made once, enqueued in the scheduler's chunks of 8, sealed and delivered
 * each round, with no registry or ingest (`FLUSH_SCORES=random`: a
 * different score on every stat, as the load generator sends). `FLUSH_PROF=FILE` writes a CPU
 * profile of the flushes alone; `FLUSH_SPOOL=1` adds a spool directory;
 * `FLUSH_DIR=DIR` writes into DIR (e.g. one holding the files of an earlier
 * run, as a restarted sidecar finds them) and `FLUSH_FILE_MAX=BYTES` rotates
 * the file at that size, as SIDECAR_FILE_MAX_BYTES does (default: never). For
 * instruction counts, run it under cachegrind for 2 and for 12 rounds and
 * divide the difference by the stats of 10 rounds (bench/README.md). The
 * last line printed is JSON.
 */
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Session as InspectorSession } from 'node:inspector/promises';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { WorkerRegistry } from '../src/core/registry.js';
import { SidecarMetrics } from '../src/observe/metrics.js';
import { FlushScheduler } from '../src/schedule/scheduler.js';
import { StatStamper } from '../src/schedule/stamp.js';
import { warmUpStat } from '../src/schedule/warm-up.js';
import { Delivery } from '../src/upstream/delivery.js';
import { NdjsonFileSink } from '../src/upstream/ndjson-sink.js';
import { Spool } from '../src/upstream/spool.js';
import { StallMonitor, type Stall } from './stall-monitor.js';
import { benchPlan, benchService, benchSession, silentLogger, StandInCall, TRACKS } from './session-harness.js';

const rounds = Number(process.argv[2] ?? '3');
const participants = Number(process.argv[3] ?? '10000');
const plan = benchPlan(participants, 'ndjson-flush', Date.now());

const logger = silentLogger;
const metrics = new SidecarMetrics({ defaultMetrics: false });
const registry = new WorkerRegistry({ closeWaitMs: 180_000, maxWorkers: 1_000_000, maxTracksPerWorker: 1_000 });
const dir = process.env.FLUSH_DIR ?? mkdtempSync(join(tmpdir(), 'ndjson-flush-'));
const sink = new NdjsonFileSink(join(dir, 'stats.ndjson'), {
  maxBytes: Number(process.env.FLUSH_FILE_MAX ?? 1024 ** 4),
});

async function main(): Promise<void> {
  // as the sidecar does at start (src/app.ts)
  await sink.prepare();
  const spool =
    process.env.FLUSH_SPOOL === '1'
      ? await Spool.open(join(dir, 'spool'), { format: sink.format, newId: () => 'x', quarantineMaxBytes: 0 })
      : undefined;
  const delivery = new Delivery(
    sink,
    { batchMaxStats: 1000, queueMaxBytes: 1024 ** 3, ...(spool && { spool: spool.spool }) },
    metrics,
    logger,
  );
  const scheduler = new FlushScheduler(
    registry,
    new StatStamper('bench-node', '', 'benchbenchbe'),
    delivery,
    { observeFlush: () => undefined, workerReaped: () => undefined },
    logger,
    { intervalMs: 3_600_000 },
  );
  const service = benchService(registry, metrics, () => scheduler.flush());
  const { send } = benchSession(new StandInCall(), service);
  await send([plan.hello, ...plan.participants.map((p) => p.activate)]);

  // the warm-up runs at start, as in the sidecar; wait for it to finish (it yields between 1 ms slices)
  scheduler.start();
  scheduler.stop();
  await new Promise((resolve) => setTimeout(resolve, 200));

  const profileTo = process.env.FLUSH_PROF;
  const inspector = profileTo ? new InspectorSession() : undefined;
  if (inspector) {
    inspector.connect();
    await inspector.post('Profiler.enable');
    await inspector.post('Profiler.start');
  }
  // a CPU profile's timestamps are CLOCK_MONOTONIC microseconds, as process.hrtime
  const profileClockUs = (nowMs: number) =>
    Number(process.hrtime.bigint() / 1000n) - (performance.now() - nowMs) * 1000;
  const gaps: { round: number; cpuMs: number; gcMs: number; fromUs: number; toUs: number }[] = [];
  let cpuUs = 0;
  let userUs = 0;
  let statsFlushed = 0;
  const perRound: { stats: number; cpuMs: number; worstCpuMs: number; loopMaxMs: number; worst: Stall[] }[] = [];
  const deliveryOnly = process.env.FLUSH_MODE === 'delivery';
  const made = deliveryOnly ? Array.from({ length: participants * TRACKS }, (_, i) => warmUpStat(i, Date.now())) : [];
  // FLUSH_SCORES=random: one score per stat as the load generator makes them (3.5 + random, float32), min and median equal
  if (process.env.FLUSH_SCORES === 'random') {
    let seed = 1;
    for (const stat of made) {
      seed = (seed * 16807) % 2147483647;
      stat.score = stat.minScore = stat.medianScore = Math.fround(3.5 + seed / 2147483647);
    }
  }
  /** The sink's path alone: enqueue in the scheduler's chunks, seal, wait for delivery. */
  const deliverMade = async () => {
    for (let i = 0; i < made.length; i += 8) delivery.enqueue(made.slice(i, i + 8));
    const { delivered } = delivery.seal();
    return { statsEmitted: made.length, delivered };
  };
  for (let round = 0; round < rounds; round++) {
    if (!deliveryOnly) await send(plan.stats);
    if (process.env.FLUSH_MARKS === '1')
      process.stderr.write(`flush ${round + 1} starts at ${Math.round(performance.now())} ms\n`);
    const delay = monitorEventLoopDelay({ resolution: 1 });
    const stalls = new StallMonitor();
    delay.enable();
    stalls.start();
    const before = process.cpuUsage();
    const result = deliveryOnly ? await deliverMade() : await scheduler.flush();
    if (!(await result.delivered)) throw new Error('flush not delivered');
    const used = process.cpuUsage(before);
    const worst = stalls.stop();
    delay.disable();
    const us = used.user + used.system;
    for (const w of worst) {
      gaps.push({
        round: round + 1,
        cpuMs: w.cpuMs,
        gcMs: w.gcMs,
        fromUs: profileClockUs(w.fromMs),
        toUs: profileClockUs(w.toMs),
      });
    }
    cpuUs += us;
    userUs += used.user;
    statsFlushed += result.statsEmitted;
    perRound.push({
      stats: result.statsEmitted,
      cpuMs: us / 1000,
      worstCpuMs: worst[0]?.cpuMs ?? 0,
      loopMaxMs: delay.max / 1e6,
      worst,
    });
    process.stderr.write(
      `round ${round + 1}: ${result.statsEmitted} stats, ${(us / result.statsEmitted).toFixed(2)} µs CPU/stat; worst gaps (CPU ms, GC ms): ${worst
        .map((w) => `${w.cpuMs.toFixed(1)}/${w.gcMs.toFixed(1)}[${w.gc.join(' ')}]`)
        .join(' ')}; loop delay max ${(delay.max / 1e6).toFixed(1)} ms\n`,
    );
  }
  if (inspector && profileTo) {
    const { profile } = await inspector.post('Profiler.stop');
    writeFileSync(profileTo, JSON.stringify(profile));
    writeFileSync(`${profileTo}.gaps.json`, JSON.stringify(gaps));
  }
  const fileBytes = statSync(join(dir, 'stats.ndjson')).size;
  await sink.close();
  rmSync(dir, { recursive: true, force: true });
  console.log(
    JSON.stringify({
      rounds,
      statsPerRound: statsFlushed / rounds,
      cpuUsPerStat: cpuUs / statsFlushed,
      // without the kernel's share (file writes, fdatasync)
      userUsPerStat: userUs / statsFlushed,
      bytesPerStat: fileBytes / statsFlushed,
      worstCpuMs: perRound.map((r) => Number(r.worstCpuMs.toFixed(1))),
      loopMaxMs: perRound.map((r) => Number(r.loopMaxMs.toFixed(1))),
    }),
  );
}

await main();
