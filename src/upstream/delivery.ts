/**
 * The bounded queue between flush and upstream. Flushes never wait for it:
 * `enqueue` encodes and returns; one sender sends batches one at a time,
 * retrying transient failures with backoff; when the bound is passed the
 * oldest batches are dropped and counted. `seal` gives a flush promises of
 * its own batches' fate: on disk (with a spool) and delivered, which is how
 * Flush answers. A batch that keeps failing while others get through is a
 * poison batch: it is moved to the spool's quarantine so it cannot block the
 * rest. Every emitted stat ends delivered, dropped by reason, or still spooled.
 * See docs/delivery.md.
 */
import type { Logger } from 'pino';
import type { DropReason } from '../observe/drop-reasons.js';
import type { AnalyticsStat } from '../core/analytics.js';
import { Backoff } from './backoff.js';
import { BatchIds } from './batch-id.js';
import { Health } from './health.js';
import { NO_ROOM, SinkError, type Batch, type Sink } from './sink.js';
import { SlabPool, type Slab } from './slabs.js';
import { recordFootprint, type Spool, type SpoolDropReason, type SpoolOpenResult } from './spool.js';

/**
 * Failures, each after the upstream accepted other batches since this one's
 * previous failure, that make a batch poison. A down upstream accepts nothing,
 * so it never quarantines; a flaky one failing half of all calls would
 * quarantine a healthy batch with probability 2^-10.
 */
export const DEFAULT_QUARANTINE_STRIKES = 10;

/**
 * Smallest batch buffer (slab). Batches are cut back to back out of one
 * slab, and their payloads are views of it, so a slab lives until its last
 * batch is settled; a new one is at least four times the largest batch
 * seen, which bounds the bytes copied when an open batch moves to it.
 */
const SLAB_BYTES = 1024 * 1024;

/**
 * Free slabs kept for the next ones (slabs.ts): with batches acknowledged as
 * fast as they are encoded one is enough; a few MiB at most.
 */
const SPARE_SLABS = 2;

/**
 * Most room offered to one stat. A stat within the request limits encodes
 * to far less (docs/api.md, "Limits"); past this, a sink that keeps
 * answering NO_ROOM has its stat dropped as unencodable instead of having
 * the queue double its buffer until memory runs out.
 */
const MAX_STAT_BYTES = 64 * 1024 * 1024;

/**
 * A send, or the spool write it waits for, that has not completed after
 * this long marks the upstream (or the spool) failing. A gRPC call has its
 * own 30 s deadline; a write to a stuck disk or to a pipe nobody reads never
 * answers, and would otherwise look healthy while the queue fills.
 */
export const STALLED_MS = 60_000;

export interface DeliveryMetrics {
  upstreamStats(result: 'delivered' | 'retried' | 'dropped', n: number): void;
  statsDropped(reason: DropReason, n: number): void;
  upstreamUp(up: boolean): void;
  spoolWriteError(): void;
  spoolUnreadableRecords(n: number): void;
}

export interface DeliveryOptions {
  batchMaxStats: number;
  /** Bound on bytes held (queued and being sent); with a spool, each batch counts as what its record occupies on disk. */
  queueMaxBytes: number;
  backoff?: Backoff;
  spool?: Spool;
  ids?: BatchIds;
  /** default DEFAULT_QUARANTINE_STRIKES */
  quarantineStrikes?: number;
  /** Smallest batch buffer, in bytes; default SLAB_BYTES (tests make it tiny to move batches between slabs often). */
  slabBytes?: number;
  /** Most room offered to one stat; default MAX_STAT_BYTES (tests make it small). */
  maxStatBytes?: number;
}

