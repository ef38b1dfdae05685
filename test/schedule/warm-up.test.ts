/**
 * The encoder warm-up at start: flush-shaped synthetic stats go through the
 * sink's encoder only (nothing is queued, so nothing reaches an upstream),
 * in slices that let other work run, and each of them is a stat both real
 * encoders accept as the library does.
 */
import { performance } from 'node:perf_hooks';
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AnalyticsStat } from '../../src/core/analytics.js';
import { WorkerRegistry } from '../../src/core/registry.js';
import { FlushScheduler, type FlushSink } from '../../src/schedule/scheduler.js';
import { StatStamper } from '../../src/schedule/stamp.js';
import { WARM_UP_STATS, warmUpStat } from '../../src/schedule/warm-up.js';
import { encodeNdjsonLineInto } from '../../src/wire/ndjson-encoder.js';
import { encodeChecked } from '../helpers/encode.js';
import { toJsonLine } from '../../src/wire/to-livekit.js';

class WarmingSink implements FlushSink {
  readonly warmed: AnalyticsStat[] = [];
  enqueued = 0;
  /** Warm-ups seen each time other work got a turn. */
  readonly interleaved: number[] = [];
  private done!: () => void;
  readonly finished = new Promise<void>((resolve) => (this.done = resolve));

  enqueue(stats: readonly AnalyticsStat[]): void {
    this.enqueued += stats.length;
  }
  seal() {
    return { delivered: Promise.resolve(true), spooled: Promise.resolve(true) };
  }
  warm(stat: AnalyticsStat): void {
    // a real encoder takes microseconds a stat; without that cost a fast machine warms up all of them
    // inside one 1 ms slice and the test would prove nothing about slicing
    const until = performance.now() + 0.002;
    while (performance.now() < until);
    this.warmed.push(stat);
    if (this.warmed.length === WARM_UP_STATS) this.done();
  }
}

let scheduler: FlushScheduler | undefined;
afterEach(() => scheduler?.stop());

function start(sink: FlushSink): FlushScheduler {
  const registry = new WorkerRegistry({ closeWaitMs: 0, maxWorkers: 10, maxTracksPerWorker: 10 });
  scheduler = new FlushScheduler(
    registry,
    new StatStamper('node-1', 'key', 'testprefix00'),
    sink,
    { observeFlush: vi.fn(), workerReaped: vi.fn() },
    pino({ level: 'silent' }),
    // a clock far from the epoch, as in production
    { intervalMs: 60_000, now: () => 1_764_000_000_000 },
  );
  scheduler.start();
  return scheduler;
}

describe('encoder warm-up', () => {
  it('encodes synthetic stats at start without queueing any, in slices other work runs between', async () => {
    const sink = new WarmingSink();
    start(sink);
    // other work on the event loop while the warm-up runs: it must get turns before the warm-up ends
    let turns = true;
    const other = () => {
      sink.interleaved.push(sink.warmed.length);
      if (turns) setImmediate(other);
    };
    setImmediate(other);
    await sink.finished;
    turns = false;
    expect(sink.warmed).toHaveLength(WARM_UP_STATS);
    expect(sink.enqueued).toBe(0);
    expect(sink.interleaved.some((n) => n > 0 && n < WARM_UP_STATS)).toBe(true);
  });

  it('uses stats every encoder writes as the library does', () => {
    for (const i of [0, 1, 2, 3, WARM_UP_STATS - 1]) {
      const stat = warmUpStat(i, 1_764_000_000_000);
      expect(encodeChecked(encodeNdjsonLineInto, stat).toString()).toBe(toJsonLine(stat));
      // every field set, so the encoder's every branch is exercised
      const json = JSON.parse(toJsonLine(stat)) as Record<string, unknown>;
      expect(Object.keys(json).length).toBeGreaterThanOrEqual(i % 2 === 0 ? 13 : 14);
    }
  });
});
