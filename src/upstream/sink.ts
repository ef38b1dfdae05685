import type { AnalyticsStat } from '../core/analytics.js';

/**
 * Encoded stats on their way upstream; `payloads` are framed for the sink
 * that made them, so their concatenation is what the sink sends (a queued
 * batch holds one payload; a spooled one holds what was written).
 */
export interface Batch {
  /** Stable for the batch's life: the same on every retry and after a spool replay (the NATS sink's Nats-Msg-Id). */
  readonly id: string;
  readonly payloads: Uint8Array[];
  /** Sum of the payload sizes: what the queue bound counts. */
  bytes: number;
}

/** Where delivered stats go: the NDJSON file, stdout, or an AnalyticsRecorderService. */
export interface Sink {
  /** For logs and metrics, e.g. `file:./data/analytics-stats.ndjson`. */
  readonly description: string;
  /** What `encode` produces (`ndjson`, `protobuf`): spooled batches are only replayed into the same format. */
  readonly format: string;
  /** Largest batch, in encoded bytes, the sink accepts in one send; read at every cut, so it may change (NATS max_payload). */
  readonly maxBatchBytes: number;
  /**
   * Encodes one stat as it will stand in a batch. The bytes need only stay
   * valid until the next call: the caller copies them into the batch.
   */
  encode(stat: AnalyticsStat): Uint8Array;
  /** Resolves once the batch is durably accepted; rejects with a SinkError otherwise. */
  send(batch: Batch): Promise<void>;
  close(): Promise<void>;
}

/** A failed send; `retryable` failures are tried again with backoff, the others drop the batch. */
export class SinkError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    /** Counted reason when the batch is dropped, e.g. `permission_denied`. */
    readonly reason: string,
  ) {
    super(message);
    this.name = 'SinkError';
  }
}
