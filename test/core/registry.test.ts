import { describe, expect, it } from 'vitest';
import { StreamType } from '../../src/core/analytics.js';
import { SidecarError } from '../../src/core/errors.js';
import { GO_ZERO_SECONDS } from '../../src/core/gotime.js';
import { WorkerRegistry, type RegistryLimits, type TrackStatInput } from '../../src/core/registry.js';
import { sample, stream } from '../helpers/stats.js';

const CLOSE_WAIT = 180_000;
const limits: RegistryLimits = { closeWaitMs: CLOSE_WAIT, maxWorkers: 100, maxTracksPerWorker: 10 };
const who = { roomId: 'RM_1', roomName: 'standup', participantId: 'PA_1', participantIdentity: 'alice' };
const activate = (r: WorkerRegistry, guardId: string, connected = false) => r.activate({ ...who, guardId, connected });
const release = (r: WorkerRegistry, guardId: string, now = 1000) => r.release({ ...who, guardId }, now);
const stat = (trackId: string, kind: StreamType = StreamType.UPSTREAM, fields = {}): TrackStatInput => ({
  roomId: who.roomId,
  participantId: who.participantId,
  trackId,
  kind,
  stat: sample({ streams: [stream({ primaryPackets: 1, ...fields })] }),
});
function flushAll(r: WorkerRegistry, now: number) {
  const run = r.beginFlush(now);
  const step = run.step();
  return { ...step, run };
}

describe('WorkerRegistry guards', () => {
  it("follows LiveKit's reference-counted close scenario", () => {
    const r = new WorkerRegistry(limits);
    expect(activate(r, 'g0')).toMatchObject({ found: false, refCount: 1 });
    expect(activate(r, 'g1')).toMatchObject({ found: true, refCount: 2 });
    expect(release(r, 'g0')).toMatchObject({ closed: false, refCount: 1 });
    expect(activate(r, 'g1')).toMatchObject({ found: true, refCount: 1, counted: false });
    expect(release(r, 'g1')).toMatchObject({ closed: true, refCount: 0 });
    expect(activate(r, 'g2')).toMatchObject({ found: false, refCount: 1 });
  });

  it('counts a retried activate once', () => {
    const r = new WorkerRegistry(limits);
    activate(r, 'g0');
    expect(activate(r, 'g0')).toMatchObject({ found: true, refCount: 1, counted: false });
    expect(r.counts().guards).toBe(1);
  });

  it('ignores a double release', () => {
    const r = new WorkerRegistry(limits);
    activate(r, 'g0');
    activate(r, 'g1');
    expect(release(r, 'g0')).toMatchObject({ released: true, refCount: 1 });
    expect(release(r, 'g0')).toMatchObject({ released: false, closed: false, refCount: 1 });
  });

  it('ignores the release of a guard never activated on the worker', () => {
    const r = new WorkerRegistry(limits);
    activate(r, 'g0');
    expect(release(r, 'stranger')).toMatchObject({ found: true, released: false, closed: false, refCount: 1 });
  });

  it('reports not found when releasing for an unknown participant', () => {
    const r = new WorkerRegistry(limits);
    expect(release(r, 'g0')).toEqual({
      closed: false,
      found: false,
      wasConnected: false,
      refCount: 0,
      released: false,
    });
  });

  it('creates or reuses a worker without a reference for an empty guard id', () => {
    const r = new WorkerRegistry(limits);
    expect(activate(r, '')).toMatchObject({ found: false, refCount: 0, counted: false });
    expect(activate(r, '')).toMatchObject({ found: true, refCount: 0 });
    expect(activate(r, 'g0')).toMatchObject({ found: true, refCount: 1 });
  });

  it('marks the worker connected and reports it on release', () => {
    const r = new WorkerRegistry(limits);
    activate(r, 'g0');
    expect(activate(r, 'g1', true)).toMatchObject({ connected: true });
    expect(release(r, 'g0')).toMatchObject({ wasConnected: true });
  });

  it('replaces a closed worker with a new one that inherits connected', () => {
    const r = new WorkerRegistry(limits);
    activate(r, 'g0', true);
    release(r, 'g0');
    const next = activate(r, 'g0');
    expect(next).toMatchObject({ found: false, refCount: 1, connected: true });
    expect(next.replaced?.isClosed).toBe(true);
    expect(r.counts()).toEqual({ active: 1, closing: 1, connected: 1, guards: 1 });
  });

  it('refuses new workers beyond the worker limit with RESOURCE_EXHAUSTED', () => {
    const r = new WorkerRegistry({ ...limits, maxWorkers: 1 });
    activate(r, 'g0');
    let err: unknown;
    try {
      r.activate({ ...who, participantId: 'PA_2', guardId: 'g', connected: false });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SidecarError);
    expect(err).toMatchObject({ code: 'RESOURCE_EXHAUSTED', reason: 'worker_limit' });
    expect(activate(r, 'g1')).toMatchObject({ found: true });
  });

  it('keeps the gauges in step through a lifecycle', () => {
    const r = new WorkerRegistry(limits);
    activate(r, 'g0', true);
    activate(r, 'g1');
    r.activate({ ...who, participantId: 'PA_2', guardId: 'x', connected: false });
    expect(r.counts()).toEqual({ active: 2, closing: 0, connected: 1, guards: 3 });
    release(r, 'g0');
    release(r, 'g1', 1000);
    expect(r.counts()).toEqual({ active: 1, closing: 1, connected: 0, guards: 1 });
    flushAll(r, 1000 + CLOSE_WAIT + 1);
    expect(r.counts()).toEqual({ active: 1, closing: 0, connected: 0, guards: 1 });
  });
});

