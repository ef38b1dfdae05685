/** The one Session client (src/client/session-client.ts) against real sidecars. */
import { status } from '@grpc/grpc-js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SessionClient, SessionClosedError, SessionRequestError, withSeq } from '../../src/client/session-client.js';
import { StreamType } from '../../src/core/analytics.js';
import { spawnSidecar } from '../helpers/process.js';
import { startTestSidecar, type TestSidecar } from '../helpers/sidecar.js';
import { sample } from '../helpers/stats.js';

let t: TestSidecar | undefined;
const clients: SessionClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await t?.close();
  t = undefined;
});

const open = (target: string, options: ConstructorParameters<typeof SessionClient>[1] = {}) => {
  const c = SessionClient.open(target, options);
  clients.push(c);
  return c;
};
const activate = (participantId: string) => ({ activate: { roomId: 'R', participantId, guardId: 'g' } });
const stats = (participantId: string) => ({
  stats: { stats: [{ roomId: 'R', participantId, trackId: 'T', kind: StreamType.UPSTREAM, stat: sample() }] },
});

describe('SessionClient', () => {
  it('puts seq in front of a pre-encoded request as a varint', () => {
    expect([...withSeq(1, Buffer.from([0x2a, 0x00]))]).toEqual([0x08, 0x01, 0x2a, 0x00]);
    expect([...withSeq(300, Buffer.alloc(0))]).toEqual([0x08, 0xac, 0x02]);
    expect([...withSeq(2 ** 35, Buffer.alloc(0))]).toEqual([0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]);
  });

  it('resolves each request with the response of its seq, never more than maxInFlight unanswered', async () => {
    t = await startTestSidecar();
    const s = open(t.target, { maxInFlight: 4 });
    expect(await s.hello('sfu-1')).toEqual({ adoptedGuards: 0 });
    let most = 0;
    const watch = <T>(p: Promise<T>) => {
      most = Math.max(most, s.inFlight);
      return p.then((r) => ((most = Math.max(most, s.inFlight)), r));
    };
    const sends = [];
    for (let i = 0; i < 30; i++) sends.push(watch(s.send(i % 2 === 0 ? activate(`P${i}`) : stats(`P${i - 1}`))));
    const responses = await Promise.all(sends);
    expect(responses.map((r) => Number(r.seq))).toEqual(Array.from({ length: 30 }, (_, i) => i + 2));
    expect(responses.filter((r) => r.stats?.accepted === 1)).toHaveLength(15);
    expect(most).toBe(4);
    // a refused request is a response too; the fast path numbers pre-encoded bytes
    const refused = await s.send({ activate: { roomId: '', participantId: 'P' } });
    expect(refused).toMatchObject({ seq: expect.anything(), error: { code: status.INVALID_ARGUMENT } });
    await expect(s.hello('again')).rejects.toEqual(
      new SessionRequestError(status.INVALID_ARGUMENT, 'hello was already sent on this stream (client_id=sfu-1)'),
    );
    await s.end();
  });

  it('sends the bearer token, and rejects what waits when the sidecar refuses the stream', async () => {
    t = await startTestSidecar({}, { token: 's3cret' });
    expect(await open(t.target, { token: 's3cret' }).hello('sfu')).toEqual({ adoptedGuards: 0 });
    const anonymous = open(t.target);
    const refused = anonymous.send(activate('P'));
    await expect(refused).rejects.toBeInstanceOf(SessionClosedError);
    await expect(refused).rejects.toMatchObject({ code: status.UNAUTHENTICATED });
    await expect(anonymous.ended).rejects.toMatchObject({ code: status.UNAUTHENTICATED });
    await expect(anonymous.send(activate('P'))).rejects.toMatchObject({ code: status.UNAUTHENTICATED });
  });

  it('stops writing when the transport pushes back, catches up, and fails every waiting request when the sidecar dies', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'session-client-'));
    try {
      const sidecar = await spawnSidecar(dir, { SIDECAR_UPSTREAM: `file:${join(dir, 'out.ndjson')}` });
      const s = open(`127.0.0.1:${sidecar.grpcPort}`, { maxInFlight: 1_000 });
      await s.hello('sfu');
      sidecar.child.kill('SIGSTOP');
      // requests of some KiB: the HTTP/2 window and grpc-js's buffer fill after a few dozen
      const big = { stats: { stats: Array.from({ length: 50 }, () => stats('P').stats.stats[0]!) } };
      const first = Array.from({ length: 100 }, () => s.send(big));
      expect(s.hasRoom, 'write() returned false: the rest wait in the client').toBe(false);
      expect(s.inFlight).toBeGreaterThan(0);
      expect(s.inFlight).toBeLessThan(100);
      sidecar.child.kill('SIGCONT');
      const answered = await Promise.all(first);
      expect(answered.map((r) => r.error?.message ?? 'ok').filter((m) => m !== 'ok')).toEqual([]);
      expect(answered.map((r) => Number(r.seq))).toEqual(Array.from({ length: 100 }, (_, i) => i + 2));

      sidecar.child.kill('SIGSTOP');
      const waiting = Array.from({ length: 100 }, () => s.send(big));
      sidecar.child.kill('SIGKILL');
      const outcomes = await Promise.allSettled(waiting);
      expect(new Set(outcomes.map((o) => o.status))).toEqual(new Set(['rejected']));
      const reasons = outcomes.map((o) => (o as PromiseRejectedResult).reason as SessionClosedError);
      expect(reasons.every((r) => r instanceof SessionClosedError && r.code === status.UNAVAILABLE)).toBe(true);
      expect(reasons[0]!.message).toMatch(/^the Session stream failed: 14 UNAVAILABLE/);
      await expect(s.ended).rejects.toMatchObject({ code: status.UNAVAILABLE });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