/** The batches cut between two seals: one flush's share of the queue. */
class Group {
  pending = 0;
  ok = true;
  sealed = false;
  loggedUnencodable = false;
  /** One per batch with a spool write: true once it is on disk. */
  readonly writes: Promise<boolean>[] = [];
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

/** The batch being filled: its bytes are the slab's from `Delivery.start` to `Delivery.end`. */
interface OpenBatch {
  bytes: number;
  count: number;
  group: Group;
}

interface QueuedBatch extends Batch {
  /** What the queue bound charges for it. */
  readonly cost: number;
  readonly group: Group;
  /** Its spool record, once written. */
  file?: string;
  /** The slab its payload is a view of; undefined once it has its own copy, or when replayed from the spool. */
  slab?: Slab;
  /** The spool write under way. */
  writing?: Promise<string | undefined>;
  failures: number;
  strikes: number;
  /** Batches acknowledged (Delivery.acks) when this one last failed. */
  acksAtFailure: number;
}

export interface SealResult {
  /** Resolves once every batch of the flush is acknowledged upstream; false if any was dropped. */
  delivered: Promise<boolean>;
  /** Resolves once every batch's spool write is done (at once without a spool); false if any write failed. */
  spooled: Promise<boolean>;
}

export interface DrainResult {
  /** Everything was acknowledged before the deadline. */
  drained: boolean;
  /** Batches left. */
  remaining: Batch[];
  remainingStats: number;
  /** Of the remaining stats, those safe in the spool for the next start. */
  spooledStats: number;
  /** Of the remaining stats, those lost: counted `reason="shutdown"`, logged, recorded in the spool directory. */
  lostStats: number;
  /** The remaining batches are all safe in the spool. */
  spooled: boolean;
}

export class Delivery {
  /** Every batch held, oldest first: what the bound trims and the drain reports. */
  private readonly held = new Set<QueuedBatch>();
  /** Send order. A failed batch goes to the back, so one batch that keeps failing cannot hold up the others. */
  private readonly ready = new Set<QueuedBatch>();
  private inFlight: QueuedBatch | undefined;
  private open: OpenBatch | undefined;
  /**
   * The batch buffer: the sink encodes each stat straight into it, after
   * the open batch's bytes; a cut batch's payload is a view of it, not
   * written again until the slab goes back to the pool (slabs.ts).
   */
  private slab: Slab;
  private readonly slabs: SlabPool;
  /** Where the open batch starts in the slab, and where its bytes end (the next stat goes there). */
  private start = 0;
  private end = 0;
  private largestBatch = 0;
  private readonly slabBytes: number;
  private readonly maxStatBytes: number;
  private group = new Group();
  private heldBytes = 0;
  private heldStats = 0;
  /** Batches acknowledged so far: tells a poison batch from a down upstream. */
  private acks = 0;
  private sending = false;
  private stopped = false;
  private wakeSleeper: (() => void) | undefined;
  private readonly idleWaiters: (() => void)[] = [];
  private readonly backoff: Backoff;
  private readonly ids: BatchIds;
  private readonly strikesToQuarantine: number;
  private readonly upstream: Health;
  private readonly spoolHealth: Health;

  constructor(
    private readonly sink: Sink,
    private readonly options: DeliveryOptions,
    private readonly metrics: DeliveryMetrics,
    private readonly logger: Logger,
  ) {
    this.backoff = options.backoff ?? new Backoff();
    this.ids = options.ids ?? new BatchIds();
    this.strikesToQuarantine = options.quarantineStrikes ?? DEFAULT_QUARANTINE_STRIKES;
    this.slabBytes = options.slabBytes ?? SLAB_BYTES;
    this.maxStatBytes = options.maxStatBytes ?? MAX_STAT_BYTES;
    this.slabs = new SlabPool(SPARE_SLABS);
    this.slab = this.slabs.take(this.slabBytes);
    this.upstream = new Health(logger, 'upstream', { sink: sink.description }, (up) => metrics.upstreamUp(up));
    this.spoolHealth = new Health(logger, 'spool writes', { dir: options.spool?.dir });
  }

  /** Stats held and not yet acknowledged: the upstream queue gauge. */
  get queuedStats(): number {
    return this.heldStats;
  }

  get queuedBytes(): number {
    return this.heldBytes;
  }

