/**
 * The gRPC adapter: the TelemetrySidecar service over grpc-js, plus
 * grpc.health.v1.Health and server reflection, optional bearer-token auth,
 * and a shutdown that does not hang on long-lived Session streams.
 */
import {
  Server,
  ServerCredentials,
  type ServiceDefinition,
  type sendUnaryData,
  type ServerUnaryCall,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import type { Http2Server, ServerHttp2Session } from 'node:http2';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation } from 'grpc-health-check';
import type { Logger } from 'pino';
import { TokenFile, type Address } from '../settings/index.js';
import { loadPackageDefinition } from '../wire/protos.js';
import { countTrackStats } from '../wire/request-scan.js';
import { REQUEST_LIMITS } from '../wire/request-limits.js';
import { sessionResponseSerializer } from '../wire/response-encoder.js';
import {
  decodeActivateRequest,
  decodeFlushRequest,
  decodeListWorkersRequest,
  decodeReleaseRequest,
  decodeTrackStatsRequest,
} from '../wire/session-decoder.js';
import { bearerAuth } from './auth.js';
import { Session, type SessionCall } from './session.js';
import type { SidecarService } from './sidecar.js';
import { isUnexpected, toStatus } from './status.js';

export const SERVICE_NAME = 'telemetry.sidecar.v1.TelemetrySidecar';
/**
 * What grpc-js buffers of one message before handing it over; above it the
 * transport ends the call with RESOURCE_EXHAUSTED (a Session stream too).
 * Between the request size limit (4 MiB, enforced by the decoder) and this,
 * only the message is refused and a Session stays open. It bounds the memory
 * one stream can hold in a message being received.
 */
export const TRANSPORT_MAX_MESSAGE_BYTES = 2 * REQUEST_LIMITS.messageBytes;
/** ListWorkers over 100 000 workers runs to ~15 MB. */
const MAX_SEND_MESSAGE_BYTES = 64 * 1024 * 1024;
/**
 * What a client may send on one stream before the sidecar has read it: the
 * HTTP/2 stream flow-control window the server offers (docs/api.md, "Flow
 * control"). Node's default, which grpc-js keeps, is 64 KiB, three or four
 * 100-stat requests: an SFU pipelining its Session requests kept waiting for
 * window updates while the sidecar had nothing to do (bench/README.md, "the
 * receive windows"). 1 MiB is grpc-java's default. A Session that stops
 * reading holds at most this much of its client's data in transport buffers.
 */
export const STREAM_RECEIVE_WINDOW_BYTES = 1024 * 1024;
/** The window of a whole connection, shared by its streams: room for a few streams' windows at once. */
export const CONNECTION_RECEIVE_WINDOW_BYTES = 4 * STREAM_RECEIVE_WINDOW_BYTES;
/** How long Session streams get to end by themselves at shutdown before the server forces them. */
const SHUTDOWN_GRACE_MS = 2000;

export interface GrpcServerOptions {
  address: Address;
  /** File holding the bearer token every RPC but health must present (re-read when it changes); unset: no auth. */
  tokenFile?: string;
}

export class GrpcServer {
  readonly health = new HealthImplementation({ '': 'SERVING', [SERVICE_NAME]: 'SERVING' });
  private readonly server: Server;
  private readonly sessions = new Set<Session>();

