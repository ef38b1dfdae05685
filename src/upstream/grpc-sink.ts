/**
 * LiveKit's AnalyticsRecorderService/IngestStats as a sink: one client-stream
 * call per batch, carrying one AnalyticsStats message, so a batch counts as
 * delivered exactly when its call completes with OK. Stats are encoded once,
 * when queued (by hand: analytics-encoder.ts); a retried batch is re-sent
 * byte for byte, ids included.
 */
import { readFileSync } from 'node:fs';
import {
  Client,
  credentials,
  Metadata,
  status,
  type ChannelCredentials,
  type ServiceDefinition,
  type ServiceError,
} from '@grpc/grpc-js';
import type { AnalyticsStat } from '../core/analytics.js';
import { encodeAnalyticsStatsEntryInto } from '../wire/analytics-encoder.js';
import { loadPackageDefinition } from '../wire/protos.js';
import { isDropReason } from '../observe/drop-reasons.js';
import { SinkError, type Batch, type Sink } from './sink.js';
import { TokenFile } from '../settings/index.js';

/**
 * Transient (docs/delivery.md): retried with backoff. Everything else drops the batch.
 * CANCELLED is among them: we never cancel our own calls, so it means the
 * upstream or the connection went away mid-call.
 */
const RETRYABLE = new Set<status>([
  status.CANCELLED,
  status.UNAVAILABLE,
  status.DEADLINE_EXCEEDED,
  status.RESOURCE_EXHAUSTED,
  status.ABORTED,
  status.INTERNAL,
  status.UNKNOWN,
]);

/** Under grpc's default 4 MiB receive limit with room for framing. */
const MAX_BATCH_BYTES = 4 * 1024 * 1024 - 64 * 1024;
const DEFAULT_CALL_TIMEOUT_MS = 30_000;

export interface GrpcSinkOptions {
  /** host:port */
  target: string;
  tls: boolean;
  tokenFile?: string;
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  /** Deadline of one IngestStats call; in milliseconds, default 30_000. */
  callTimeoutMs?: number;
}

function channelCredentials(o: GrpcSinkOptions): ChannelCredentials {
  if (!o.tls) return credentials.createInsecure();
  const read = (path: string | undefined) => (path ? readFileSync(path) : null);
  return credentials.createSsl(read(o.caFile), read(o.keyFile), read(o.certFile));
}

export class GrpcSink implements Sink {
  readonly description: string;
  readonly maxBatchBytes = MAX_BATCH_BYTES;
  readonly format = 'protobuf';
  private readonly client: Client;
  private readonly path: string;
  private readonly token: TokenFile | undefined;

  constructor(private readonly options: GrpcSinkOptions) {
    this.description = `${options.tls ? 'grpcs' : 'grpc'}://${options.target}`;
    const service = loadPackageDefinition()['livekit.AnalyticsRecorderService'] as ServiceDefinition;
    const ingest = service.IngestStats!;
    this.path = ingest.path;
    this.token = options.tokenFile ? new TokenFile(options.tokenFile, 'SIDECAR_UPSTREAM_TOKEN_FILE') : undefined;
    this.client = new Client(options.target, channelCredentials(options), {
      // notice a dead upstream connection between flushes rather than on the next send
      'grpc.keepalive_time_ms': 30_000,
      'grpc.keepalive_timeout_ms': 10_000,
      'grpc.keepalive_permit_without_calls': 1,
    });
    // connect now: setting up the channel takes tens of milliseconds, better spent before the first flush than in it
    this.client.getChannel().getConnectivityState(true);
  }

  /** Concatenated entries form one AnalyticsStats message: the batch is sent as one. */
  encodeInto(stat: AnalyticsStat, into: Buffer, at: number): number {
    return encodeAnalyticsStatsEntryInto(stat, into, at);
  }

  send(batch: Batch): Promise<void> {
    const metadata = new Metadata();
    // checked at every send (one stat per batch): a rotated projected token is used by the next call
    if (this.token) metadata.set('authorization', `Bearer ${this.token.refresh().toString()}`);
    const deadline = Date.now() + (this.options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS);
    return new Promise((resolve, reject) => {
      const call = this.client.makeClientStreamRequest<Buffer, Buffer>(
        this.path,
        (message) => message,
        (bytes) => bytes,
        metadata,
        { deadline },
        (err: ServiceError | null) => {
          if (!err) resolve();
          else {
            const message = `IngestStats: ${err.details || err.message} (${status[err.code]})`;
            const name = (status[err.code] ?? 'unknown').toLowerCase();
            reject(
              RETRYABLE.has(err.code)
                ? SinkError.transient(message, name)
                : SinkError.permanent(message, isDropReason(name) ? name : 'internal'),
            );
          }
        },
      );
      // a queued payload is never written again once cut: sent as it is, not copied
      const [only] = batch.payloads;
      call.write(batch.payloads.length === 1 && Buffer.isBuffer(only) ? only : Buffer.concat(batch.payloads));
      call.end();
    });
  }

  async close(): Promise<void> {
    this.client.close();
  }
}