  /**
   * Encodes and queues stats; never waits for the upstream. A stat the sink
   * cannot encode (a time outside years 1-9999 has no protobuf-JSON form) is
   * dropped and counted, and the flush it belongs to reports not delivered.
   */
  enqueue(stats: readonly AnalyticsStat[]): void {
    for (const stat of stats) {
      let length: number;
      try {
        length = this.encode(stat);
      } catch (err) {
        this.unencodable(stat, err);
        continue;
      }
      let open = this.open;
      if (!open || open.count >= this.options.batchMaxStats || open.bytes + length > this.sink.maxBatchBytes) {
        // the stat's bytes directly follow the open batch's: they start the next batch where they are
        this.cut();
        open = this.open = { bytes: 0, count: 0, group: this.group };
        this.group.pending++;
      }
      this.end += length;
      open.bytes += length;
      open.count++;
      this.heldBytes += length;
      this.heldStats++;
    }
    this.trim();
  }

  /**
   * Has the sink encode the stat into the slab, after the open batch, and
   * returns its length. When it does not fit, the open batch moves to a
   * larger slab and the sink tries again. A throw leaves everything as it was.
   */
  private encode(stat: AnalyticsStat): number {
    for (;;) {
      const length = this.sink.encodeInto(stat, this.slab.buffer, this.end);
      if (length !== NO_ROOM) return length;
      const refused = this.slab.buffer.length - this.end;
      if (refused >= this.maxStatBytes) {
        throw new Error(`the sink found ${refused} bytes too little room for one stat`);
      }
      this.newSlab(refused);
    }
  }

  /** A slab (a free one, or new memory) holding the open batch's bytes, with more room after them than the `refused` bytes the sink did not fit in. */
  private newSlab(refused: number): void {
    const carried = this.end - this.start;
    // whole multiples of the smallest slab: a batch a few bytes larger than the last must not make every free slab too small
    const wanted = Math.max(this.slabBytes, 4 * this.largestBatch, 2 * (carried + refused));
    const size = Math.ceil(wanted / this.slabBytes) * this.slabBytes;
    const slab = this.slabs.take(size);
    this.slab.buffer.copy(slab.buffer, 0, this.start, this.end);
    this.slabs.retire(this.slab);
    this.slab = slab;
    this.start = 0;
    this.end = carried;
  }

  private unencodable(stat: AnalyticsStat, err: unknown): void {
    this.group.ok = false;
    this.metrics.statsDropped('unencodable', 1);
    // one line per flush: a bad clock on the SFU would make every stat of it unencodable
    if (this.group.loggedUnencodable) return;
    this.group.loggedUnencodable = true;
    this.logger.warn(
      {
        err: (err as Error).message,
        trackId: stat.trackId,
        participantId: stat.participantId,
        sink: this.sink.description,
      },
      'a stat the sink cannot encode was dropped (more in this flush are counted, not logged)',
    );
  }

  /**
   * Encodes a stat into the slab as enqueue does and drops it (the next
   * stat overwrites it): the scheduler warms the encode path at start with
   * synthetic stats.
   */
  warm(stat: AnalyticsStat): void {
    this.encode(stat);
  }

  /** Closes the current group: the promises of its batches' fate. */
  seal(): SealResult {
    this.cut();
    this.trim();
    const group = this.group;
    group.sealed = true;
    group.maybeResolve();
    this.group = new Group();
    this.pump();
    return {
      delivered: group.done,
      spooled: Promise.all(group.writes).then((written) => written.every(Boolean)),
    };
  }

