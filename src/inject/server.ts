/**
 * The HTTPS adapter: routes, body limits and certificate rotation around the
 * pure review logic in review.ts.
 */
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { answerReview } from './review.js';
import type { ReviewDeps } from './review.js';

/** Path the MutatingWebhookConfiguration calls. */
export const MUTATE_PATH = '/mutate';

/** Pods are capped at ~1.5 MiB by etcd; a review carries one plus envelope. Anything larger is not ours. */
const MAX_BODY_BYTES = 4 * 1024 * 1024;
/** The API server gives up after the webhook's timeoutSeconds (<= 10 s); so do we. */
const REQUEST_TIMEOUT_MS = 10_000;
/** How long close() lets in-flight reviews finish before cutting connections. */
const CLOSE_GRACE_MS = 5_000;

export interface WebhookServerOptions {
  host: string;
  port: number;
  tlsCertFile: string;
  tlsKeyFile: string;
  /** in milliseconds; 0 disables the periodic check (call reloadCertificates() instead) */
  certReloadIntervalMs: number;
  deps: ReviewDeps;
}

export interface WebhookServer {
  /** The bound port (useful with port 0). */
  readonly port: number;
  /** Re-reads the certificate files if they changed; true when the served certificate was replaced. */
  reloadCertificates(): Promise<boolean>;
  close(): Promise<void>;
}

class BodyTooLarge extends Error {}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        req.removeAllListeners('data');
        reject(new BodyTooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function isJson(contentType: string | undefined): boolean {
  return contentType?.split(';', 1)[0]?.trim().toLowerCase() === 'application/json';
}

function send(res: ServerResponse, status: number, body: string, type = 'application/json'): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

async function handle(req: IncomingMessage, res: ServerResponse, deps: ReviewDeps): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  if (path === MUTATE_PATH) {
    if (req.method !== 'POST') {
      deps.metrics.add('malformed', 'bad_method');
      send(res, 405, JSON.stringify({ error: `${MUTATE_PATH} takes POST, got ${req.method ?? ''}` }));
      return;
    }
    // The API server always sends JSON; anything else is not a review (Istio answers 415 too).
    if (!isJson(req.headers['content-type'])) {
      deps.metrics.add('malformed', 'bad_content_type');
      send(
        res,
        415,
        JSON.stringify({
          error: `content-type must be application/json, got ${req.headers['content-type'] ?? 'none'}`,
        }),
      );
      return;
    }
    let raw: string;
    try {
      raw = await readBody(req);
    } catch (err) {
      if (!(err instanceof BodyTooLarge)) throw err;
      deps.metrics.add('malformed', 'too_large');
      res.setHeader('connection', 'close');
      send(res, 413, JSON.stringify({ error: `request body exceeds ${MAX_BODY_BYTES} bytes` }));
      return;
    }
    const reply = answerReview(raw, deps);
    send(res, reply.status, JSON.stringify(reply.body));
    return;
  }
  if (req.method === 'GET' && (path === '/healthz' || path === '/readyz')) {
    send(res, 200, 'ok\n', 'text/plain');
    return;
  }
  if (req.method === 'GET' && path === '/metrics') {
    const { contentType, body } = await deps.metrics.metricsText(req.headers.accept);
    send(res, 200, body, contentType);
    return;
  }
  send(res, 404, JSON.stringify({ error: `no route for ${req.method ?? ''} ${path ?? ''}` }));
}

interface KeyPair {
  cert: Buffer;
  key: Buffer;
}

async function readPair(certFile: string, keyFile: string): Promise<KeyPair> {
  const [cert, key] = await Promise.all([readFile(certFile), readFile(keyFile)]);
  return { cert, key };
}

export async function startWebhookServer(opts: WebhookServerOptions): Promise<WebhookServer> {
  const { deps } = opts;
  // Compared by content, not mtime: Secret volumes swap files via symlinks, and the files are tiny.
  let serving = await readPair(opts.tlsCertFile, opts.tlsKeyFile);
  const server = createServer({ ...serving }, (req, res) => {
    handle(req, res, deps).catch((err: unknown) => {
      deps.logger.error({ err }, 'webhook request failed');
      if (!res.headersSent) send(res, 500, JSON.stringify({ error: 'internal error' }));
      else res.destroy();
    });
  });
  server.requestTimeout = REQUEST_TIMEOUT_MS;
  server.headersTimeout = REQUEST_TIMEOUT_MS;
  server.on('tlsClientError', (err) => deps.logger.debug({ err: err.message }, 'TLS handshake failed'));

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });

  const reloadCertificates = async (): Promise<boolean> => {
    const next = await readPair(opts.tlsCertFile, opts.tlsKeyFile);
    if (next.cert.equals(serving.cert) && next.key.equals(serving.key)) return false;
    // setSecureContext throws on a mismatched pair (files swapped one at a time); keep the old one until both match.
    server.setSecureContext(next);
    serving = next;
    deps.logger.info({ cert: opts.tlsCertFile }, 'reloaded webhook certificate');
    return true;
  };
  const timer =
    opts.certReloadIntervalMs > 0
      ? setInterval(() => {
          reloadCertificates().catch((err: unknown) =>
            deps.logger.warn({ err: (err as Error).message }, 'certificate reload failed; serving the previous one'),
          );
        }, opts.certReloadIntervalMs)
      : undefined;
  timer?.unref();

  return {
    port: (server.address() as AddressInfo).port,
    reloadCertificates,
    close: () =>
      new Promise<void>((resolve) => {
        if (timer) clearInterval(timer);
        const force = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
        force.unref();
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        // Keep-alive connections from the API server would otherwise hold close() open.
        server.closeIdleConnections();
      }),
  };
}
