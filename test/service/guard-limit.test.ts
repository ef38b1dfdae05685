/** The per-worker guard limit over real gRPC: refusal status, accounting, and guard ids held in memory. */
import { status } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_MAX_GUARDS_PER_WORKER } from '../../src/core/registry.js';
import { scrape } from '../helpers/scrape.js';
import { unary } from '../helpers/rpc.js';
import { startTestSidecar, type TestSidecar } from '../helpers/sidecar.js';

let t: TestSidecar | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const who = { roomId: 'RM_g', roomName: 'room', participantId: 'PA_g', participantIdentity: 'alice' };

async function activate(t: TestSidecar, guardId: string) {
  const c = t.client;
  return unary(c, c.Activate, { ...who, guardId });
}

async function refusal(promise: Promise<unknown>): Promise<{ code: number; details: string }> {
  return promise.then(
    () => {
      throw new Error('expected RESOURCE_EXHAUSTED');
    },
    (err: { code: number; details: string }) => err,
  );
}

describe('guard limit per worker over gRPC', () => {
  it(`holds at most ${DEFAULT_MAX_GUARDS_PER_WORKER} guard ids by default and refuses the rest with RESOURCE_EXHAUSTED`, async () => {
    t = await startTestSidecar();
    await Promise.all(Array.from({ length: DEFAULT_MAX_GUARDS_PER_WORKER }, (_, i) => activate(t!, `guard-${i}`)));
    const err = await refusal(activate(t, 'one-too-many'));
    expect(err.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(err.details).toBe(
      `guard limit reached for participant PA_g in room RM_g: ${DEFAULT_MAX_GUARDS_PER_WORKER} guard ids held or recently released (SIDECAR_MAX_GUARDS_PER_WORKER=${DEFAULT_MAX_GUARDS_PER_WORKER})`,
    );
    expect(await activate(t, 'guard-7')).toEqual({
      found: true,
      refCount: DEFAULT_MAX_GUARDS_PER_WORKER,
      connected: false,
    });
  });

  it('stays bounded under a flood of distinct guard ids, and counts each refusal', async () => {
    t = await startTestSidecar({ SIDECAR_MAX_GUARDS_PER_WORKER: '8' });
    const flood = 400;
    const results = await Promise.allSettled(Array.from({ length: flood }, (_, i) => activate(t!, `flood-${i}`)));
    const refused = results.filter(
      (r) => r.status === 'rejected' && (r.reason as { code: number }).code === status.RESOURCE_EXHAUSTED,
    );
    expect(refused).toHaveLength(flood - 8);
    expect(t.sidecar.registry.lookup(who.roomId, who.participantId)?.guardIds).toBe(8);
    const metrics = await scrape(t.sidecar.httpPort);
    expect(metrics.value('telemetry_sidecar_guards_active')).toBe(8);
    expect(metrics.value('telemetry_sidecar_guard_ops_total', { op: 'activate', result: 'error' })).toBe(flood - 8);
  });

  it('remembers a released guard (its retried activate is a no-op) until the worker closes', async () => {
    t = await startTestSidecar({ SIDECAR_MAX_GUARDS_PER_WORKER: '2' });
    const c = t.client;
    await activate(t, 'g0');
    await activate(t, 'g1');
    expect(await unary(c, c.Release, { roomId: who.roomId, participantId: who.participantId, guardId: 'g0' })).toEqual({
      closed: false,
      found: true,
      wasConnected: false,
      refCount: 1,
    });
    expect(await activate(t, 'g0')).toEqual({ found: true, refCount: 1, connected: false });
    expect((await refusal(activate(t, 'g2'))).code).toBe(status.RESOURCE_EXHAUSTED);
    await unary(c, c.Release, { roomId: who.roomId, participantId: who.participantId, guardId: 'g1' });
    expect(t.sidecar.registry.lookup(who.roomId, who.participantId)?.guardIds).toBe(0);
    expect(await activate(t, 'g2')).toEqual({ found: false, refCount: 1, connected: false });
  });
});