  /**
   * Waits up to `timeoutMs` for every batch to be acknowledged, then stops
   * sending. What is left is spooled (a failed spool write is tried once
   * more) or counted lost with `reason="shutdown"`.
   */
  async drain(timeoutMs: number): Promise<DrainResult> {
    this.seal();
    if (this.held.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => this.idleWaiters.push(resolve)),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs))),
      ]);
      clearTimeout(timer);
    }
    this.stopped = true;
    this.wakeSleeper?.();
    const remaining = [...this.held];
    const spool = this.options.spool;
    if (spool) {
      // the writes under way finish; a batch whose write failed gets one more
      await Promise.all(remaining.map((b) => b.writing));
      for (const b of remaining) await this.spoolWrite(spool, b);
    }
    const sum = (batches: QueuedBatch[]) => batches.reduce((n, b) => n + b.count, 0);
    const lost = remaining.filter((b) => b.file === undefined);
    const result: DrainResult = {
      drained: remaining.length === 0,
      remaining,
      remainingStats: sum(remaining),
      spooledStats: sum(remaining) - sum(lost),
      lostStats: sum(lost),
      spooled: lost.length === 0,
    };
    if (result.spooledStats > 0) {
      this.logger.warn(
        { undeliveredStats: result.spooledStats, dir: spool?.dir },
        'shutdown timeout: undelivered stats stay in the spool for the next start',
      );
    }
    if (result.lostStats > 0) {
      this.metrics.statsDropped('shutdown', result.lostStats);
      this.logger.error(
        { statsLost: result.lostStats, reason: 'shutdown', batches: lost.length, sink: this.sink.description },
        'shutdown timeout: stats not delivered upstream are lost',
      );
      // counted again at the next start, where a scrape can see it
      await spool
        ?.recordShutdownLosses(result.lostStats)
        .catch((err: unknown) => this.logger.error({ err }, 'spool: recording the shutdown losses failed'));
    }
    return result;
  }

  /** Counts what the spool could not replay and queues its intact batches ahead of anything new. */
  restore(opened: SpoolOpenResult): void {
    const dir = opened.spool.dir;
    for (const [reason, { records, stats }] of Object.entries(opened.dropped) as [
      SpoolDropReason,
      { records: number; stats: number },
    ][]) {
      if (records === 0) continue;
      this.metrics.statsDropped(reason, stats);
      this.logger.warn(
        { dir, reason, records, stats, examples: opened.examples },
        'spool: dropped records it cannot replay',
      );
    }
    if (opened.unreadable > 0) {
      this.metrics.spoolUnreadableRecords(opened.unreadable);
      this.logger.error(
        { dir, records: opened.unreadable, examples: opened.examples },
        'spool: deleted unreadable records; their stat count is unknown',
      );
    }
    if (opened.foreign.length > 0) {
      this.logger.warn(
        { dir, entries: opened.foreign },
        'spool: left alone entries named like records that are not files',
      );
    }
    if (opened.shutdownLosses > 0) {
      this.metrics.statsDropped('shutdown', opened.shutdownLosses);
      this.logger.warn({ dir, statsLost: opened.shutdownLosses }, 'spool: the previous run lost stats at shutdown');
    }
    if (opened.noSpace) this.spoolHealth.failed(new Error(opened.noSpace));
    if (opened.restored.length === 0) return;
    const group = new Group();
    for (const b of opened.restored) {
      group.pending++;
      const batch: QueuedBatch = {
        ...b,
        cost: this.costOf(b.bytes),
        group,
        failures: 0,
        strikes: 0,
        acksAtFailure: 0,
      };
      this.hold(batch);
    }
    group.sealed = true;
    this.logger.info(
      { dir, batches: opened.restored.length, stats: opened.restored.reduce((n, b) => n + b.count, 0) },
      'spool: replaying batches from an earlier run',
    );
    this.trim();
    this.pump();
  }

  private costOf(bytes: number): number {
    return this.options.spool ? Math.max(bytes, recordFootprint(bytes)) : bytes;
  }

  private cut(): void {
    const open = this.open;
    if (!open) return;
    this.open = undefined;
    const payload = this.slab.buffer.subarray(this.start, this.end);
    this.start = this.end;
    if (open.bytes > this.largestBatch) this.largestBatch = open.bytes;
    const batch: QueuedBatch = {
      id: this.ids.next(),
      payloads: [payload],
      bytes: open.bytes,
      count: open.count,
      cost: this.costOf(open.bytes),
      group: open.group,
      failures: 0,
      strikes: 0,
      acksAtFailure: 0,
      slab: this.slab,
    };
    this.slab.batches++;
    // enqueue counted the payload bytes; the rest of the cost is counted now
    this.heldBytes -= open.bytes;
    this.heldStats -= open.count;
    this.hold(batch);
    const spool = this.options.spool;
    if (spool) open.group.writes.push(this.spoolWrite(spool, batch).then((file) => file !== undefined));
    this.pump();
  }

  private hold(batch: QueuedBatch): void {
    this.held.add(batch);
    this.ready.add(batch);
    this.heldBytes += batch.cost;
    this.heldStats += batch.count;
  }

  /**
   * The batch's spool record: the one written, the write under way, or a new
   * write when the last one failed. Undefined when it fails (counted and
   * logged; the batch stays in memory and is still delivered).
   */
  private spoolWrite(spool: Spool, batch: QueuedBatch): Promise<string | undefined> {
    if (batch.file !== undefined) return Promise.resolve(batch.file);
    if (batch.writing) return batch.writing;
    const writing = spool.write(batch).then(
      (file) => {
        batch.writing = undefined;
        this.spoolHealth.succeeded();
        if (this.held.has(batch)) batch.file = file;
        // settled while it was being written: the record is not needed
        else void this.removeFile(spool, file);
        return file;
      },
      (err: unknown) => {
        batch.writing = undefined;
        this.metrics.spoolWriteError();
        this.spoolHealth.failed(err, { batchId: batch.id, stats: batch.count });
        return undefined;
      },
    );
    batch.writing = writing;
    return writing;
  }

  /** Memory pressure (the memory guard): lets go of the batch buffers kept for reuse; returns their bytes. */
  dropSpareSlabs(): number {
    return this.slabs.drop();
  }

  /**
   * Memory pressure (the memory guard): drops the oldest batches not being
   * sent, at least `bytes` of payload while there are any, counted as
   * `memory_pressure`; returns the payload bytes dropped.
   */
  shedOldest(bytes: number): number {
    return this.dropOldest('memory_pressure', (dropped) => dropped < bytes).bytes;
  }

  /** Drops the oldest batches not being sent until the bound holds again. */
  private trim(): void {
    const { stats, batches } = this.dropOldest('queue_full', () => this.heldBytes > this.options.queueMaxBytes);
    if (batches > 0) this.logger.warn({ stats, batches }, 'delivery queue full: dropped the oldest batches');
  }

  /** Drops the oldest held batches (never the one being sent) while `more(bytesDropped)`; counts them under `reason`. */
  private dropOldest(
    reason: 'queue_full' | 'memory_pressure',
    more: (bytesDropped: number) => boolean,
  ): { stats: number; batches: number; bytes: number } {
    let stats = 0;
    let batches = 0;
    let bytes = 0;
    for (const victim of this.held) {
      if (!more(bytes)) break;
      if (victim === this.inFlight) continue;
      this.settle(victim, false);
      stats += victim.count;
      bytes += victim.bytes;
      batches++;
    }
    if (batches > 0) {
      this.metrics.statsDropped(reason, stats);
      this.metrics.upstreamStats('dropped', stats);
    }
    return { stats, batches, bytes };
  }

  private pump(): void {
    if (this.sending || this.stopped || this.ready.size === 0) return;
    this.sending = true;
    void this.run();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const batch = this.ready.values().next().value;
      if (!batch) break;
      this.ready.delete(batch);
      this.inFlight = batch;
      const retry = await this.attempt(batch);
      this.inFlight = undefined;
      if (retry) {
        if (this.held.has(batch)) this.ready.add(batch);
        await this.sleep(this.backoff.next());
      }
    }
    this.sending = false;
  }

  /** One send of `batch`; true when it should be tried again. */
  private async attempt(batch: QueuedBatch): Promise<boolean> {
    const spool = this.options.spool;
    // "written before it may be sent": wait for the write; one that failed is tried again first
    if (spool) await this.watched(this.spoolHealth, 'spool write', batch, this.spoolWrite(spool, batch));
    try {
      await this.watched(this.upstream, 'send', batch, this.sink.send(batch));
    } catch (err) {
      return this.failed(batch, err);
    }
    this.acks++;
    // acknowledged on its first send: nothing holds a view of its bytes any more (slabs.ts)
    if (batch.failures === 0 && batch.slab) this.slabs.acked(batch.slab);
    this.backoff.reset();
    this.upstream.succeeded();
    this.settle(batch, true);
    this.metrics.upstreamStats('delivered', batch.count);
    return false;
  }

  /**
   * `work`, with `health` marked failing if it has not settled after
   * STALLED_MS; its completion marks it recovered as usual. Nothing is tried
   * again meanwhile: a write under way cannot be taken back.
   */
  private async watched<T>(health: Health, what: string, batch: QueuedBatch, work: Promise<T>): Promise<T> {
    const timer = setTimeout(
      () =>
        health.failed(new Error(`a ${what} of ${batch.count} stats has not completed after ${STALLED_MS / 1000} s`), {
          batchId: batch.id,
          queuedStats: this.heldStats,
        }),
      STALLED_MS,
    ).unref();
    try {
      return await work;
    } finally {
      clearTimeout(timer);
    }
  }

  private async failed(batch: QueuedBatch, err: unknown): Promise<boolean> {
    if (!(err instanceof SinkError && err.retryable)) {
      const reason = (err instanceof SinkError ? err.dropReason : undefined) ?? 'internal';
      this.settle(batch, false);
      this.metrics.statsDropped(reason, batch.count);
      this.metrics.upstreamStats('dropped', batch.count);
      this.logger.error(
        { err, batchId: batch.id, stats: batch.count, reason, sink: this.sink.description },
        'upstream refused a batch: dropped',
      );
      return false;
    }
    this.metrics.upstreamStats('retried', batch.count);
    if (batch.failures === 0) this.detach(batch);
    this.upstream.failed(err, { queuedStats: this.heldStats });
    if (batch.failures > 0 && this.acks > batch.acksAtFailure) batch.strikes++;
    batch.failures++;
    batch.acksAtFailure = this.acks;
    if (batch.strikes < this.strikesToQuarantine) return true;
    await this.quarantine(batch, err as SinkError);
    return false;
  }

  /**
   * Gives a batch that failed its own copy of its bytes: it goes to the back
   * of the queue, and its view would keep the whole slab alive (up to four
   * batches' worth) after the batches around it are delivered.
   */
  private detach(batch: QueuedBatch): void {
    // its slab is never used again (slabs.ts), but no longer kept alive by this batch either
    batch.slab = undefined;
    const payloads = batch.payloads;
    for (let i = 0; i < payloads.length; i++) {
      const payload = payloads[i]!;
      if (payload.byteLength === payload.buffer.byteLength) continue;
      const own = Buffer.allocUnsafeSlow(payload.byteLength);
      own.set(payload);
      payloads[i] = own;
    }
  }

  /** Takes a poison batch out of delivery: into the spool's quarantine when there is one, else discarded. */
  private async quarantine(batch: QueuedBatch, err: SinkError): Promise<void> {
    const spool = this.options.spool;
    this.settle(batch, false, false);
    this.metrics.statsDropped('quarantined', batch.count);
    this.metrics.upstreamStats('dropped', batch.count);
    let kept: string | undefined;
    if (spool) {
      try {
        kept = await spool.quarantine(batch, batch.file);
      } catch (moveErr) {
        this.metrics.spoolWriteError();
        this.logger.error({ err: moveErr, batchId: batch.id }, 'spool: quarantining a batch failed');
        if (batch.file) await this.removeFile(spool, batch.file);
      }
    }
    this.logger.error(
      {
        batchId: batch.id,
        stats: batch.count,
        failures: batch.failures,
        error: err.message,
        sink: this.sink.description,
        quarantined: kept ?? null,
      },
      kept
        ? 'poison batch: the upstream keeps refusing it while accepting others; moved to quarantine'
        : 'poison batch: the upstream keeps refusing it while accepting others; discarded (no spool, or quarantine full)',
    );
  }

  /** Takes a batch out of the queue and settles its flush's promise; its spool record goes unless `removeFile` is false. */
  private settle(batch: QueuedBatch, ok: boolean, removeFile = true): void {
    if (!this.held.delete(batch)) return;
    this.ready.delete(batch);
    this.heldBytes -= batch.cost;
    this.heldStats -= batch.count;
    batch.group.settle(ok);
    const spool = this.options.spool;
    if (spool && removeFile && batch.file) void this.removeFile(spool, batch.file);
    if (this.held.size === 0) for (const wake of this.idleWaiters.splice(0)) wake();
  }

  private async removeFile(spool: Spool, file: string): Promise<void> {
    await spool
      .remove(file)
      .catch((err: unknown) => this.logger.warn({ err, file }, 'removing a spooled batch failed; it may be re-sent'));
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms).unref();
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeSleeper = done;
    });
  }
}
