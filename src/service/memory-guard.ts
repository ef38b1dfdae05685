/**
 * Sheds load before the sidecar runs out of memory, and stops shedding when
 * memory falls again (docs/memory.md).
 *
 * The signal is the memory the sidecar holds: V8 heap in use plus external
 * memory (Buffers, typed arrays). RSS will not do: V8 and malloc keep pages
 * after a collection, so RSS hardly falls once it has risen, and a guard on it
 * refuses forever. Garbage is not pressure either, so above the high watermark
 * V8 is asked for a full collection before anything is shed (and, while
 * shedding, above the low one, so that recovery shows as soon as it happens).
 *
 * Shedding order: the delivery queue's oldest batches first, then a share of
 * new TrackStats requests growing with the overshoot, up to all of them at the
 * limit. Guards (Activate/Release) are never refused: they are small, and losing
 * one would corrupt a worker's lifecycle rather than lose a sample.
 *
 * The signal is sampled on a timer so that `check()`, called per request, costs
 * a comparison.
 */
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import type { Logger } from 'pino';
import { SidecarError } from '../core/errors.js';

/** Often enough to act well within a flush interval's growth; each sample reads process.memoryUsage(). */
const SAMPLE_INTERVAL_MS = 500;
/** Shedding starts above this share of the limit... */
export const HIGH_WATERMARK = 0.85;
/** ...and ends below this one: the gap keeps the guard from flapping with each collection. */
export const LOW_WATERMARK = 0.7;
/** A forced full collection pauses the loop for tens of ms: at most this often. */
const COLLECT_INTERVAL_MS = 5000;
/**
 * Dropped queue bytes count as freed until a forced collection shows them
 * freed, or for this long: by then one has run if memory stayed high.
 */
const SHED_CREDIT_MS = COLLECT_INTERVAL_MS + SAMPLE_INTERVAL_MS;

export type MemoryState = 'normal' | 'shedding';

export interface MemoryReading {
  heapUsed: number;
  /** Includes `arrayBuffers` (every Buffer), as process.memoryUsage() reports it. */
  external: number;
}

export interface MemoryStatus {
  state: MemoryState;
  /** V8 heap used + external at the last sample. */
  heldBytes: number;
  /** Share of new TrackStats requests refused, 0..1. */
  refuseShare: number;
  limitBytes: number;
}

export interface MemoryGuardOptions {
  /** Held bytes at which every new stat is refused; undefined: no guard. */
  limitBytes: number | undefined;
  logger: Logger;
  /** Drops the oldest queued batches, at least `bytes` of them when there are; returns the bytes dropped. */
  shedQueue?: (bytes: number) => number;
  read?: () => MemoryReading;
  /** A full garbage collection; undefined: none available. */
  collect?: (() => void) | undefined;
  /** Lets go of what is kept only to be reused (spare aggregates, free batch buffers), for the collection to free. */
  dropReusable?: () => void;
  now?: () => number;
}

export class MemoryGuard {
  private state: MemoryState = 'normal';
  private held = 0;
  private refuseShare = 0;
  /** Error diffusion: refusing exactly `refuseShare` of requests, without randomness. */
  private refuseCredit = 0;
  private refusedRequests = 0;
  private shedQueueBytes = 0;
  private recentSheds: { at: number; bytes: number }[] = [];
  private lastCollect = -Infinity;
  private timer: NodeJS.Timeout | undefined;
  private readonly limit: number | undefined;
  private readonly high: number;
  private readonly low: number;
  private readonly read: () => MemoryReading;
  private readonly now: () => number;

  constructor(private readonly options: MemoryGuardOptions) {
    this.limit = options.limitBytes;
    this.high = (options.limitBytes ?? 0) * HIGH_WATERMARK;
    this.low = (options.limitBytes ?? 0) * LOW_WATERMARK;
    this.read = options.read ?? (() => process.memoryUsage());
    this.now = options.now ?? Date.now;
  }

