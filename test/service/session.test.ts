import { Client, credentials, status } from '@grpc/grpc-js';
import type { ServiceDefinition } from '@grpc/grpc-js';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { StreamType } from '../../src/core/analytics.js';
import { coalesce } from '../../src/core/coalesce.js';
import { loadPackageDefinition } from '../../src/wire/protos.js';
import { toJsonLine } from '../../src/wire/to-livekit.js';
import { unary } from '../helpers/rpc.js';
import { SessionClient } from '../../src/client/session-client.js';
import { startTestSidecar, type TestSidecar } from '../helpers/sidecar.js';
import { layer, sample, stream, ts, type Sample } from '../helpers/stats.js';

let t: TestSidecar | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const ROOM = 'RM_lobby';
const activate = (participantId: string, guardId = `g-${participantId}`, connected = true) => ({
  activate: {
    roomId: ROOM,
    roomName: 'lobby',
    participantId,
    participantIdentity: `id-${participantId}`,
    guardId,
    connected,
  },
});
const release = (participantId: string, guardId = `g-${participantId}`) => ({
  release: { roomId: ROOM, participantId, guardId },
});
const trackStat = (participantId: string, trackId: string, kind: StreamType, stat: Sample) => ({
  roomId: ROOM,
  participantId,
  trackId,
  kind,
  stat,
});

