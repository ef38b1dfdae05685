import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startHttpServer, type HttpServer, type HttpServerOptions } from '../../src/observe/http.js';
import { createLogger } from '../../src/observe/log.js';
import { SidecarMetrics } from '../../src/observe/metrics.js';
import { TokenFile } from '../../src/settings/index.js';
import { httpGet, Scrape } from '../helpers/scrape.js';

let servers: HttpServer[] = [];

async function start(opts: Partial<HttpServerOptions> = {}): Promise<HttpServer> {
  const server = await startHttpServer({
    host: '127.0.0.1',
    port: 0,
    metrics: new SidecarMetrics({ defaultMetrics: false }),
    isReady: () => true,
    eventLoopDelayMs: () => 0,
    ...opts,
  });
  servers.push(server);
  return server;
}

afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

describe('/readyz', () => {
  it('follows isReady: 200 while ready, 503 once it turns false (shutdown), 200 again if it recovers', async () => {
    let ready = false;
    const { port } = await start({ isReady: () => ready });
    expect((await httpGet(port, '/readyz')).status).toBe(503);
    ready = true;
    const ok = await httpGet(port, '/readyz');
    expect(ok).toMatchObject({ status: 200, body: 'ready\n' });
    ready = false;
    expect(await httpGet(port, '/readyz')).toMatchObject({ status: 503, body: 'not ready\n' });
  });
});

describe('/healthz', () => {
  it('answers 200 while the event loop keeps up and 503 after a stall longer than the limit', async () => {
    const delays = [12, 5_001, 40];
    const { port } = await start({ eventLoopDelayMs: () => delays.shift() ?? 0, maxEventLoopDelayMs: 5_000 });
    expect(await httpGet(port, '/healthz')).toMatchObject({ status: 200, body: 'ok\n' });
    const stalled = await httpGet(port, '/healthz');
    expect(stalled.status).toBe(503);
    expect(stalled.body).toBe('event loop stalled 5001 ms (limit 5000 ms)\n');
    expect((await httpGet(port, '/healthz')).status).toBe(200);
  });

  it('stays healthy while not ready (liveness is not readiness)', async () => {
    const { port } = await start({ isReady: () => false });
    expect((await httpGet(port, '/healthz')).status).toBe(200);
  });

  it('is healthy with the built-in event-loop delay monitor', async () => {
    const { port } = await start({ eventLoopDelayMs: undefined });
    expect((await httpGet(port, '/healthz')).status).toBe(200);
  });
});

describe('/metrics', () => {
  it('serves the registry, ignoring a query string', async () => {
    const metrics = new SidecarMetrics({ defaultMetrics: false });
    metrics.leaseExpired(2);
    const { port } = await start({ metrics });
    const reply = await httpGet(port, '/metrics?debug=1');
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(new Scrape(reply.body).value('telemetry_sidecar_leases_expired_total')).toBe(2);
  });

  it('answers 500 and logs when rendering fails', async () => {
    const metrics = new SidecarMetrics({ defaultMetrics: false });
    metrics.bindSessions(() => {
      throw new Error('provider broke');
    });
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const { port } = await start({ metrics, logger: createLogger('info', sink) });
    expect(await httpGet(port, '/metrics')).toMatchObject({ status: 500, body: 'internal error\n' });
    const failure = lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.msg === 'http request failed');
    expect(failure).toMatchObject({ level: 'error', url: '/metrics', err: { message: 'provider broke' } });
    // the next scrape is not stuck behind the failed one
    metrics.bindSessions(() => 3);
    expect(new Scrape((await httpGet(port, '/metrics')).body).value('telemetry_sidecar_sessions')).toBe(3);
  });
});

