/**
 * The lifecycle log lines and the rate-limited invalid-stat warning, read from
 * the captured log of a real sidecar driven over gRPC (not from pino or the
 * helpers called directly).
 */
import { status } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { StreamType } from '../../src/core/analytics.js';
import { unary } from '../helpers/rpc.js';
import { SessionClient } from '../../src/client/session-client.js';
import { startTestSidecar, type TestSidecar } from '../helpers/sidecar.js';
import { sample, stream } from '../helpers/stats.js';

let t: TestSidecar | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const CLOSE_WAIT_MS = 60_000;
const who = { roomId: 'RM_log', roomName: 'standup', participantId: 'PA_log', participantIdentity: 'alice' };
const workerFields = {
  room: 'standup',
  roomID: 'RM_log',
  participant: 'alice',
  participantID: 'PA_log',
};
const invalidStat = (trackId: string) => ({
  roomId: who.roomId,
  participantId: who.participantId,
  trackId,
  kind: StreamType.UPSTREAM,
  stat: sample({ streams: [stream({ nacks: 2 ** 31 })] }),
});
const linesWith = (t: TestSidecar, msg: string) => t.logs.filter((l) => l.msg === msg);

describe('service log lines', () => {
  it('logs worker created, closed and reaped with the worker fields, once each', async () => {
    let clock = 1_700_000_000_000;
    t = await startTestSidecar({ SIDECAR_CLOSE_WAIT: `${CLOSE_WAIT_MS}ms` }, { now: () => clock });
    const c = t.client;
    await unary(c, c.Activate, { ...who, guardId: 'g0', connected: true });
    await unary(c, c.Activate, { ...who, guardId: 'g1' });
    expect(await t.logLine('worker created')).toMatchObject({
      level: 30,
      ...workerFields,
      isConnected: true,
      closedAt: null,
      refCount: 1,
    });
    await unary(c, c.Release, { roomId: who.roomId, participantId: who.participantId, guardId: 'g0' });
    expect(linesWith(t, 'worker closed')).toEqual([]);
    await unary(c, c.Release, { roomId: who.roomId, participantId: who.participantId, guardId: 'g1' });
    expect(await t.logLine('worker closed')).toMatchObject({
      ...workerFields,
      closedAt: new Date(clock).toISOString(),
      refCount: 0,
    });

    clock += CLOSE_WAIT_MS;
    await unary(c, c.Flush, { waitDelivered: true });
    expect(linesWith(t, 'worker reaped')).toEqual([]);
    clock += 1;
    expect(await unary(c, c.Flush, { waitDelivered: true })).toMatchObject({ workersReaped: 1 });
    expect(await t.logLine('worker reaped')).toMatchObject({ ...workerFields, refCount: 0 });
    expect(['worker created', 'worker closed', 'worker reaped'].map((m) => linesWith(t!, m).length)).toEqual([1, 1, 1]);
  });

  it("logs a lease expiry naming the vanished client and its guards, then the worker's close", async () => {
    t = await startTestSidecar({ SIDECAR_LEASE_GRACE: '1ms' });
    const s = new SessionClient(t.client);
    await s.send({ hello: { clientId: 'sfu-logs' } });
    await s.send({ activate: { ...who, guardId: 'g0' } });
    await s.send({ activate: { ...who, guardId: 'g1' } });
    s.cancel();
    await expect(s.ended).rejects.toMatchObject({ code: status.CANCELLED });
    expect(await t.logLine('lease expired: released the guards of a vanished client')).toMatchObject({
      level: 30,
      clientId: 'sfu-logs',
      guards: 2,
    });
    expect(await t.logLine('worker closed')).toMatchObject({ ...workerFields, refCount: 0 });
  });

  it('warns about invalid stats at most 10 times a minute and counts the rest in the next warning', async () => {
    let clock = 1_700_000_000_000;
    t = await startTestSidecar({}, { now: () => clock });
    const c = t.client;
    await unary(c, c.Activate, { ...who, guardId: 'g0' });
    for (let i = 0; i < 15; i++) {
      expect(await unary(c, c.TrackStats, { stats: [invalidStat(`TR_${i}`), invalidStat(`TR_${i}`)] })).toMatchObject({
        invalid: 2,
      });
    }
    const warnings = linesWith(t, 'telemetry skipping invalid stat');
    expect(warnings).toHaveLength(10);
    expect(warnings[0]).toMatchObject({
      level: 40,
      roomID: who.roomId,
      participantID: who.participantId,
      trackID: 'TR_0',
      kind: 'UPSTREAM',
      invalidInBatch: 2,
    });
    expect(warnings.every((w) => !('suppressed' in w))).toBe(true);

    clock += 59_999;
    await unary(c, c.TrackStats, { stats: [invalidStat('TR_late')] });
    expect(linesWith(t, 'telemetry skipping invalid stat')).toHaveLength(10);
    clock += 1;
    await unary(c, c.TrackStats, { stats: [invalidStat('TR_next')] });
    const next = linesWith(t, 'telemetry skipping invalid stat');
    expect(next).toHaveLength(11);
    expect(next[10]).toMatchObject({ trackID: 'TR_next', suppressed: 6 });
  });
});