describe('Session stream', () => {
  it('coalesces the stats of joined participants into one stat per track and direction', async () => {
    t = await startTestSidecar();
    const s = new SessionClient(t.client);
    expect((await s.send({ hello: { clientId: 'sfu-a' } })).hello).toEqual({ adoptedGuards: 0 });
    await s.send(activate('PA_1'));
    await s.send(activate('PA_2'));

    const sent = new Map<string, Sample[]>();
    let n = 0;
    for (let round = 0; round < 3; round++) {
      const stats = [];
      for (const p of ['PA_1', 'PA_2']) {
        for (const track of ['TR_audio', 'TR_video']) {
          for (const kind of [StreamType.DOWNSTREAM, StreamType.UPSTREAM]) {
            n++;
            const stat = sample({
              score: 2 + ((n * 7) % 30) / 10,
              mime: track === 'TR_audio' ? 'audio/opus' : `video/VP8-${round}`,
              streams: [
                stream({
                  primaryPackets: 100 + n,
                  primaryBytes: 10_000 * n,
                  nacks: n % 3,
                  rtt: 10 * n,
                  jitter: n,
                  startTime: ts(1_700_000_000 + round * 5),
                  endTime: ts(1_700_000_005 + round * 5),
                  videoLayers: track === 'TR_video' ? [layer(0, n, n * 10, 1), layer(2, n * 2, n * 20, 2)] : [],
                }),
              ],
            });
            const key = `${p}/${track}/${kind}`;
            sent.set(key, [...(sent.get(key) ?? []), stat]);
            stats.push(trackStat(p, track, kind, stat));
          }
        }
      }
      expect((await s.send({ stats: { stats } })).stats).toEqual({ accepted: 8, invalid: 0, noWorker: 0 });
    }

    const flushed = await s.send({ flush: { waitDelivered: true } });
    expect(flushed.flush).toEqual({ workersFlushed: 2, statsEmitted: 8, workersReaped: 0, delivered: true });

    const lines = t.delivered();
    expect(lines).toHaveLength(8);
    for (const line of lines) {
      const key = `${String(line.participantId)}/${String(line.trackId)}/${line.kind === 'DOWNSTREAM' ? 1 : 0}`;
      const expected = coalesce(sent.get(key)!)!;
      Object.assign(expected, {
        id: line.id,
        node: 'test-node',
        roomId: ROOM,
        roomName: 'lobby',
        participantId: line.participantId,
        trackId: line.trackId,
        kind: line.kind === 'DOWNSTREAM' ? 1 : 0,
        timeStamp: {
          seconds: Math.floor(Date.parse(String(line.timeStamp)) / 1000),
          nanos: (Date.parse(String(line.timeStamp)) % 1000) * 1e6,
        },
      });
      expect(line).toEqual(JSON.parse(toJsonLine(expected)));
      expect(String(line.id)).toMatch(/^AS_/);
    }
    // per worker, every upstream aggregate comes before the downstream ones
    for (const p of ['PA_1', 'PA_2']) {
      const kinds = lines.filter((l) => l.participantId === p).map((l) => l.kind ?? 'UPSTREAM');
      expect(kinds).toEqual(['UPSTREAM', 'UPSTREAM', 'DOWNSTREAM', 'DOWNSTREAM']);
    }
    expect(new Set(lines.map((l) => l.id)).size).toBe(8);
    await s.end();
  });

  it('answers every request once, with its seq, in order', async () => {
    t = await startTestSidecar();
    const s = new SessionClient(t.client);
    const pending = [];
    for (let i = 0; i < 60; i++) {
      pending.push(
        s.send(
          i % 3 === 0
            ? activate(`P${i}`)
            : i % 3 === 1
              ? { stats: { stats: [trackStat(`P${i - 1}`, 'T', 0, sample())] } }
              : { flush: {} },
        ),
      );
    }
    const responses = await Promise.all(pending);
    expect(responses.map((r) => Number(r.seq))).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    expect(responses.every((r) => !r.error)).toBe(true);
    await s.end();
  });

  it('answers a burst in slices, yielding between them, still once each and in order', async () => {
    t = await startTestSidecar();
    // every clock read is 10 ms later: the session yields to the event loop after each request
    let clock = performance.now();
    const now = vi.spyOn(performance, 'now').mockImplementation(() => (clock += 10));
    try {
      const s = new SessionClient(t.client, { maxInFlight: 200 });
      const pending = [];
      for (let i = 0; i < 200; i++) {
        pending.push(
          s.send(i % 2 === 0 ? activate(`P${i}`) : { stats: { stats: [trackStat(`P${i - 1}`, 'T', 0, sample())] } }),
        );
      }
      const responses = await Promise.all(pending);
      expect(responses.map((r) => Number(r.seq))).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
      expect(responses.every((r) => !r.error)).toBe(true);
      expect(responses.filter((r) => r.stats?.accepted === 1)).toHaveLength(100);
      await s.end();
    } finally {
      now.mockRestore();
    }
  });

  it('counts stats for a participant without a worker as no_worker', async () => {
    t = await startTestSidecar();
    const s = new SessionClient(t.client);
    await s.send(activate('PA_1'));
    const r = await s.send({
      stats: {
        stats: [
          trackStat('PA_1', 'T', 0, sample()),
          trackStat('ghost', 'T', 0, sample()),
          trackStat('PA_1', 'T', 1, sample({ streams: [stream({ nacks: 2 ** 31 })] })),
        ],
      },
    });
    expect(r.stats).toEqual({ accepted: 1, invalid: 1, noWorker: 1 });
    await s.end();
  });

  it('still flushes stats that arrive after the participant left, before the reap', async () => {
    t = await startTestSidecar();
    const s = new SessionClient(t.client);
    await s.send(activate('PA_1'));
    expect((await s.send(release('PA_1'))).release).toMatchObject({
      closed: true,
      found: true,
      wasConnected: true,
      refCount: 0,
    });
    expect((await s.send({ stats: { stats: [trackStat('PA_1', 'TR_late', 0, sample())] } })).stats?.accepted).toBe(1);
    const listed = await unary(t.client, t.client.ListWorkers, { roomId: ROOM });
    expect(listed.workers[0]?.closedAt).not.toBeNull();
    expect((await s.send({ flush: { waitDelivered: true } })).flush).toMatchObject({
      statsEmitted: 1,
      workersReaped: 0,
    });
    expect(t.delivered().map((l) => l.trackId)).toEqual(['TR_late']);
    await s.end();
  });

  it('sends nothing for a participant who left before any flush', async () => {
    t = await startTestSidecar();
    const s = new SessionClient(t.client);
    await s.send(activate('PA_1'));
    await s.send(release('PA_1'));
    expect((await s.send({ flush: { waitDelivered: true } })).flush).toMatchObject({
      statsEmitted: 0,
      delivered: true,
    });
    expect(t.delivered()).toEqual([]);
    await s.end();
  });

  it('answers bad messages with a StreamError and keeps the stream open', async () => {
    t = await startTestSidecar();
    const s = new SessionClient(t.client);
    const emptyRoom = await s.send({ activate: { roomId: '', participantId: 'P' } });
    expect(emptyRoom.error).toEqual({ code: status.INVALID_ARGUMENT, message: 'room_id must be 1-256 bytes, got 0' });
    const badKind = await s.send({
      stats: { stats: [{ ...trackStat('P', 'T', 0, sample()), kind: 7 as StreamType }] },
    });
    expect(badKind.error?.code).toBe(status.INVALID_ARGUMENT);
    expect(badKind.error?.message).toContain('stats[0].kind');
    expect((await s.send({})).error?.code).toBe(status.INVALID_ARGUMENT);
    expect((await s.send({ release: { roomId: ROOM, participantId: 'P', guardId: '' } })).error?.message).toBe(
      'guard_id must be 1-256 bytes, got 0',
    );
    expect((await s.send(activate('PA_ok'))).activate).toEqual({ found: false, refCount: 1, connected: true });
    await s.end();
  });

  it('answers malformed bytes with a StreamError that carries the seq, and keeps reading', async () => {
    t = await startTestSidecar();
    const def = loadPackageDefinition()['telemetry.sidecar.v1.TelemetrySidecar'] as ServiceDefinition;
    const session = def.Session!;
    const raw = new Client(t.target, credentials.createInsecure());
    const call = raw.makeBidiStreamRequest(
      session.path,
      (b: Buffer) => b,
      (b: Buffer) =>
        session.responseDeserialize(b) as { seq: { toString(): string }; error?: { code: number }; activate?: object },
    );
    const responses: { seq: { toString(): string }; error?: { code: number }; activate?: object }[] = [];
    const got = new Promise<void>((resolve) =>
      call.on('data', (r: (typeof responses)[number]) => {
        responses.push(r);
        if (responses.length === 2) resolve();
      }),
    );
    call.write(Buffer.from([0x08, 0x05, 0x1a, 0xff, 0xff]));
    call.write(session.requestSerialize({ seq: 6, ...activate('PA_1') }));
    await got;
    expect(responses[0]).toMatchObject({ error: { code: status.INVALID_ARGUMENT } });
    expect(responses[0]!.seq.toString()).toBe('5');
    expect(responses[1]!.seq.toString()).toBe('6');
    expect(responses[1]!.activate).toMatchObject({ found: false, refCount: 1 });
    call.end();
    raw.close();
  });
});