describe('WorkerRegistry stats and flush', () => {
  it('partitions a batch into accepted, invalid and no_worker', () => {
    const r = new WorkerRegistry(limits);
    activate(r, 'g0');
    const out = r.record([
      stat('TR_a'),
      stat('TR_a', StreamType.UPSTREAM, { nacks: 2 ** 31 }),
      { ...stat('TR_b'), participantId: 'nobody' },
    ]);
    expect(out).toMatchObject({ accepted: 1, invalid: 1, noWorker: 1 });
    expect(out.sampleInvalid?.trackId).toBe('TR_a');
  });

  it('emits one stamped stat per track and direction, upstream first', () => {
    const r = new WorkerRegistry(limits);
    activate(r, 'g0');
    r.record([
      stat('TR_v', StreamType.DOWNSTREAM),
      stat('TR_a'),
      stat('TR_a'),
      stat('TR_v'),
      stat('TR_a', StreamType.DOWNSTREAM),
    ]);
    const { stats, run } = flushAll(r, 1_700_000_000_250);
    expect(stats.map((s) => [s.trackId, s.kind, s.streams[0]!.primaryPackets])).toEqual([
      ['TR_a', StreamType.UPSTREAM, 2],
      ['TR_v', StreamType.UPSTREAM, 1],
      ['TR_v', StreamType.DOWNSTREAM, 1],
      ['TR_a', StreamType.DOWNSTREAM, 1],
    ]);
    expect(stats[0]).toMatchObject({
      roomId: 'RM_1',
      roomName: 'standup',
      participantId: 'PA_1',
      timeStamp: { seconds: 1_700_000_000, nanos: 250_000_000 },
    });
    expect([run.workersFlushed, run.statsEmitted, run.workersReaped]).toEqual([1, 4, 0]);
  });

  it('emits nothing for a participant who left before any stats', () => {
    const r = new WorkerRegistry(limits);
    activate(r, 'g0');
    release(r, 'g0', 0);
    expect(flushAll(r, 1).stats).toEqual([]);
  });

  it('emits an all-invalid track with a zeroed stream', () => {
    const r = new WorkerRegistry(limits);
    activate(r, 'g0');
    r.record([stat('TR_a', StreamType.UPSTREAM, { plis: 2 ** 31 })]);
    const [only] = flushAll(r, 5).stats;
    expect(only?.streams[0]).toMatchObject({ primaryPackets: 0, startTime: { seconds: GO_ZERO_SECONDS, nanos: 0 } });
  });

  it('swaps out pending aggregates on flush', () => {
    const r = new WorkerRegistry(limits);
    activate(r, 'g0');
    r.record([stat('TR_a')]);
    expect(r.list()[0]?.pendingTracks).toBe(1);
    flushAll(r, 1);
    expect(r.list()[0]?.pendingTracks).toBe(0);
    expect(flushAll(r, 2).stats).toEqual([]);
  });

  it('still flushes late stats sent to a closed worker before it is reaped', () => {
    const r = new WorkerRegistry(limits);
    activate(r, 'g0');
    release(r, 'g0', 1000);
    expect(r.record([stat('TR_a')]).accepted).toBe(1);
    const { stats, reaped } = flushAll(r, 2000);
    expect(stats).toHaveLength(1);
    expect(reaped).toEqual([]);
  });

  it('reaps only strictly after close_wait', () => {
    const r = new WorkerRegistry(limits);
    activate(r, 'g0');
    release(r, 'g0', 1000);
    expect(flushAll(r, 1000 + CLOSE_WAIT).reaped).toHaveLength(0);
    expect(flushAll(r, 1000 + CLOSE_WAIT + 1).reaped).toHaveLength(1);
    expect(r.lookup(who.roomId, who.participantId)).toBeUndefined();
    expect(r.list()).toEqual([]);
  });

  it('keeps the map entry of a replacement when the closed worker is reaped', () => {
    const r = new WorkerRegistry(limits);
    activate(r, 'g0');
    release(r, 'g0', 1000);
    const replacement = activate(r, 'g1').worker;
    r.record([stat('TR_a')]);
    const { reaped, stats } = flushAll(r, 1000 + CLOSE_WAIT + 1);
    expect(reaped).toHaveLength(1);
    expect(stats).toHaveLength(1);
    expect(r.lookup(who.roomId, who.participantId)).toBe(replacement);
  });

  it('refuses a whole batch that would pass the track limit', () => {
    const r = new WorkerRegistry({ ...limits, maxTracksPerWorker: 2 });
    activate(r, 'g0');
    r.record([stat('TR_a')]);
    expect(() => r.record([stat('TR_a'), stat('TR_b'), stat('TR_b', StreamType.DOWNSTREAM)])).toThrow(
      expect.objectContaining({ code: 'RESOURCE_EXHAUSTED', reason: 'track_limit' }),
    );
    expect(r.list()[0]?.pendingTracks).toBe(1);
    expect(r.record([stat('TR_a'), stat('TR_b'), stat('TR_b')]).accepted).toBe(3);
  });

  it('flushes in steps and includes workers created during the run', () => {
    const r = new WorkerRegistry(limits);
    for (let i = 0; i < 5; i++) {
      r.activate({ ...who, participantId: `P${i}`, guardId: 'g', connected: false });
      r.record([{ ...stat('T'), participantId: `P${i}` }]);
    }
    const run = r.beginFlush(10);
    expect(run.step(2).stats).toHaveLength(1);
    r.activate({ ...who, participantId: 'late', guardId: 'g', connected: false });
    r.record([{ ...stat('T'), participantId: 'late' }]);
    let emitted = 0;
    for (let step = run.step(2); ; step = run.step(2)) {
      emitted += step.stats.length;
      if (step.done) break;
    }
    expect(emitted).toBe(5);
    expect(run.workersFlushed).toBe(6);
  });

  it('lists workers of one room or of all rooms', () => {
    const r = new WorkerRegistry(limits);
    activate(r, 'g0', true);
    r.activate({ ...who, roomId: 'RM_2', participantId: 'PB', guardId: 'g', connected: false });
    expect(r.list('RM_2').map((w) => w.participantId)).toEqual(['PB']);
    expect(r.list()).toHaveLength(2);
    expect(r.list('RM_1')[0]).toEqual({ ...who, connected: true, refCount: 1, closedAt: null, pendingTracks: 0 });
  });
});
