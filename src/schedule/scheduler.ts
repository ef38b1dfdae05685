/**
 * Flush timing: every flush interval and on demand, one flush at a time.
 * A flush walks the workers in time-boxed slices and yields to the event loop
 * between them, so ingest keeps going while 100 000 tracks are flushed.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { AnalyticsStat } from '../core/analytics.js';
import type { FlushRun, WorkerRegistry } from '../core/registry.js';
import type { StatsWorker } from '../core/worker.js';
import type { StatStamper } from './stamp.js';
import { WARM_UP_STATS, warmUpStat } from './warm-up.js';

/**
 * A slice runs until this much time has passed, then yields. Bounding time
 * rather than work keeps the SFU's acks prompt whatever a stat costs to
 * encode (it varies tenfold between sinks, and with GC pressure).
 */
export const FLUSH_SLICE_MS = 1;
/** Work between two clock reads (a worker visited or a stat emitted, encoded and queued). */
const CHUNK = 8;

export interface FlushSink {
  /** Takes the stats before it returns: the flush fills the same records again with its next chunk. */
  enqueue(stats: readonly AnalyticsStat[]): void;
  /** Ends the flush's share of the queue: promises of its batches' fate. */
  seal(): { delivered: Promise<boolean>; spooled: Promise<boolean> };
  /** Encodes the stat as enqueue would, and drops it: compiles the encode path before the first flush. */
  warm?(stat: AnalyticsStat): void;
}

export interface FlushObserver {
  observeFlush(seconds: number, emitted: number, reaped: number): void;
  workerReaped(worker: StatsWorker): void;
}

export interface FlushResult {
  workersFlushed: number;
  statsEmitted: number;
  workersReaped: number;
  /** Resolves once the upstream acknowledged every stat of this flush (false if any was dropped). */
  delivered: Promise<boolean>;
  /**
   * Every spool write of this flush is done (true: all on disk; without a
   * spool, true at once). Already settled when `flush()` resolves.
   */
  spooled: Promise<boolean>;
}

export interface SchedulerOptions {
  /** in milliseconds */
  intervalMs: number;
  now?: () => number;
}

export class FlushScheduler {
  private chain: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private readonly now: () => number;

  constructor(
    private readonly registry: WorkerRegistry,
    private readonly stamper: StatStamper,
    private readonly sink: FlushSink,
    private readonly observer: FlushObserver,
    private readonly logger: Logger,
    private readonly options: SchedulerOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  start(): void {
    this.timer ??= setInterval(() => {
      this.flush().catch((err: unknown) => this.logger.error({ err }, 'scheduled flush failed'));
    }, this.options.intervalMs);
    this.timer.unref();
    this.warmUp().catch((err: unknown) => this.logger.warn({ err }, 'encoder warm-up failed'));
  }

  /**
   * Encodes synthetic stats, in slices like a flush, so that the first real
   * flush runs a compiled encoder (bench/README.md, "cold flush").
   */
  private async warmUp(): Promise<void> {
    const warm = this.sink.warm?.bind(this.sink);
    if (!warm) return;
    const now = this.now();
    for (let i = 0; i < WARM_UP_STATS;) {
      const sliceEnd = performance.now() + FLUSH_SLICE_MS;
      do warm(warmUpStat(i++, now));
      while (i < WARM_UP_STATS && performance.now() < sliceEnd);
      await yieldToEventLoop();
    }
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * Queues a flush after any running one, so it covers every stat recorded
   * before the call. Resolves once the flush's batches are written to the
   * spool, so an answer to Flush means they survive a SIGKILL; the next flush
   * does not wait for the disk.
   */
  flush(): Promise<FlushResult> {
    const next = this.chain.then(() => this.run());
    this.chain = next.catch(() => undefined);
    return next.then(async (result) => {
      await result.spooled;
      return result;
    });
  }

  private async run(): Promise<FlushResult> {
    const started = performance.now();
    const run = this.registry.beginFlush(this.now());
    for (let done = false; !done;) {
      const sliceEnd = performance.now() + FLUSH_SLICE_MS;
      do done = this.chunk(run);
      while (!done && performance.now() < sliceEnd);
      if (!done) await yieldToEventLoop();
    }
    const { delivered, spooled } = this.sink.seal();
    this.observer.observeFlush((performance.now() - started) / 1000, run.statsEmitted, run.workersReaped);
    return {
      workersFlushed: run.workersFlushed,
      statsEmitted: run.statsEmitted,
      workersReaped: run.workersReaped,
      delivered,
      spooled,
    };
  }

  /** One chunk of a flush; true when the flush is complete. */
  private chunk(run: FlushRun): boolean {
    const step = run.step(CHUNK);
    if (step.stats.length > 0) {
      this.stamper.stamp(step.stats);
      this.sink.enqueue(step.stats);
    }
    for (const worker of step.reaped) this.observer.workerReaped(worker);
    return step.done;
  }
}
