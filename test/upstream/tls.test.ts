import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { StreamType } from '../../src/core/analytics.js';
import { DevUpstream } from '../../src/dev/upstream-server.js';
import { scrape } from '../helpers/scrape.js';
import { makePki, type TestPki } from '../helpers/pki.js';
import { unary } from '../helpers/rpc.js';
import { startTestSidecar, type TestSidecar } from '../helpers/sidecar.js';
import { sample } from '../helpers/stats.js';

let dir: string;
let pki: TestPki;
let ca: string;
let server: { certFile: string; keyFile: string };
let client: { certFile: string; keyFile: string };
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sidecar-tls-'));
  pki = makePki();
  ca = join(pki.dir, 'ca.crt');
  server = pki.issue('server');
  client = pki.issue('client');
});
afterAll(() => {
  pki.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

let t: TestSidecar | undefined;
let u: DevUpstream | undefined;
afterEach(async () => {
  await t?.close();
  await u?.close();
  t = u = undefined;
});

async function flushOne(s: TestSidecar, participantId: string): Promise<boolean> {
  const c = s.client;
  await unary(c, c.Activate, { roomId: 'R', participantId, guardId: 'g' });
  await unary(c, c.TrackStats, {
    stats: [{ roomId: 'R', participantId, trackId: 'T', kind: StreamType.UPSTREAM, stat: sample() }],
  });
  return (await unary(c, c.Flush, { waitDelivered: true })).delivered;
}

const FAST = { retryInitialMs: 20, retryMaxMs: 50, callTimeoutMs: 2000 };

describe('TLS upstreams', () => {
  it('delivers over grpcs:// with a bearer token, verifying the server against the CA file', async () => {
    let token = 'first-token';
    u = new DevUpstream({ tls: server, token: () => token });
    const port = await u.start();
    const tokenFile = join(dir, 'upstream-token');
    writeFileSync(tokenFile, 'first-token\n');
    t = await startTestSidecar(
      {
        SIDECAR_UPSTREAM: `grpcs://localhost:${port}`,
        SIDECAR_UPSTREAM_CA_FILE: ca,
        SIDECAR_UPSTREAM_TOKEN_FILE: tokenFile,
      },
      { delivery: FAST },
    );
    expect(await flushOne(t, 'P1')).toBe(true);
    expect(u.received).toHaveLength(1);

    // a rotated token is picked up from the file on the next send
    token = 'second-token';
    writeFileSync(tokenFile, 'second-token\n');
    utimesSync(tokenFile, new Date(), new Date(Date.now() + 5000));
    expect(await flushOne(t, 'P2')).toBe(true);
    expect(u.received.map((s) => s.participantId)).toEqual(['P1', 'P2']);
  });

  it('presents a client certificate for mTLS', async () => {
    u = new DevUpstream({ tls: { ...server, clientCaFile: ca } });
    const port = await u.start();
    t = await startTestSidecar(
      {
        SIDECAR_UPSTREAM: `grpcs://localhost:${port}`,
        SIDECAR_UPSTREAM_CA_FILE: ca,
        SIDECAR_UPSTREAM_CERT_FILE: client.certFile,
        SIDECAR_UPSTREAM_KEY_FILE: client.keyFile,
      },
      { delivery: FAST },
    );
    expect(await flushOne(t, 'P1')).toBe(true);
    expect(u.received).toHaveLength(1);
  });

  it('does not deliver to a server its CA did not sign', async () => {
    u = new DevUpstream({ tls: server });
    const port = await u.start();
    t = await startTestSidecar(
      { SIDECAR_UPSTREAM: `grpcs://localhost:${port}`, SIDECAR_SHUTDOWN_TIMEOUT: '50ms' },
      { delivery: FAST },
    );
    const c = t.client;
    await unary(c, c.Activate, { roomId: 'R', participantId: 'P', guardId: 'g' });
    await unary(c, c.TrackStats, {
      stats: [{ roomId: 'R', participantId: 'P', trackId: 'T', kind: 0, stat: sample() }],
    });
    const flushed = await unary(c, c.Flush, {});
    expect(flushed.statsEmitted).toBe(1);
    const httpPort = t.sidecar.httpPort;
    await vi.waitFor(async () =>
      expect(
        (await scrape(httpPort)).value('telemetry_sidecar_upstream_stats_total', { result: 'retried' }),
      ).toBeGreaterThan(1),
    );
    expect(u.calls).toBe(0);
    expect(u.received).toEqual([]);
  });
});