  constructor(
    private readonly service: SidecarService,
    private readonly logger: Logger,
    private readonly options: GrpcServerOptions,
  ) {
    const token = options.tokenFile
      ? new TokenFile(options.tokenFile, 'SIDECAR_GRPC_TOKEN_FILE', (err) =>
          logger.warn({ err: err.message }, 'gRPC token file'),
        )
      : undefined;
    this.server = new Server({
      'grpc.max_receive_message_length': TRANSPORT_MAX_MESSAGE_BYTES,
      'grpc.max_send_message_length': MAX_SEND_MESSAGE_BYTES,
      // finds SFU processes that vanished without closing their streams
      'grpc.keepalive_time_ms': 30_000,
      'grpc.keepalive_timeout_ms': 10_000,
      interceptors: token ? [bearerAuth(token)] : [],
    });
    if (!widenReceiveWindows(this.server)) {
      logger.warn(
        { bytes: STREAM_RECEIVE_WINDOW_BYTES },
        'this grpc-js does not take the HTTP/2 receive window: Session streams keep the 64 KiB default',
      );
    }
    const packageDefinition = loadPackageDefinition();
    const definition = packageDefinition[SERVICE_NAME] as ServiceDefinition;
    this.server.addService(rawRequests(definition), this.handlers());
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
        this.sessions.add(new Session(call, s, this.logger, (session) => this.sessions.delete(session)));
      },
      Activate: this.unary('Activate', (buf) => s.activate(decodeActivateRequest(buf))),
      Release: this.unary('Release', (buf) => s.release(decodeReleaseRequest(buf))),
      TrackStats: this.unary('TrackStats', (buf) =>
        s.trackStats({ decode: () => decodeTrackStatsRequest(buf), count: () => countTrackStats(buf) }),
      ),
      Flush: this.unary('Flush', (buf) => s.flush(decodeFlushRequest(buf))),
      ListWorkers: this.unary('ListWorkers', (buf) => s.listWorkers(decodeListWorkersRequest(buf))),
    };
  }

  /** A unary handler: the request arrives as bytes (auth has passed) and is decoded by `handle`. */
  private unary<Res>(
    method: string,
    handle: (buf: Buffer) => Res | Promise<Res>,
  ): (call: ServerUnaryCall<Buffer, Res>, callback: sendUnaryData<Res>) => void {
    return (call, callback) => {
      const fail = (err: unknown) => {
        if (isUnexpected(err)) this.logger.error({ err, method }, 'request failed');
        callback(toStatus(err));
      };
      try {
        const result = handle(call.request);
        if (result instanceof Promise) result.then((value) => callback(null, value), fail);
        else callback(null, result);
      } catch (err) {
        fail(err);
      }
    };
  }
}

/**
 * Gives every HTTP/2 server of `server` the receive windows above. grpc-js
 * has no server option for them (grpc/grpc-node#3058 proposes one), so this
 * wraps the method through which it makes each HTTP/2 server, and uses
 * Node's own calls on what it returns: the offered stream window for new
 * connections, then each connection's window. test/service/flow-control.test.ts
 * checks what a client is offered, so a grpc-js that makes its servers
 * another way fails the tests rather than going unnoticed; at run time it
 * would only cost throughput, so the sidecar says so and goes on. False when
 * it could not. Exported for its test.
 */
export function widenReceiveWindows(server: Server): boolean {
  const internals = server as unknown as { createHttp2Server?: (credentials: ServerCredentials) => unknown };
  const create = internals.createHttp2Server;
  if (typeof create !== 'function') return false;
  internals.createHttp2Server = function (this: Server, credentials: ServerCredentials) {
    const http2Server = create.call(this, credentials) as Http2Server;
    http2Server.updateSettings({ initialWindowSize: STREAM_RECEIVE_WINDOW_BYTES });
    // a listener that threw here would take the process down: a session already gone is left as it is
    http2Server.on('session', (session: ServerHttp2Session) => {
      if (!session.destroyed) session.setLocalWindowSize(CONNECTION_RECEIVE_WINDOW_BYTES);
    });
    return http2Server;
  };
  return true;
}

/**
 * Requests reach the handlers as bytes: they are decoded there, after the
 * auth interceptor and the memory guard, by the hand decoders (same results
 * as proto-loader, about half the sidecar's CPU saved, and bounded by
 * request-limits.ts).
 */
function rawRequests(definition: ServiceDefinition): ServiceDefinition {
  return Object.fromEntries(
    Object.entries(definition).map(([name, method]) => [
      name,
      {
        ...method,
        requestDeserialize: (buf: Buffer) => buf,
        // one response per TrackStats request: the hot one is encoded by hand (response-encoder.ts)
        ...(name === 'Session' && { responseSerialize: sessionResponseSerializer(method.responseSerialize) }),
      },
    ]),
  );
}