  start(): void {
    if (this.limit === undefined || this.timer) return;
    this.sample();
    this.timer = setInterval(() => this.sample(), SAMPLE_INTERVAL_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  status(): MemoryStatus {
    return { state: this.state, heldBytes: this.held, refuseShare: this.refuseShare, limitBytes: this.limit ?? 0 };
  }

  /** Before a TrackStats request is decoded: throws UNAVAILABLE (retryable) for the share being refused. */
  check(): void {
    if (this.refuseShare === 0) return;
    this.refuseCredit += this.refuseShare;
    if (this.refuseCredit < 1) return;
    this.refuseCredit -= 1;
    this.refusedRequests++;
    throw new SidecarError(
      'UNAVAILABLE',
      `memory limit reached (SIDECAR_MEMORY_LIMIT_MB=${Math.round((this.limit ?? 0) / 2 ** 20)}): stats refused, retry later`,
      'memory_limit',
    );
  }

  sample(): void {
    if (this.limit === undefined) return;
    const now = this.now();
    let held = this.measure();
    // garbage is not pressure; and while shedding, collecting shows at once what the shedding freed
    const suspect = this.state === 'normal' ? this.high : this.low;
    // kept for reuse is not pressure either: let it go before anything is collected or shed
    if (held > suspect) this.options.dropReusable?.();
    if (held > suspect && this.options.collect && now - this.lastCollect >= COLLECT_INTERVAL_MS) {
      this.lastCollect = now;
      const started = performance.now();
      this.options.collect();
      const before = held;
      held = this.measure();
      // what was dropped before is freed now, and this reading shows it
      this.recentSheds = [];
      this.options.logger.debug(
        { pauseMs: Math.round(performance.now() - started), beforeMb: mb(before), afterMb: mb(held) },
        'memory guard: forced a full collection',
      );
    }
    this.held = held;
    this.recentSheds = this.recentSheds.filter((s) => now - s.at < SHED_CREDIT_MS);
    let pendingFree = this.recentSheds.reduce((n, s) => n + s.bytes, 0);

    if (this.state === 'normal' && held > this.high) this.enter('shedding', held);
    else if (this.state === 'shedding' && held < this.low) this.enter('normal', held);
    if (this.state === 'normal') {
      this.setRefuseShare(0);
      return;
    }
    if (held - pendingFree > this.high && this.options.shedQueue) {
      const dropped = this.options.shedQueue(held - pendingFree - this.low);
      if (dropped > 0) {
        this.recentSheds.push({ at: now, bytes: dropped });
        this.shedQueueBytes += dropped;
        pendingFree += dropped;
      }
    }
    this.setRefuseShare(clamp01((held - pendingFree - this.high) / (this.limit - this.high)));
  }

  private measure(): number {
    const m = this.read();
    return m.heapUsed + m.external;
  }

  private setRefuseShare(share: number): void {
    this.refuseShare = share;
    if (share === 0) this.refuseCredit = 0;
  }

  private enter(state: MemoryState, held: number): void {
    const fields = {
      heldMb: mb(held),
      highMb: mb(this.high),
      lowMb: mb(this.low),
      limitMb: mb(this.limit ?? 0),
    };
    if (state === 'shedding') {
      this.options.logger.warn(
        fields,
        'memory guard: shedding load (oldest queued batches, then a share of new stats)',
      );
    } else {
      this.options.logger.info(
        { ...fields, refusedRequests: this.refusedRequests, shedQueueMb: mb(this.shedQueueBytes) },
        'memory guard: recovered, accepting every stat',
      );
      this.refusedRequests = 0;
      this.shedQueueBytes = 0;
    }
    this.state = state;
  }
}

/**
 * V8's full collection, obtained without starting Node with --expose-gc:
 * the flag only affects contexts created while it is set.
 */
export function v8Collector(): (() => void) | undefined {
  try {
    setFlagsFromString('--expose-gc');
    const gc: unknown = runInNewContext('gc');
    return typeof gc === 'function' ? () => void (gc as () => unknown)() : undefined;
  } catch {
    return undefined;
  } finally {
    setFlagsFromString('--no-expose-gc');
  }
}

function clamp01(x: number): number {
  return x <= 0 ? 0 : x >= 1 ? 1 : x;
}

function mb(bytes: number): number {
  return Math.round((bytes / 2 ** 20) * 10) / 10;
}
