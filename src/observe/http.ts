/**
 * The operator's HTTP port (SIDECAR_HTTP_ADDR): /metrics, /healthz, /readyz.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { TokenFile } from '../settings/index.js';
import type { SidecarMetrics } from './metrics.js';

/**
 * /healthz fails when the event loop stalled longer than this since the
 * previous check: generous, so one slow flush does not get the pod killed,
 * while a loop that keeps stalling for seconds does (with the probe's
 * failureThreshold); in milliseconds.
 */
const DEFAULT_MAX_EVENT_LOOP_DELAY_MS = 5_000;
/** Sampling resolution of the delay monitor; in milliseconds. */
const DELAY_MONITOR_RESOLUTION_MS = 20;

export interface HttpServerOptions {
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  /** Absent while the sidecar idles after a startup failure: /metrics then answers 503. */
  metrics?: SidecarMetrics;
  /**
   * When set, /metrics needs `Authorization: Bearer <token>` (scheme in any case) and
   * answers 401 otherwise. /healthz and /readyz stay open for the kubelet's probes.
   */
  metricsToken?: TokenFile;
  /** /readyz answers 200 while this is true: gRPC bound and not shutting down. Upstream health is not a condition. */
  isReady: () => boolean;
  logger?: Logger;
  /** in milliseconds, default 5_000 */
  maxEventLoopDelayMs?: number;
  /**
   * Worst event-loop delay in milliseconds since the previous call. Default:
   * a `monitorEventLoopDelay` histogram, reset at every /healthz. Tests inject one.
   */
  eventLoopDelayMs?: () => number;
}

export interface HttpServer {
  /** The bound port (the real one when asked for 0). */
  readonly port: number;
  /** Stops listening and drops idle keep-alive connections; idempotent. */
  close(): Promise<void>;
}

export async function startHttpServer(opts: HttpServerOptions): Promise<HttpServer> {
  const maxDelayMs = opts.maxEventLoopDelayMs ?? DEFAULT_MAX_EVENT_LOOP_DELAY_MS;
  const monitor = opts.eventLoopDelayMs
    ? undefined
    : monitorEventLoopDelay({ resolution: DELAY_MONITOR_RESOLUTION_MS });
  monitor?.enable();
  const loopDelayMs =
    opts.eventLoopDelayMs ??
    (() => {
      const worstMs = monitor ? monitor.max / 1e6 : 0;
      monitor?.reset();
      return worstMs;
    });

  const routes: Record<string, (req: IncomingMessage) => Promise<Reply> | Reply> = {
    '/metrics': async (req) => {
      if (opts.metricsToken && !opts.metricsToken.acceptsBearer(req.headers.authorization)) {
        return { ...text(401, 'unauthorized\n'), headers: { 'www-authenticate': 'Bearer realm="telemetry-sidecar"' } };
      }
      if (!opts.metrics) return text(503, 'not started: see the sidecar log\n');
      const { contentType, body } = await opts.metrics.metricsText(req.headers.accept);
      return { status: 200, contentType, body };
    },
    '/healthz': () => {
      const delayMs = loopDelayMs();
      return delayMs > maxDelayMs
        ? text(503, `event loop stalled ${Math.round(delayMs)} ms (limit ${maxDelayMs} ms)\n`)
        : text(200, 'ok\n');
    },
    '/readyz': () => (opts.isReady() ? text(200, 'ready\n') : text(503, 'not ready\n')),
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      opts.logger?.error({ err, url: req.url }, 'http request failed');
      if (res.headersSent) res.destroy();
      else send(req, res, text(500, 'internal error\n'));
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?', 1)[0] ?? '/';
    const route = Object.hasOwn(routes, path) ? routes[path] : undefined;
    if (!route) return send(req, res, text(404, 'not found\n'));
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return send(req, res, { ...text(405, 'method not allowed\n'), headers: { allow: 'GET, HEAD' } });
    }
    send(req, res, await route(req));
  }

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port, opts.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    monitor?.disable();
    throw err;
  }
  const port = (server.address() as AddressInfo).port;
  opts.logger?.info({ host: opts.host, port }, 'http server listening');

  let closing: Promise<void> | undefined;
  return {
    port,
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        monitor?.disable();
        server.close((err) => (err ? reject(err) : resolve()));
        // Prometheus keeps its connection alive between scrapes; don't wait for it to time out.
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

interface Reply {
  status: number;
  contentType: string;
  body: string;
  headers?: Record<string, string>;
}

function text(status: number, body: string): Reply {
  return { status, contentType: 'text/plain; charset=utf-8', body };
}

function send(req: IncomingMessage, res: ServerResponse, reply: Reply): void {
  res.writeHead(reply.status, {
    ...reply.headers,
    'content-type': reply.contentType,
    'content-length': Buffer.byteLength(reply.body),
    'cache-control': 'no-store',
  });
  // HEAD: same headers (length included), no body
  res.end(req.method === 'HEAD' ? undefined : reply.body);
}
