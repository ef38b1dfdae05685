/**
 * The bounded queue between flush and upstream. Flushes never wait for it:
 * `enqueue` encodes and returns; one sender drains batches in order, retrying
 * transient failures with backoff; when the bound is passed the oldest queued
 * batches are dropped and counted. `seal` gives a flush a promise of its own
 * batches' fate, which is how Flush{wait_delivered} answers. With a spool,
 * a batch is written to disk before it may be sent, and removed once acked.
 */
import type { Logger } from 'pino';
import type { AnalyticsStat } from '../core/analytics.js';
import { Backoff } from './backoff.js';
import { SinkError, type Batch, type Sink } from './sink.js';
import type { Spool, SpooledBatch } from './spool.js';

export interface DeliveryMetrics {
  upstreamStats(result: 'delivered' | 'retried' | 'dropped', n: number): void;
  statsDropped(reason: string, n: number): void;
}

export interface DeliveryOptions {
  batchMaxStats: number;
  /** Bound on encoded bytes held (queued and being sent). */
  queueMaxBytes: number;
  backoff?: Backoff;
  spool?: Spool;
}

/** The batches cut between two seals: one flush's share of the queue. */
class Group {
  pending = 0;
  ok = true;
  sealed = false;
  readonly done: Promise<boolean>;
  private resolve!: (ok: boolean) => void;

  constructor() {
    this.done = new Promise((resolve) => (this.resolve = resolve));
  }

  settle(ok: boolean): void {
    this.ok &&= ok;
    this.pending--;
    this.maybeResolve();
  }

  maybeResolve(): void {
    if (this.sealed && this.pending === 0) this.resolve(this.ok);
  }
}

/** The batch being filled: its bytes are in Delivery's builder until it is cut. */
interface OpenBatch {
  bytes: number;
  count: number;
  group: Group;
}

interface QueuedBatch extends Batch {
  count: number;
  group: Group;
  /** The spool file once written; undefined when the write failed (the batch is then held in memory only). */
  spooled?: Promise<string | undefined>;
}

export interface DrainResult {
  /** Everything was acknowledged before the deadline. */
  drained: boolean;
  /** Batches left (for the spool, or counted as lost). */
  remaining: Batch[];
  remainingStats: number;
  /** The remaining batches are all safe in the spool for the next start. */
  spooled: boolean;
}

export class Delivery {
  private readonly queue: QueuedBatch[] = [];
  private open: OpenBatch | undefined;
  /** Holds the open batch's encodings back to back, so a batch costs one allocation rather than one per stat. */
  private builder = Buffer.allocUnsafe(64 * 1024);
  private group = new Group();
  private heldBytes = 0;
  private heldStats = 0;
  private sending = false;
  private readonly idleWaiters: (() => void)[] = [];
  private readonly backoff: Backoff;

  constructor(
    private readonly sink: Sink,
    private readonly options: DeliveryOptions,
    private readonly metrics: DeliveryMetrics,
    private readonly logger: Logger,
  ) {
    this.backoff = options.backoff ?? new Backoff();
  }

  /** Stats held and not yet acknowledged: the upstream queue gauge. */
  get queuedStats(): number {
    return this.heldStats;
  }

  get queuedBytes(): number {
    return this.heldBytes;
  }

  /** Encodes and queues stats; never waits for the upstream. */
  enqueue(stats: readonly AnalyticsStat[]): void {
    for (const stat of stats) {
      const payload = this.sink.encode(stat);
      let open = this.open;
      if (!open || open.count >= this.options.batchMaxStats || open.bytes + payload.length > this.sink.maxBatchBytes) {
        this.cut();
        open = this.open = { bytes: 0, count: 0, group: this.group };
        this.group.pending++;
      }
      this.append(open.bytes, payload);
      open.bytes += payload.length;
      open.count++;
      this.heldBytes += payload.length;
      this.heldStats++;
    }
    this.trim();
  }

  /** Encodes a stat and drops it: the scheduler warms the encoder at start with synthetic stats. */
  warm(stat: AnalyticsStat): void {
    this.sink.encode(stat);
  }

  /** Closes the current group: resolves true once all its batches are acknowledged, false if any was dropped. */
  seal(): Promise<boolean> {
    this.cut();
    const group = this.group;
    group.sealed = true;
    group.maybeResolve();
    this.group = new Group();
    this.pump();
    return group.done;
  }