describe('guard leases', () => {
  it('releases the guards of a stream that died once the lease grace passes', async () => {
    t = await startTestSidecar({ SIDECAR_LEASE_GRACE: '100ms' });
    const s = new SessionClient(t.client);
    await s.send({ hello: { clientId: 'sfu-1' } });
    await s.send(activate('PA_1'));
    await s.send(activate('PA_2'));
    s.cancel();
    await expect(s.ended).rejects.toMatchObject({ code: status.CANCELLED });
    const c = t.client;
    await vi.waitFor(async () => {
      const { workers } = await unary(c, c.ListWorkers, {});
      expect(workers.map((w) => [w.participantId, w.refCount, w.closedAt !== null])).toEqual([
        ['PA_1', 0, true],
        ['PA_2', 0, true],
      ]);
    });
    expect(
      t.logs.some((l) => l.msg === 'lease expired: released the guards of a vanished client' && l.clientId === 'sfu-1'),
    ).toBe(true);
  });

  it('lets a new stream that says Hello with the same client id adopt the guards', async () => {
    t = await startTestSidecar({ SIDECAR_LEASE_GRACE: '1h' });
    const first = new SessionClient(t.client);
    await first.send({ hello: { clientId: 'sfu-2' } });
    await first.send(activate('PA_1'));
    await first.send(activate('PA_2'));
    first.cancel();
    await expect(first.ended).rejects.toMatchObject({ code: status.CANCELLED });

    const second = new SessionClient(t.client);
    expect((await second.send({ hello: { clientId: 'sfu-2' } })).hello).toEqual({ adoptedGuards: 2 });
    const { workers } = await unary(t.client, t.client.ListWorkers, {});
    expect(workers.map((w) => w.refCount)).toEqual([1, 1]);
    expect((await second.send(release('PA_1'))).release).toMatchObject({ closed: true });
    await second.end();
  });

  it('refuses a second Hello on the same stream', async () => {
    t = await startTestSidecar();
    const s = new SessionClient(t.client);
    await s.send({ hello: { clientId: 'a' } });
    expect((await s.send({ hello: { clientId: 'b' } })).error?.code).toBe(status.INVALID_ARGUMENT);
    await s.end();
  });

  it('does not lease guards taken with the unary Activate', async () => {
    t = await startTestSidecar({ SIDECAR_LEASE_GRACE: '10ms' });
    await unary(t.client, t.client.Activate, activate('PA_1').activate);
    const s = new SessionClient(t.client);
    await s.send({ hello: { clientId: 'x' } });
    await s.send(activate('PA_2'));
    s.cancel();
    await expect(s.ended).rejects.toMatchObject({ code: status.CANCELLED });
    const c = t.client;
    await vi.waitFor(async () => {
      const { workers } = await unary(c, c.ListWorkers, {});
      expect(workers.find((w) => w.participantId === 'PA_2')?.refCount).toBe(0);
    });
    const { workers } = await unary(c, c.ListWorkers, {});
    expect(workers.find((w) => w.participantId === 'PA_1')).toMatchObject({ refCount: 1, closedAt: null });
  });
});
