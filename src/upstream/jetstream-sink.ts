/**
 * NATS JetStream as a sink (docs/jetstream.md): one message per batch,
 * carrying the bytes the gRPC sink sends (one livekit.AnalyticsStats message)
 * or NDJSON lines, with `Nats-Msg-Id` = the batch's stable id. The stream
 * drops a second copy of an id within its duplicate_window, so a retry after a
 * lost PubAck, or a spool replay of a batch that did arrive, is stored once.
 * A batch counts as delivered on a positive PubAck, a duplicate one included.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  JetStreamApiError,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
  type JetStreamClient,
  type JetStreamManager,
} from '@nats-io/jetstream';
import { connect, errors, headers, millis, nanos, type MsgHdrs, type NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import type { AnalyticsStat } from '../core/analytics.js';
import { encodeAnalyticsStatsEntryInto } from '../wire/analytics-encoder.js';
import { encodeNdjsonLineInto } from '../wire/ndjson-encoder.js';
import { Backoff } from './backoff.js';
import { entryOffsets } from './jetstream-parts.js';
import { connectionOptions, type NatsConnectionSettings } from './nats-connection.js';
import { SinkError, type Batch, type Sink } from './sink.js';

/** NATS's default max_payload, assumed until the server's INFO gives the real one. */
const DEFAULT_MAX_PAYLOAD = 1024 * 1024;
const DEFAULT_PUBLISH_TIMEOUT_MS = 10_000;
/** Header room kept out of maxBatchBytes: batches with ids up to this long (split suffixes included) need no split. */
const MAX_ID_LENGTH = 256;
/** Room for the `-1`/`-2` suffixes of 32 halvings: more than any batch can need. */
const SPLIT_SUFFIX_ROOM = 64;
/** Delivery's longest retry delay (30 s cap + 50% jitter): a duplicate_window below it cannot catch a retry. */
const LONGEST_RETRY_DELAY_MS = 45_000;

const STREAM_NOT_FOUND = 10059;
const MESSAGE_TOO_LARGE = 10054;

export const HEADER_MSG_ID = 'Nats-Msg-Id';
export const HEADER_CONTENT_TYPE = 'Content-Type';
export const HEADER_NODE = 'Telemetry-Node';
export const HEADER_STAT_COUNT = 'Telemetry-Stat-Count';
export const CONTENT_TYPES = {
  protobuf: 'application/x-protobuf; messageType=livekit.AnalyticsStats',
  ndjson: 'application/x-ndjson',
} as const;

export interface JetStreamSinkMetrics {
  natsConnected(connected: boolean): void;
  /** PubAcks that said the stream already held the message (a retry after a lost ack). */
  natsDuplicates(n: number): void;
}

export interface JetStreamSinkOptions {
  connection: NatsConnectionSettings;
  subject: string;
  nodeId: string;
  payload: 'protobuf' | 'ndjson';
  /** Wait for one PubAck; in milliseconds, default 10_000. */
  publishTimeoutMs?: number;
  /** Create this stream when none captures the subject at connect. */
  createStream?: { name: string; replicas: number; duplicateWindowMs: number };
  logger: Logger;
  metrics?: JetStreamSinkMetrics;
}

interface Connected {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
}

/** The error and its causes, outermost first: the client wraps what the server said. */
function* chain(err: unknown): Generator<unknown> {
  for (let e: unknown = err, depth = 0; e !== undefined && depth < 8; depth++) {
    yield e;
    e = e instanceof Error ? e.cause : undefined;
  }
}

const has = (err: unknown, type: abstract new (...args: never[]) => unknown) =>
  [...chain(err)].some((e) => e instanceof type);

