import { Client, credentials, status, type ServiceDefinition } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { StreamType } from '../../src/core/analytics.js';
import { loadPackageDefinition } from '../../src/wire/protos.js';
import { unary } from '../helpers/rpc.js';
import { startTestSidecar, type TestSidecar } from '../helpers/sidecar.js';
import { sample } from '../helpers/stats.js';

let t: TestSidecar | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const who = { roomId: 'RM_1', roomName: 'room', participantId: 'PA_1', participantIdentity: 'alice' };
const stat = (trackId: string, participantId = 'PA_1') => ({
  roomId: 'RM_1',
  participantId,
  trackId,
  kind: StreamType.UPSTREAM,
  stat: sample(),
});

async function expectStatus(promise: Promise<unknown>, code: status, details?: string | RegExp) {
  const err = (await promise.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (e: unknown) => e,
  )) as { code: number; details: string };
  expect(err.code).toBe(code);
  if (details !== undefined) expect(err.details).toMatch(details);
}

describe('unary RPCs', () => {
  it('activates, records, lists, flushes and releases', async () => {
    t = await startTestSidecar();
    const c = t.client;
    expect(await unary(c, c.Activate, { ...who, guardId: 'g0' })).toEqual({
      found: false,
      refCount: 1,
      connected: false,
    });
    expect(await unary(c, c.Activate, { ...who, guardId: 'g1', connected: true })).toEqual({
      found: true,
      refCount: 2,
      connected: true,
    });
    expect(await unary(c, c.TrackStats, { stats: [stat('T1'), stat('T2'), stat('T1', 'nobody')] })).toEqual({
      accepted: 2,
      invalid: 0,
      noWorker: 1,
    });
    await unary(c, c.Activate, { ...who, roomId: 'RM_2', guardId: 'g' });
    const listed = await unary(c, c.ListWorkers, { roomId: 'RM_1' });
    expect(listed.workers).toEqual([{ ...who, connected: true, refCount: 2, closedAt: null, pendingTracks: 2 }]);
    expect((await unary(c, c.ListWorkers, {})).workers).toHaveLength(2);
    expect(await unary(c, c.Flush, { waitDelivered: true })).toEqual({
      workersFlushed: 2,
      statsEmitted: 2,
      workersReaped: 0,
      delivered: true,
    });
    expect(await unary(c, c.Release, { roomId: 'RM_1', participantId: 'PA_1', guardId: 'g0' })).toEqual({
      closed: false,
      found: true,
      wasConnected: true,
      refCount: 1,
    });
    expect(await unary(c, c.Release, { roomId: 'RM_1', participantId: 'PA_1', guardId: 'g1' })).toMatchObject({
      closed: true,
      refCount: 0,
    });
    expect(await unary(c, c.Release, { roomId: 'RM_1', participantId: 'PA_1', guardId: 'g1' })).toMatchObject({
      closed: false,
      found: true,
    });
    expect(await unary(c, c.Release, { roomId: 'RM_9', participantId: 'PA_1', guardId: 'g1' })).toMatchObject({
      found: false,
    });
    expect(t.delivered()).toHaveLength(2);
  });

  it('refuses missing, oversized and malformed arguments with INVALID_ARGUMENT', async () => {
    t = await startTestSidecar();
    const c = t.client;
    await expectStatus(
      unary(c, c.Activate, { ...who, roomId: '' }),
      status.INVALID_ARGUMENT,
      'room_id must be 1-256 bytes, got 0',
    );
    await expectStatus(
      unary(c, c.Activate, { ...who, participantId: 'x'.repeat(257) }),
      status.INVALID_ARGUMENT,
      'participant_id must be 1-256 bytes, got 257',
    );
    await expectStatus(
      unary(c, c.Activate, { ...who, participantId: 'é'.repeat(129) }),
      status.INVALID_ARGUMENT,
      'got 258',
    );
    expect(await unary(c, c.Activate, { ...who, participantId: 'é'.repeat(128) })).toMatchObject({ found: false });
    await expectStatus(
      unary(c, c.Release, { roomId: 'RM_1', participantId: 'PA_1', guardId: '' }),
      status.INVALID_ARGUMENT,
      'guard_id',
    );
    await expectStatus(
      unary(c, c.TrackStats, { stats: [{ ...stat('T'), kind: 3 as StreamType }] }),
      status.INVALID_ARGUMENT,
      'stats[0].kind',
    );
    await expectStatus(
      unary(c, c.TrackStats, { stats: [stat('T'), { ...stat('T'), trackId: 'x'.repeat(257) }] }),
      status.INVALID_ARGUMENT,
      'stats[1].track_id must be at most 256 bytes, got 257',
    );
    await expectStatus(
      unary(c, c.TrackStats, { stats: [stat('T'), { ...stat('T'), country: 'é'.repeat(33) }] }),
      status.INVALID_ARGUMENT,
      'stats[1].country must be at most 64 bytes, got 66',
    );
    await expectStatus(
      unary(c, c.TrackStats, { stats: [{ ...stat('T'), stat: null }] }),
      status.INVALID_ARGUMENT,
      'stats[0].stat is required',
    );
    // at the byte limits (and past the length shortcut of 3 bytes per code unit): accepted, no worker in that room
    expect(
      await unary(c, c.TrackStats, {
        stats: [{ ...stat('é'.repeat(128)), roomId: 'é'.repeat(128), country: 'é'.repeat(32) }],
      }),
    ).toEqual({ accepted: 0, invalid: 0, noWorker: 1 });

    const def = loadPackageDefinition()['telemetry.sidecar.v1.TelemetrySidecar'] as ServiceDefinition;
    const raw = new Client(t.target, credentials.createInsecure());
    const rawCall = (bytes: Buffer) =>
      new Promise((resolve, reject) =>
        raw.makeUnaryRequest(
          def.TrackStats!.path,
          (b: Buffer) => b,
          (b: Buffer) => b,
          bytes,
          (err, res) => (err ? reject(err) : resolve(res)),
        ),
      );
    await expectStatus(
      rawCall(Buffer.from([0x0a, 0x7f, 0x01])),
      status.INVALID_ARGUMENT,
      /^malformed TrackStatsRequest: /,
    );
    raw.close();
    // the server keeps serving; only the one valid Activate above made a worker
    expect((await unary(c, c.ListWorkers, {})).workers.map((w) => w.participantId)).toEqual(['é'.repeat(128)]);
  });

  it('refuses work beyond the worker and track limits with RESOURCE_EXHAUSTED', async () => {
    t = await startTestSidecar({ SIDECAR_MAX_WORKERS: '1', SIDECAR_MAX_TRACKS_PER_WORKER: '2' });
    const c = t.client;
    await unary(c, c.Activate, { ...who, guardId: 'g' });
    await expectStatus(
      unary(c, c.Activate, { ...who, participantId: 'PA_2', guardId: 'g' }),
      status.RESOURCE_EXHAUSTED,
      /SIDECAR_MAX_WORKERS/,
    );
    await expectStatus(
      unary(c, c.TrackStats, { stats: [stat('T1'), stat('T2'), stat('T3')] }),
      status.RESOURCE_EXHAUSTED,
      /SIDECAR_MAX_TRACKS_PER_WORKER/,
    );
    expect(await unary(c, c.TrackStats, { stats: [stat('T1'), stat('T2')] })).toMatchObject({ accepted: 2 });
  });

  it('answers UNAVAILABLE once shutting down', async () => {
    t = await startTestSidecar();
    const c = t.client;
    const done = t.sidecar.shutdown();
    await expectStatus(unary(c, c.Activate, { ...who, guardId: 'g' }), status.UNAVAILABLE);
    await done;
  });
});
