import type { AnalyticsStat } from '../core/analytics.js';
import type { DropReason } from '../observe/drop-reasons.js';

/**
 * Encoded stats on their way upstream; `payloads` are framed for the sink
 * that made them, so their concatenation is what the sink sends (a queued
 * batch holds one payload; a spooled one holds what was written). A queued
 * batch's payload is a view of the queue's batch buffer: once its first send
 * has resolved, the buffer may be written again (slabs.ts), so a sink that
 * keeps the bytes past that copies them.
 */
export interface Batch {
  /**
   * Stable id, fixed when the batch is cut: the same on every retry and after
   * a replay from the spool, unique across processes. Upstreams that
   * de-duplicate use it (the NATS sink sends it as `Nats-Msg-Id`).
   */
  readonly id: string;
  readonly payloads: Uint8Array[];
  /** Sum of the payload sizes. */
  readonly bytes: number;
  /** Stats in the batch. */
  readonly count: number;
}

/** Where delivered stats go: the NDJSON file, stdout, or an AnalyticsRecorderService. */
export interface Sink {
  /** For logs and metrics, e.g. `file:./data/analytics-stats.ndjson`. */
  readonly description: string;
  /** What `encodeInto` writes (`ndjson`, `protobuf`): spooled batches are only replayed into the same format. */
  readonly format: string;
  /** Largest batch, in encoded bytes, the sink accepts in one send; read at every cut, so it may change (the NATS sink follows the server's max_payload). */
  readonly maxBatchBytes: number;
  /**
   * Writes one stat, as it will stand in a batch, into `into` from `at`
   * (the delivery queue's batch buffer, so the bytes are never copied per
   * stat) and returns how many bytes it wrote; or returns NO_ROOM when they
   * would run past the end of `into` (whatever it wrote past `at` is then
   * garbage), and the caller offers more room. Throws when the stat has no
   * encoding in this format.
   */
  encodeInto(stat: AnalyticsStat, into: Buffer, at: number): number;
  /**
   * Work the sink can do before its first send (the NDJSON sink opens its
   * file and counts the rotated ones), so that the first flushes do not pay
   * for it. Started at start-up and not awaited; sends must not depend on it.
   */
  prepare?(): Promise<void>;
  /** Resolves once the batch is durably accepted; rejects with a SinkError otherwise. */
  send(batch: Batch): Promise<void>;
  close(): Promise<void>;
}

/** What `Sink.encodeInto` returns when the stat does not fit in the room it was given. */
export { NO_ROOM } from '../wire/room.js';

/**
 * A failed send. Transient failures are tried again with backoff (the batch
 * stays queued); permanent ones drop the batch, counted under a reason from
 * the one list of drop reasons (docs/metrics.md).
 */
export class SinkError extends Error {
  private constructor(
    message: string,
    readonly retryable: boolean,
    /** What went wrong, for logs: a drop reason when permanent, e.g. `timeout` or `file_error` when transient. */
    readonly reason: string,
    /** Counted in stats_dropped_total when the batch is dropped; undefined while it is retried. */
    readonly dropReason: DropReason | undefined,
  ) {
    super(message);
    this.name = 'SinkError';
  }

  static transient(message: string, cause: string): SinkError {
    return new SinkError(message, true, cause, undefined);
  }

  static permanent(message: string, reason: DropReason): SinkError {
    return new SinkError(message, false, reason, reason);
  }
}
