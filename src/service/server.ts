/**
 * The gRPC adapter: the TelemetrySidecar service over grpc-js, plus
 * grpc.health.v1.Health and server reflection, optional bearer-token auth,
 * and a shutdown that does not hang on long-lived Session streams.
 */
import { readFileSync } from 'node:fs';
import { timingSafeEqual } from 'node:crypto';
import {
  Server,
  ServerCredentials,
  type Metadata,
  type ServiceDefinition,
  type sendUnaryData,
  type ServerUnaryCall,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation } from 'grpc-health-check';
import type { Logger } from 'pino';
import type { Address } from '../settings/index.js';
import type { ActivateRequest__Output } from '../generated/telemetry/sidecar/v1/ActivateRequest.js';
import type { FlushRequest__Output } from '../generated/telemetry/sidecar/v1/FlushRequest.js';
import type { ListWorkersRequest__Output } from '../generated/telemetry/sidecar/v1/ListWorkersRequest.js';
import type { ReleaseRequest__Output } from '../generated/telemetry/sidecar/v1/ReleaseRequest.js';
import { loadPackageDefinition } from '../wire/protos.js';
import { decodeSessionRequest, decodeTrackStatsRequest, type DecodedTrackStats } from '../wire/session-decoder.js';
import { MalformedMessage, tolerant } from './malformed.js';
import { Session, type SessionCall } from './session.js';
import type { SidecarService } from './sidecar.js';
import { isUnexpected, malformed, toStatus, UNAUTHENTICATED } from './status.js';

export const SERVICE_NAME = 'telemetry.sidecar.v1.TelemetrySidecar';
/** A 100-stat TrackStats message is ~30 KB; 4 MiB is grpc's default and ample. */
export const MAX_RECEIVE_MESSAGE_BYTES = 4 * 1024 * 1024;
/** ListWorkers over 100 000 workers runs to ~15 MB. */
const MAX_SEND_MESSAGE_BYTES = 64 * 1024 * 1024;
/** How long Session streams get to end by themselves at shutdown before the server forces them. */
const SHUTDOWN_GRACE_MS = 2000;

export interface GrpcServerOptions {
  address: Address;
  /** File holding the bearer token every RPC must present; unset: no auth. */
  tokenFile?: string;
}

export class GrpcServer {
  readonly health = new HealthImplementation({ '': 'SERVING', [SERVICE_NAME]: 'SERVING' });
  private readonly server: Server;
  private readonly sessions = new Set<Session>();
  private readonly token: Buffer | undefined;

  constructor(
    private readonly service: SidecarService,
    private readonly logger: Logger,
    private readonly options: GrpcServerOptions,
  ) {
    this.token = options.tokenFile ? readToken(options.tokenFile) : undefined;
    this.server = new Server({
      'grpc.max_receive_message_length': MAX_RECEIVE_MESSAGE_BYTES,
      'grpc.max_send_message_length': MAX_SEND_MESSAGE_BYTES,
      // finds SFU processes that vanished without closing their streams
      'grpc.keepalive_time_ms': 30_000,
      'grpc.keepalive_timeout_ms': 10_000,
    });
    const packageDefinition = loadPackageDefinition();
    const definition = packageDefinition[SERVICE_NAME] as ServiceDefinition;
    this.server.addService(tolerantDefinition(definition), this.handlers());
    this.health.addToServer(this.server);
    new ReflectionService(packageDefinition).addToServer(this.server);
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  /** Binds and starts serving; resolves with the bound port (useful with port 0). */
  start(): Promise<number> {
    const { host, port } = this.options.address;
    const target = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
    return new Promise((resolve, reject) => {
      this.server.bindAsync(target, ServerCredentials.createInsecure(), (err, bound) => {
        if (err) reject(new Error(`cannot listen for gRPC on ${target} (SIDECAR_GRPC_ADDR): ${err.message}`));
        else resolve(bound);
      });
    });
  }

  /** NOT_SERVING, end every Session stream, let calls finish briefly, then force. */
  async shutdown(): Promise<void> {
    this.health.setStatus('', 'NOT_SERVING');
    this.health.setStatus(SERVICE_NAME, 'NOT_SERVING');
    for (const session of this.sessions) session.end();
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, SHUTDOWN_GRACE_MS);
      this.server.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    });
  }

  private handlers(): UntypedServiceImplementation {
    const s = this.service;
    return {
      Session: (call: SessionCall) => {
        if (!this.authorized(call.metadata)) {
          call.emit('error', toStatus(UNAUTHENTICATED));
          return;
        }
        this.sessions.add(new Session(call, s, this.logger, (session) => this.sessions.delete(session)));
      },
      Activate: this.unary('Activate', (req: ActivateRequest__Output) => s.activate(req)),
      Release: this.unary('Release', (req: ReleaseRequest__Output) => s.release(req)),
      TrackStats: this.unary('TrackStats', (req: DecodedTrackStats) => s.trackStats(req)),
      Flush: this.unary('Flush', (req: FlushRequest__Output) => s.flush(req)),
      ListWorkers: this.unary('ListWorkers', (req: ListWorkersRequest__Output) => s.listWorkers(req)),
    };
  }

  private unary<Req extends object, Res>(
    method: string,
    handle: (req: Req) => Res | Promise<Res>,
  ): (call: ServerUnaryCall<Req | MalformedMessage, Res>, callback: sendUnaryData<Res>) => void {
    return (call, callback) => {
      const fail = (err: unknown) => {
        if (isUnexpected(err)) this.logger.error({ err, method }, 'request failed');
        callback(toStatus(err));
      };
      if (!this.authorized(call.metadata)) {
        callback(toStatus(UNAUTHENTICATED));
        return;
      }
      if (call.request instanceof MalformedMessage) {
        callback(toStatus(malformed(`${method} request`, call.request.reason)));
        return;
      }
      try {
        const result = handle(call.request as Req);
        if (result instanceof Promise) result.then((value) => callback(null, value), fail);
        else callback(null, result);
      } catch (err) {
        fail(err);
      }
    };
  }

  private authorized(metadata: Metadata): boolean {
    if (!this.token) return true;
    const header = metadata.get('authorization')[0];
    if (typeof header !== 'string' || !header.startsWith('Bearer ')) return false;
    const presented = Buffer.from(header.slice('Bearer '.length).trim());
    return presented.length === this.token.length && timingSafeEqual(presented, this.token);
  }
}

function readToken(path: string): Buffer {
  const token = readFileSync(path, 'utf8').trim();
  if (token === '') throw new Error(`SIDECAR_GRPC_TOKEN_FILE: ${path} is empty`);
  return Buffer.from(token);
}

/**
 * The hot requests decode by hand (session-decoder.ts: same results as
 * proto-loader, about half the sidecar's CPU saved); every decoder is made
 * tolerant of malformed bytes.
 */
const FAST_DECODERS: Record<string, (buf: Buffer) => unknown> = {
  Session: decodeSessionRequest,
  TrackStats: decodeTrackStatsRequest,
};

function tolerantDefinition(definition: ServiceDefinition): ServiceDefinition {
  return Object.fromEntries(
    Object.entries(definition).map(([name, method]) => [
      name,
      { ...method, requestDeserialize: tolerant(FAST_DECODERS[name] ?? method.requestDeserialize) },
    ]),
  );
}
