/**
 * Flush{wait_delivered: true} during an upstream outage waits at most
 * SIDECAR_FLUSH_WAIT_TIMEOUT, answers delivered=false, and the Session's
 * later requests are answered (docs/api.md, Flush).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { StreamType } from '../../src/core/analytics.js';
import { unary } from '../helpers/rpc.js';
import { SessionClient } from '../../src/client/session-client.js';
import { DevUpstreams, deadPort } from '../helpers/dev-upstreams.js';
import { startTestSidecar, type TestSidecar } from '../helpers/sidecar.js';
import { sample } from '../helpers/stats.js';

let t: TestSidecar | undefined;
const upstreams = new DevUpstreams();
afterEach(async () => {
  await t?.close();
  t = undefined;
  await upstreams.closeAll();
});
const upstream = (options?: Parameters<DevUpstreams['start']>[0]) => upstreams.start(options);

const FAST = { retryInitialMs: 20, retryMaxMs: 100, callTimeoutMs: 60_000 };
const settings = (port: number) => ({
  SIDECAR_UPSTREAM: `grpc://127.0.0.1:${port}`,
  SIDECAR_FLUSH_WAIT_TIMEOUT: '300ms',
  // the undelivered stats are not waited for at the end of the test
  SIDECAR_SHUTDOWN_TIMEOUT: '10ms',
});
const who = { roomId: 'RM', participantId: 'PA' };
const stats = { stats: [{ ...who, trackId: 'TR', kind: StreamType.UPSTREAM, stat: sample() }] };

describe('Flush with wait_delivered during an upstream outage', () => {
  it('answers delivered=false after the wait, and the Session answers the requests behind it', async () => {
    t = await startTestSidecar(settings(await deadPort()), { delivery: FAST });
    const s = new SessionClient(t.client);
    await s.send({ activate: { ...who, guardId: 'g' } });
    await s.send({ stats });
    const flush = s.send({ flush: { waitDelivered: true } });
    const behind = s.send({ activate: { ...who, participantId: 'PB', guardId: 'g' } });
    expect((await flush).flush).toEqual({ workersFlushed: 1, statsEmitted: 1, workersReaped: 0, delivered: false });
    expect((await behind).activate).toEqual({ found: false, refCount: 1, connected: false });
    expect([Number((await flush).seq), Number((await behind).seq)]).toEqual([3, 4]);
    await s.end();
  });

  it('bounds the wait when the upstream takes the stats and never acknowledges them', async () => {
    const hanging = await upstream({ respond: () => ({ hang: true }) });
    t = await startTestSidecar(settings(hanging.port), { delivery: FAST });
    const c = t.client;
    await unary(c, c.Activate, { ...who, guardId: 'g' });
    await unary(c, c.TrackStats, stats);
    expect(await unary(c, c.Flush, { waitDelivered: true })).toMatchObject({ statsEmitted: 1, delivered: false });
    expect(hanging.calls).toBeGreaterThan(0);
  });

  it('still answers delivered=true when the upstream acknowledges within the wait', async () => {
    const healthy = await upstream();
    t = await startTestSidecar(settings(healthy.port), { delivery: FAST });
    const c = t.client;
    await unary(c, c.Activate, { ...who, guardId: 'g' });
    await unary(c, c.TrackStats, stats);
    expect(await unary(c, c.Flush, { waitDelivered: true })).toMatchObject({ statsEmitted: 1, delivered: true });
    expect(healthy.received.map((s) => s.trackId)).toEqual(['TR']);
  });
});