function apiError(err: unknown): JetStreamApiError | undefined {
  return [...chain(err)].find((e): e is JetStreamApiError => e instanceof JetStreamApiError);
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

export class JetStreamSink implements Sink {
  readonly description: string;
  readonly format: 'protobuf' | 'ndjson';
  private readonly subject: string;
  private readonly publishTimeoutMs: number;
  private readonly nodeId: string;
  private readonly contentType: string;
  private readonly logger: Logger;
  private conn: Connected | undefined;
  private closed = false;
  private readonly stopping = new AbortController();
  private readonly waiters = new Set<() => void>();
  /** Parts of a split batch already acknowledged: a retry publishes only the rest. */
  private readonly ackedParts = new WeakMap<Batch, Set<string>>();

  constructor(private readonly options: JetStreamSinkOptions) {
    this.subject = options.subject;
    this.format = options.payload;
    this.publishTimeoutMs = options.publishTimeoutMs ?? DEFAULT_PUBLISH_TIMEOUT_MS;
    // a header value cannot hold a line break
    this.nodeId = options.nodeId.replace(/[\r\n]/g, ' ');
    this.contentType = CONTENT_TYPES[options.payload];
    this.logger = options.logger;
    const c = options.connection;
    this.description = `${c.tls ? 'tls' : 'nats'}://${c.servers.join(',')}/${options.subject}`;
    options.metrics?.natsConnected(false);
    void this.run();
  }

  /** Follows the connected server's max_payload, less room for our headers. */
  get maxBatchBytes(): number {
    return Math.max(1, this.maxPayload() - this.headerBytes('x'.repeat(MAX_ID_LENGTH), 1e9));
  }

  encodeInto(stat: AnalyticsStat, into: Buffer, at: number): number {
    return this.format === 'protobuf'
      ? encodeAnalyticsStatsEntryInto(stat, into, at)
      : encodeNdjsonLineInto(stat, into, at);
  }

  async send(batch: Batch): Promise<void> {
    const conn = await this.connected();
    const payload = batch.payloads.length === 1 ? batch.payloads[0]! : Buffer.concat(batch.payloads);
    const offsets = entryOffsets(payload, this.format);
    const limit = this.maxPayload();
    const reserve = this.headerBytes(batch.id, 1) + SPLIT_SUFFIX_ROOM;
    // refuse before publishing any part, so the batch is counted once, as dropped
    for (let i = 1; i < offsets.length; i++) {
      const size = offsets[i]! - offsets[i - 1]!;
      if (size + reserve > limit) {
        throw SinkError.permanent(`a stat of ${size} bytes exceeds the server's max_payload of ${limit}`, 'too_large');
      }
    }
    let acked = this.ackedParts.get(batch);
    if (!acked) this.ackedParts.set(batch, (acked = new Set()));
    await this.publish(conn, { id: batch.id, payload, offsets, from: 0, to: offsets.length - 1, acked });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.stopping.abort();
    for (const wake of this.waiters) wake();
    const conn = this.conn;
    this.conn = undefined;
    await conn?.nc.close();
  }

  /**
   * Publishes entries [from, to) as one message, or, when they do not fit,
   * as two halves `<id>-1` and `<id>-2` (recursively): a part's id always
   * names the same stats, so a retry, even under another limit, cannot
   * store a stat under two ids within one process.
   */
  private async publish(
    conn: Connected,
    part: { id: string; payload: Uint8Array; offsets: number[]; from: number; to: number; acked: Set<string> },
  ): Promise<void> {
    const { id, payload, offsets, from, to, acked } = part;
    if (acked.has(id)) return;
    const count = to - from;
    const body = payload.subarray(offsets[from], offsets[to]);
    const halves = async () => {
      const mid = from + Math.ceil(count / 2);
      await this.publish(conn, { ...part, id: `${id}-1`, to: mid });
      await this.publish(conn, { ...part, id: `${id}-2`, from: mid });
    };
    if (count > 1 && body.length + this.headerBytes(id, count) > this.maxPayload()) return halves();
    try {
      const ack = await conn.js.publish(this.subject, body, {
        headers: this.headers(id, count),
        timeout: this.publishTimeoutMs,
      });
      if (ack.duplicate) this.options.metrics?.natsDuplicates(1);
      acked.add(id);
      this.logger.debug({ id, stream: ack.stream, seq: ack.seq, duplicate: ack.duplicate }, 'NATS: PubAck');
    } catch (err) {
      // the stream's max_msg_size (or a lowered max_payload) is only learnt from the refusal
      if (count > 1 && (apiError(err)?.code === MESSAGE_TOO_LARGE || has(err, errors.InvalidArgumentError))) {
        return halves();
      }
      throw await this.classify(conn, err);
    }
  }

  private headers(id: string, count: number): MsgHdrs {
    const h = headers();
    h.set(HEADER_MSG_ID, id);
    h.set(HEADER_CONTENT_TYPE, this.contentType);
    h.set(HEADER_NODE, this.nodeId);
    h.set(HEADER_STAT_COUNT, String(count));
    return h;
  }

  /** Encoded size of `headers(id, count)`: "NATS/1.0" then "\r\nKey: value" each, then "\r\n\r\n". */
  private headerBytes(id: string, count: number): number {
    const values = [id, this.contentType, this.nodeId, String(count)];
    const keys = [HEADER_MSG_ID, HEADER_CONTENT_TYPE, HEADER_NODE, HEADER_STAT_COUNT];
    let n = 'NATS/1.0'.length + 4;
    keys.forEach((k, i) => (n += 4 + k.length + Buffer.byteLength(values[i]!)));
    return n;
  }

  private maxPayload(): number {
    return this.conn?.nc.info?.max_payload ?? DEFAULT_MAX_PAYLOAD;
  }

  /** Transient failures are retried by Delivery; the rest drop the batch with a counted reason. */
  private async classify(conn: Connected, err: unknown): Promise<SinkError> {
    const text = message(err);
    if (has(err, errors.PermissionViolationError)) {
      return SinkError.permanent(`NATS permission denied publishing to ${this.subject}: ${text}`, 'permission_denied');
    }
    const api = apiError(err);
    if (api?.code === STREAM_NOT_FOUND) return this.noStream();
    if (api) {
      // 5xx: the stream or cluster is unavailable for now (no leader, storage); 4xx: this message is refused
      const refused = `JetStream refused the message: ${text} (err_code ${api.code})`;
      return api.status >= 500
        ? SinkError.transient(refused, 'jetstream_unavailable')
        : SinkError.permanent(refused, 'rejected');
    }
    if (has(err, errors.NoRespondersError)) {
      // nothing listens on the subject: a stream between leaders, or no stream at all
      if ((await this.streamExists(conn)) === false) return this.noStream();
      return SinkError.transient(
        `no JetStream responder for ${this.subject} (stream leader election?)`,
        'no_responders',
      );
    }
    if (has(err, errors.TimeoutError)) {
      return SinkError.transient(`no PubAck within ${this.publishTimeoutMs} ms on ${this.subject}`, 'timeout');
    }
    return SinkError.transient(`NATS publish failed: ${text}`, 'nats_error');
  }

  private noStream(): SinkError {
    return SinkError.permanent(
      `no JetStream stream captures subject ${this.subject}: create one (docs/jetstream.md) or set SIDECAR_NATS_CREATE_STREAM`,
      'no_stream',
    );
  }

  /** false only when JetStream answers that no stream captures the subject; undefined when it cannot tell. */
  private async streamExists(conn: Connected): Promise<boolean | undefined> {
    try {
      await conn.jsm.streams.find(this.subject);
      return true;
    } catch (err) {
      return apiError(err)?.code === STREAM_NOT_FOUND ? false : undefined;
    }
  }

  /** The connection, waiting up to one publish timeout for it; a retryable error otherwise. */
  private async connected(): Promise<Connected> {
    if (!this.conn && !this.closed) {
      let wake: () => void = () => undefined;
      const timer = sleep(this.publishTimeoutMs, undefined, { signal: this.stopping.signal }).catch(() => undefined);
      await Promise.race([timer, new Promise<void>((resolve) => this.waiters.add((wake = resolve)))]);
      this.waiters.delete(wake);
    }
    if (this.conn) return this.conn;
    throw SinkError.transient(`not connected to NATS (${this.options.connection.servers.join(',')})`, 'not_connected');
  }

  /**
   * Connects, then lets the client reconnect on its own; connects again if
   * the client gives up (it closes after repeated authorization failures).
   */
  private async run(): Promise<void> {
    const backoff = new Backoff(250, 5_000);
    let failing = false;
    while (!this.closed) {
      let nc: NatsConnection;
      try {
        nc = await connect(connectionOptions(this.options.connection));
      } catch (err) {
        if (!failing) {
          this.logger.warn(
            { err: message(err), servers: this.options.connection.servers },
            'NATS: cannot connect; retrying (batches wait in the queue and spool)',
          );
        }
        failing = true;
        await sleep(backoff.next(), undefined, { signal: this.stopping.signal }).catch(() => undefined);
        continue;
      }
      if (this.closed) {
        await nc.close();
        return;
      }
      backoff.reset();
      failing = false;
      const conn: Connected = {
        nc,
        js: jetstream(nc, { timeout: this.publishTimeoutMs }),
        jsm: await jetstreamManager(nc, { timeout: this.publishTimeoutMs, checkAPI: false }),
      };
      this.logger.info({ server: nc.getServer(), maxPayload: nc.info?.max_payload }, 'NATS: connected');
      void this.watch(nc);
      // before the first publish: a stream we are asked to create must exist before anything is sent to it
      await this.checkStream(conn.jsm);
      if (this.closed) {
        await nc.close();
        return;
      }
      this.conn = conn;
      this.options.metrics?.natsConnected(true);
      for (const wake of this.waiters) wake();
      const err = await nc.closed();
      if (this.conn === conn) this.conn = undefined;
      this.options.metrics?.natsConnected(false);
      if (!this.closed) this.logger.error({ err: err && message(err) }, 'NATS: connection closed; connecting again');
    }
  }

  /** Connection state for the gauge, and one log line per change. */
  private async watch(nc: NatsConnection): Promise<void> {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') {
        this.options.metrics?.natsConnected(false);
        this.logger.warn({ server: s.server }, 'NATS: disconnected; reconnecting');
      } else if (s.type === 'reconnect') {
        this.options.metrics?.natsConnected(true);
        this.logger.info({ server: s.server, maxPayload: nc.info?.max_payload }, 'NATS: reconnected');
      }
    }
  }

  /** Says at start whether a stream will take the stats; creates one if asked to. */
  private async checkStream(jsm: JetStreamManager): Promise<void> {
    const subject = this.subject;
    try {
      const name = await jsm.streams.find(subject);
      const { config } = await jsm.streams.info(name);
      const duplicateWindowMs = millis(config.duplicate_window);
      this.logger.info(
        { stream: name, subject, replicas: config.num_replicas, duplicateWindowMs },
        'NATS: publishing to JetStream stream',
      );
      if (duplicateWindowMs < this.publishTimeoutMs + LONGEST_RETRY_DELAY_MS) {
        this.logger.warn(
          { stream: name, duplicateWindowMs },
          'NATS: the stream duplicate_window is shorter than one retry cycle: a retried batch may be stored twice (docs/jetstream.md)',
        );
      }
    } catch (err) {
      if (apiError(err)?.code !== STREAM_NOT_FOUND) {
        this.logger.warn({ err: message(err), subject }, 'NATS: could not check the JetStream stream at start');
        return;
      }
      const create = this.options.createStream;
      if (!create) {
        this.logger.warn(
          { subject },
          `NATS: no JetStream stream captures subject ${subject}: batches are dropped (reason no_stream) until one does; create it (docs/jetstream.md) or set SIDECAR_NATS_CREATE_STREAM`,
        );
        return;
      }
      try {
        await jsm.streams.add({
          name: create.name,
          subjects: [subject],
          num_replicas: create.replicas,
          duplicate_window: nanos(create.duplicateWindowMs),
          storage: StorageType.File,
          retention: RetentionPolicy.Limits,
        });
        this.logger.info(
          { stream: create.name, subject, replicas: create.replicas, duplicateWindowMs: create.duplicateWindowMs },
          'NATS: created JetStream stream',
        );
      } catch (createErr) {
        this.logger.error(
          { err: message(createErr), stream: create.name, subject },
          'NATS: could not create the JetStream stream (SIDECAR_NATS_CREATE_STREAM)',
        );
      }
    }
  }
}
