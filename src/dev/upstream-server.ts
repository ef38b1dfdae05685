/**
 * A development AnalyticsRecorderService: accepts IngestStats streams and
 * appends every stat it receives as protobuf-JSON NDJSON. Decoding goes
 * through @livekit/protocol, so it doubles as a check that what the sidecar
 * sends is what LiveKit's own code reads. Tests script failures with `respond`.
 */
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  Server,
  ServerCredentials,
  status,
  type ServerReadableStream,
  type ServiceDefinition,
  type sendUnaryData,
} from '@grpc/grpc-js';
import { AnalyticsStats, type AnalyticsStat } from '@livekit/protocol';
import { loadPackageDefinition } from '../wire/protos.js';

/** What to do with one IngestStats call: accept (default), fail with a status, or never answer. */
export type CallFate = { code: status; details?: string } | { hang: true } | undefined;

export interface DevUpstreamOptions {
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** NDJSON file to append accepted stats to. */
  out?: string;
  tls?: { certFile: string; keyFile: string; clientCaFile?: string };
  /** Bearer token callers must present; read on every call so tests can rotate it. */
  token?: () => string;
  respond?: (stats: AnalyticsStat[], callIndex: number) => CallFate;
}

export class DevUpstream {
  /** Stats of every accepted call, in arrival order. */
  readonly received: AnalyticsStat[] = [];
  calls = 0;
  port = 0;
  private readonly server = new Server();

  constructor(private readonly options: DevUpstreamOptions = {}) {
    const definition = loadPackageDefinition()['livekit.AnalyticsRecorderService'] as ServiceDefinition;
    const ingest = definition.IngestStats!;
    this.server.addService(
      { IngestStats: { ...ingest, requestDeserialize: (b: Buffer) => b } },
      {
        IngestStats: (call: ServerReadableStream<Buffer, object>, callback: sendUnaryData<object>) =>
          this.ingest(call, callback),
      },
    );
  }

  async start(): Promise<number> {
    const { host = '127.0.0.1', port = 0, tls } = this.options;
    const creds = tls
      ? ServerCredentials.createSsl(
          tls.clientCaFile ? readFileSync(tls.clientCaFile) : null,
          [{ cert_chain: readFileSync(tls.certFile), private_key: readFileSync(tls.keyFile) }],
          tls.clientCaFile !== undefined,
        )
      : ServerCredentials.createInsecure();
    this.port = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync(`${host}:${port}`, creds, (err, bound) => (err ? reject(err) : resolve(bound))),
    );
    return this.port;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.forceShutdown();
      resolve();
    });
  }

  private ingest(call: ServerReadableStream<Buffer, object>, callback: sendUnaryData<object>): void {
    const index = this.calls++;
    const expected = this.options.token?.();
    if (expected !== undefined && call.metadata.get('authorization')[0] !== `Bearer ${expected}`) {
      callback({ code: status.UNAUTHENTICATED, details: 'bad or missing bearer token' });
      return;
    }
    const stats: AnalyticsStat[] = [];
    call.on('data', (message: Buffer) => {
      stats.push(...AnalyticsStats.fromBinary(message).stats);
    });
    call.on('end', () => {
      const fate = this.options.respond?.(stats, index);
      if (fate && 'hang' in fate) return;
      if (fate) {
        callback({ code: fate.code, details: fate.details ?? status[fate.code] });
        return;
      }
      this.received.push(...stats);
      if (this.options.out && stats.length > 0) {
        mkdirSync(dirname(this.options.out), { recursive: true });
        appendFileSync(this.options.out, stats.map((s) => s.toJsonString() + '\n').join(''));
      }
      callback(null, {});
    });
  }
}