describe('/metrics bearer token (SIDECAR_METRICS_TOKEN_FILE)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'metrics-token-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const bearer = (token: string, scheme = 'Bearer') => ({ headers: { authorization: `${scheme} ${token}` } });

  it('answers 401 with WWW-Authenticate without the token or with a wrong one, 200 with it in any scheme case', async () => {
    const file = join(dir, 'token');
    writeFileSync(file, 's3cret\n');
    const { port } = await start({ metricsToken: new TokenFile(file, 'SIDECAR_METRICS_TOKEN_FILE') });
    const none = await httpGet(port, '/metrics');
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="telemetry-sidecar"');
    expect(none.body).toBe('unauthorized\n');
    expect((await httpGet(port, '/metrics', bearer('wrong'))).status).toBe(401);
    expect((await httpGet(port, '/metrics', bearer('s3cre'))).status).toBe(401);
    expect((await httpGet(port, '/metrics', bearer('s3cret', 'Basic'))).status).toBe(401);
    expect((await httpGet(port, '/metrics', { method: 'HEAD' })).status).toBe(401);
    for (const scheme of ['Bearer', 'bearer', 'BEARER']) {
      const ok = await httpGet(port, '/metrics', bearer('s3cret', scheme));
      expect(ok.status).toBe(200);
      expect(new Scrape(ok.body).value('telemetry_sidecar_leases_expired_total')).toBe(0);
    }
  });

  it('keeps /healthz and /readyz open for the kubelet', async () => {
    const file = join(dir, 'token');
    writeFileSync(file, 's3cret');
    const { port } = await start({ metricsToken: new TokenFile(file, 'SIDECAR_METRICS_TOKEN_FILE') });
    expect((await httpGet(port, '/healthz')).status).toBe(200);
    expect((await httpGet(port, '/readyz')).status).toBe(200);
  });

  it('re-reads the token when the file is replaced (a rotated Secret), keeping the old one while it is missing', async () => {
    const file = join(dir, 'token');
    writeFileSync(file, 'first');
    const { port } = await start({ metricsToken: new TokenFile(file, 'SIDECAR_METRICS_TOKEN_FILE') });
    expect((await httpGet(port, '/metrics', bearer('first'))).status).toBe(200);
    // Kubernetes swaps Secret files by renaming a new one into place
    writeFileSync(join(dir, 'next'), 'second-token');
    renameSync(join(dir, 'next'), file);
    expect((await httpGet(port, '/metrics', bearer('second-token'))).status).toBe(200);
    expect((await httpGet(port, '/metrics', bearer('first'))).status).toBe(401);
    rmSync(file);
    expect((await httpGet(port, '/metrics', bearer('second-token'))).status).toBe(200);
  });

  it('refuses to start on a missing or empty token file, naming the setting', () => {
    expect(() => new TokenFile(join(dir, 'none'), 'SIDECAR_METRICS_TOKEN_FILE')).toThrow(
      /^SIDECAR_METRICS_TOKEN_FILE: cannot read .*none: ENOENT/,
    );
    writeFileSync(join(dir, 'empty'), ' \n');
    expect(() => new TokenFile(join(dir, 'empty'), 'SIDECAR_METRICS_TOKEN_FILE')).toThrow(
      /^SIDECAR_METRICS_TOKEN_FILE: .*empty is empty$/,
    );
  });
});

describe('routing', () => {
  it('answers 404 for unknown paths', async () => {
    const { port } = await start();
    expect((await httpGet(port, '/')).status).toBe(404);
    expect((await httpGet(port, '/metricsx')).status).toBe(404);
    expect((await httpGet(port, '/constructor')).status).toBe(404);
  });

  it('answers HEAD with the GET headers and no body', async () => {
    const { port } = await start();
    const get = await httpGet(port, '/readyz');
    const head = await httpGet(port, '/readyz', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
    expect(head.headers.get('content-length')).toBe(get.headers.get('content-length'));
    expect(head.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect((await httpGet(port, '/metrics', { method: 'HEAD' })).status).toBe(200);
  });

  it('refuses other methods with 405 and Allow', async () => {
    const { port } = await start();
    const reply = await httpGet(port, '/metrics', { method: 'POST', body: 'x' });
    expect(reply.status).toBe(405);
    expect(reply.headers.get('allow')).toBe('GET, HEAD');
  });
});

describe('lifecycle', () => {
  it('reports the bound port, logs it, and stops serving on close (idempotent)', async () => {
    const lines: string[] = [];
    const logger = createLogger('info', { write: (s: string) => void lines.push(s) });
    const server = await start({ logger });
    expect(server.port).toBeGreaterThan(0);
    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({
      msg: 'http server listening',
      host: '127.0.0.1',
      port: server.port,
    });
    await httpGet(server.port, '/healthz'); // leaves a keep-alive connection open
    await server.close();
    await server.close();
    await expect(httpGet(server.port, '/healthz')).rejects.toMatchObject({ cause: { code: 'ECONNREFUSED' } });
  });

  it('rejects when the port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    try {
      const port = (blocker.address() as AddressInfo).port;
      await expect(start({ port })).rejects.toMatchObject({ code: 'EADDRINUSE' });
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});