  /** Waits up to `timeoutMs` for every sealed batch to be acknowledged; reports what is left. */
  async drain(timeoutMs: number): Promise<DrainResult> {
    this.seal();
    if (this.queue.length > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => this.idleWaiters.push(resolve)),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs))),
      ]);
      clearTimeout(timer);
    }
    const remaining = this.queue.slice();
    const files = await Promise.all(remaining.map((b) => b.spooled ?? Promise.resolve(undefined)));
    return {
      drained: remaining.length === 0,
      remaining,
      remainingStats: remaining.reduce((n, b) => n + b.count, 0),
      spooled: files.every((f) => f !== undefined),
    };
  }

  /** Queues batches spooled by an earlier run, ahead of anything new. */
  restore(batches: readonly SpooledBatch[]): void {
    const group = new Group();
    for (const b of batches) {
      group.pending++;
      this.queue.push({
        payloads: b.payloads,
        bytes: b.bytes,
        count: b.count,
        group,
        spooled: Promise.resolve(b.file),
      });
      this.heldBytes += b.bytes;
      this.heldStats += b.count;
    }
    group.sealed = true;
    this.trim();
    this.pump();
  }

  private append(at: number, payload: Uint8Array): void {
    if (at + payload.length > this.builder.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.builder.length * 2, at + payload.length));
      this.builder.copy(grown, 0, 0, at);
      this.builder = grown;
    }
    this.builder.set(payload, at);
  }

  private cut(): void {
    const open = this.open;
    if (!open) return;
    this.open = undefined;
    const payload = Buffer.allocUnsafe(open.bytes);
    this.builder.copy(payload, 0, 0, open.bytes);
    const batch: QueuedBatch = { payloads: [payload], bytes: open.bytes, count: open.count, group: open.group };
    const spool = this.options.spool;
    if (spool) {
      batch.spooled = spool.write(batch, batch.count).catch((err: unknown) => {
        this.logger.error({ err }, 'spool write failed: the batch is held in memory only');
        return undefined;
      });
    }
    this.queue.push(batch);
    this.pump();
  }

  /** Drops the oldest batches not being sent until the bound holds again. */
  private trim(): void {
    while (this.heldBytes > this.options.queueMaxBytes) {
      const index = this.sending ? 1 : 0;
      const victim = this.queue[index];
      if (!victim) break;
      this.queue.splice(index, 1);
      this.release(victim, false);
      this.metrics.statsDropped('queue_full', victim.count);
      this.metrics.upstreamStats('dropped', victim.count);
      this.logger.warn({ stats: victim.count, bytes: victim.bytes }, 'delivery queue full: dropped the oldest batch');
    }
  }

  private pump(): void {
    if (this.sending || this.queue.length === 0) return;
    this.sending = true;
    void this.run();
  }

  private async run(): Promise<void> {
    for (let batch = this.queue[0]; batch; batch = this.queue[0]) {
      try {
        // "written before it counts as queued": never send what is not yet on disk
        if (batch.spooled) await batch.spooled;
        await this.sink.send(batch);
        this.backoff.reset();
        this.shift(batch, true);
        this.metrics.upstreamStats('delivered', batch.count);
      } catch (err) {
        const retryable = err instanceof SinkError ? err.retryable : false;
        if (!retryable) {
          const reason = err instanceof SinkError ? err.reason : 'internal';
          this.shift(batch, false);
          this.metrics.statsDropped(reason, batch.count);
          this.metrics.upstreamStats('dropped', batch.count);
          this.logger.error(
            { err, stats: batch.count, reason, sink: this.sink.description },
            'upstream refused a batch: dropped',
          );
          continue;
        }
        this.metrics.upstreamStats('retried', batch.count);
        const delayMs = this.backoff.next();
        this.logger.warn(
          { err: (err as Error).message, delayMs, sink: this.sink.description },
          'upstream send failed: retrying',
        );
        await new Promise((resolve) => setTimeout(resolve, delayMs).unref());
      }
    }
    this.sending = false;
    for (const wake of this.idleWaiters.splice(0)) wake();
  }

  private shift(batch: QueuedBatch, ok: boolean): void {
    if (this.queue[0] === batch) this.queue.shift();
    this.release(batch, ok);
  }

  private release(batch: QueuedBatch, ok: boolean): void {
    this.heldBytes -= batch.bytes;
    this.heldStats -= batch.count;
    batch.group.settle(ok);
    const spool = this.options.spool;
    if (spool && batch.spooled) {
      void batch.spooled
        .then((file) => (file ? spool.remove(file) : undefined))
        .catch((err: unknown) => this.logger.warn({ err }, 'removing a spooled batch failed; it may be re-sent'));
    }
  }
}
