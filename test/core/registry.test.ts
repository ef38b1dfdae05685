import { describe, expect, it } from 'vitest';
import { StreamType, type AnalyticsStat } from '../../src/core/analytics.js';
import { SidecarError } from '../../src/core/errors.js';
import { GO_ZERO_SECONDS } from '../../src/core/gotime.js';
import {
  DEFAULT_MAX_GUARDS_PER_WORKER,
  WorkerRegistry,
  type RegistryLimits,
  type TrackStatInput,
} from '../../src/core/registry.js';
import { StatsWorker } from '../../src/core/worker.js';
import { layer, sample, stream } from '../helpers/stats.js';

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

  it('tells whether the worker holds a guard right now', () => {
    const r = new WorkerRegistry(limits);
    const worker = activate(r, 'g0').worker;
    activate(r, 'g1');
    release(r, 'g1');
    expect([worker.holds('g0'), worker.holds('g1'), worker.holds('never')]).toEqual([true, false, false]);
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

  it("hands a flushed track's aggregate back, emptied, for its next interval, and drops it after an interval without stats", () => {
    const w = new StatsWorker(who);
    const first = w.aggregate('TR_a', StreamType.UPSTREAM);
    first.add(sample({ score: 3, streams: [stream({ primaryPackets: 5 })] }));
    expect(w.flush({ seconds: 1, nanos: 0 })).toHaveLength(1);
    expect(w.pendingTracks).toBe(0);
    expect(w.pendingAggregate('TR_a', StreamType.UPSTREAM)).toBeUndefined();
    // the same object, holding nothing of the last interval; the other direction is another track
    expect(w.aggregate('TR_a', StreamType.DOWNSTREAM)).not.toBe(first);
    const again = w.aggregate('TR_a', StreamType.UPSTREAM);
    expect(again).toBe(first);
    again.add(sample({ streams: [stream({ primaryPackets: 2 })] }));
    const [up, down] = w.flush({ seconds: 2, nanos: 0 });
    expect([up?.kind, up?.streams[0]?.primaryPackets, up?.medianScore]).toEqual([StreamType.UPSTREAM, 2, 0]);
    expect(down?.kind).toBe(StreamType.DOWNSTREAM);
    // silent for a whole interval: not emitted, and gone after that interval's flush
    expect(w.flush({ seconds: 3, nanos: 0 })).toEqual([]);
    expect(w.aggregate('TR_a', StreamType.UPSTREAM)).not.toBe(first);
  });

  it("lets go of every worker's spare aggregates on dropSpares (memory pressure)", () => {
    const r = new WorkerRegistry(limits);
    activate(r, 'g0');
    r.record([stat('TR_a')]);
    const worker = r.lookup(who.roomId, who.participantId)!;
    const kept = worker.pendingAggregate('TR_a', StreamType.UPSTREAM);
    flushAll(r, 1);
    expect(worker.aggregate('TR_a', StreamType.UPSTREAM)).toBe(kept);
    flushAll(r, 2);
    r.dropSpares();
    expect(worker.aggregate('TR_a', StreamType.UPSTREAM)).not.toBe(kept);
  });

  it('keeps the pending aggregates on dropSpares: only the emptied ones go', () => {
    const r = new WorkerRegistry(limits);
    activate(r, 'g0');
    r.record([stat('TR_a'), stat('TR_b')]);
    const worker = r.lookup(who.roomId, who.participantId)!;
    const keptB = worker.pendingAggregate('TR_b', StreamType.UPSTREAM);
    flushAll(r, 1);
    r.record([stat('TR_a', StreamType.UPSTREAM, { primaryPackets: 7 })]);
    r.dropSpares();
    expect(worker.pendingTracks).toBe(1);
    const emitted = flushAll(r, 2).stats;
    expect(emitted.map((s) => [s.trackId, s.streams[0]?.primaryPackets])).toEqual([['TR_a', 7]]);
    expect(worker.aggregate('TR_b', StreamType.UPSTREAM)).not.toBe(keptB);
  });

  it('counts only tracks with stats this interval against the track limit, not the aggregates kept for reuse', () => {
    const r = new WorkerRegistry(limits);
    activate(r, 'g0');
    const tracks = (prefix: string) =>
      Array.from({ length: limits.maxTracksPerWorker }, (_, i) => stat(`${prefix}${i}`));
    expect(r.record(tracks('TR_a')).accepted).toBe(limits.maxTracksPerWorker);
    flushAll(r, 1);
    expect(r.record(tracks('TR_b')).accepted).toBe(limits.maxTracksPerWorker);
    expect(() => r.record([stat('TR_a0')])).toThrow(SidecarError);
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

  it('fills the records of one step again in the next, each as a fresh flush would give it', () => {
    // twins fed alike: one flushed a worker per step (its records reused), one in a single step (all new)
    const twins = [new WorkerRegistry(limits), new WorkerRegistry(limits)];
    for (const r of twins) {
      for (let p = 0; p < 6; p++) {
        const participantId = `P${p}`;
        r.activate({ ...who, participantId, guardId: 'g', connected: false });
        const video = p % 2 === 0;
        const s = (trackId: string, kind: StreamType, k: number) => ({
          ...stat(trackId, kind),
          participantId,
          stat: sample({
            score: p % 3 === 0 ? 0 : 1 + p + k / 4,
            mime: video ? 'video/VP8' : 'audio/opus',
            streams: [
              stream({
                primaryPackets: 10 * p + k,
                primaryBytes: 1000 * p + k,
                rtt: p + k,
                startTime: p === 5 ? null : { seconds: 100 + p, nanos: k },
                endTime: { seconds: 200 + p, nanos: 7 * k },
                videoLayers: video ? [layer(k % 3, p, 2 * p, 3 * p)] : [],
              }),
            ],
          }),
        });
        r.record([s('T1', StreamType.UPSTREAM, 1), s('T1', StreamType.UPSTREAM, 2), s('T2', StreamType.DOWNSTREAM, 3)]);
      }
    }
    const whole = twins[1]!.beginFlush(10).step().stats;
    const run = twins[0]!.beginFlush(10);
    const stepped: AnalyticsStat[] = [];
    const seen = new Set<AnalyticsStat>();
    let reused = 0;
    for (let step = run.step(1); ; step = run.step(1)) {
      stepped.push(...structuredClone(step.stats));
      for (const s of step.stats) {
        if (seen.has(s)) reused++;
        seen.add(s);
        // as the scheduler's stamper and a consumer may leave them
        s.id = 'AS_x';
        s.node = 'n';
        s.analyticsKey = 'k';
      }
      if (step.done) break;
    }
    expect(reused).toBeGreaterThan(6);
    expect(stepped).toEqual(whole);
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

describe('WorkerRegistry bookkeeping', () => {
  const other = { ...who, participantId: 'PA_2', participantIdentity: 'bob' };

  it('reaps one participant of a room and keeps the others reachable', () => {
    const r = new WorkerRegistry(limits);
    activate(r, 'g0');
    const bob = r.activate({ ...other, guardId: 'g', connected: false }).worker;
    release(r, 'g0', 1000);
    expect(flushAll(r, 1000 + CLOSE_WAIT + 1).reaped.map((w) => w.participantId)).toEqual(['PA_1']);
    expect(r.lookup(who.roomId, 'PA_2')).toBe(bob);
    expect(r.roomsHeld).toBe(1);
    expect(r.record([{ ...stat('TR_b'), participantId: 'PA_2' }])).toMatchObject({ accepted: 1, noWorker: 0 });
    expect(r.activate({ ...other, guardId: 'g2', connected: false })).toMatchObject({ found: true, refCount: 2 });
  });

  it('drops the room once its last participant is reaped, so a new worker starts clean', () => {
    const r = new WorkerRegistry(limits);
    activate(r, 'g0');
    release(r, 'g0', 1000);
    flushAll(r, 1000 + CLOSE_WAIT + 1);
    expect(r.roomsHeld).toBe(0);
    expect(r.record([stat('TR_a')])).toMatchObject({ accepted: 0, noWorker: 1 });
    expect(activate(r, 'g0')).toMatchObject({ found: false, refCount: 1 });
    expect(r.list()).toHaveLength(1);
  });

  it('counts no guard for an empty guard id, on a new worker or an existing one', () => {
    const r = new WorkerRegistry(limits);
    activate(r, '');
    expect(r.counts()).toEqual({ active: 1, closing: 0, connected: 0, guards: 0 });
    activate(r, 'g0');
    activate(r, '');
    expect(r.counts().guards).toBe(1);
  });

  it('counts a worker connected once however often it is re-activated as connected', () => {
    const r = new WorkerRegistry(limits);
    activate(r, 'g0', true);
    activate(r, 'g1', true);
    activate(r, 'g0', true);
    expect(r.counts().connected).toBe(1);
    release(r, 'g0');
    expect(r.counts().connected).toBe(1);
    release(r, 'g1');
    expect(r.counts()).toMatchObject({ connected: 0, closing: 1 });
  });

  it('counts a connected replacement once and the closed worker it replaced not at all', () => {
    const r = new WorkerRegistry(limits);
    activate(r, 'g0');
    release(r, 'g0');
    expect(activate(r, 'g1', true)).toMatchObject({ found: false, connected: true });
    expect(r.counts()).toEqual({ active: 1, closing: 1, connected: 1, guards: 1 });
  });

  it('counts a track once per direction in pendingTracks and against the track limit', () => {
    const r = new WorkerRegistry({ ...limits, maxTracksPerWorker: 3 });
    activate(r, 'g0');
    r.record([stat('TR_a'), stat('TR_a', StreamType.DOWNSTREAM), stat('TR_a')]);
    expect(r.list()[0]?.pendingTracks).toBe(2);
    expect(() => r.record([stat('TR_b'), stat('TR_b', StreamType.DOWNSTREAM)])).toThrow(
      expect.objectContaining({ reason: 'track_limit' }),
    );
    expect(r.record([stat('TR_b', StreamType.DOWNSTREAM), stat('TR_a', StreamType.DOWNSTREAM)]).accepted).toBe(2);
    expect(r.list()[0]?.pendingTracks).toBe(3);
  });

  it('admits a batch that exactly fills the track limit', () => {
    const r = new WorkerRegistry({ ...limits, maxTracksPerWorker: 3 });
    activate(r, 'g0');
    r.record([stat('TR_a')]);
    expect(r.record([stat('TR_b'), stat('TR_c'), stat('TR_a'), stat('TR_a')]).accepted).toBe(4);
    expect(r.list()[0]?.pendingTracks).toBe(3);
  });

  it('sends each stat of a batch to its own room when one participant id is in two rooms', () => {
    const r = new WorkerRegistry(limits);
    activate(r, 'g0');
    r.activate({ ...who, roomId: 'RM_2', guardId: 'g0', connected: false });
    const inRoom = (roomId: string, trackId: string) => ({ ...stat(trackId), roomId });
    expect(r.record([inRoom('RM_1', 'T1'), inRoom('RM_2', 'T2'), inRoom('RM_2', 'T3'), inRoom('RM_1', 'T4')])).toEqual({
      accepted: 4,
      invalid: 0,
      noWorker: 0,
    });
    expect(r.list('RM_1')[0]?.pendingTracks).toBe(2);
    expect(r.list('RM_2')[0]?.pendingTracks).toBe(2);
    const emitted = flushAll(r, 5).stats.map((s) => `${s.roomId}/${s.trackId}`);
    expect(emitted.sort()).toEqual(['RM_1/T1', 'RM_1/T4', 'RM_2/T2', 'RM_2/T3']);
  });

  it('sends stats of two participants of one room, interleaved, each to its own worker', () => {
    const r = new WorkerRegistry(limits);
    activate(r, 'g0');
    r.activate({ ...other, guardId: 'g', connected: false });
    const of = (participantId: string, trackId: string) => ({ ...stat(trackId), participantId });
    r.record([of('PA_1', 'T1'), of('PA_2', 'T2'), of('PA_1', 'T3')]);
    expect(r.list().map((w) => [w.participantId, w.pendingTracks])).toEqual([
      ['PA_1', 2],
      ['PA_2', 1],
    ]);
  });

  it('refuses a new worker at the limit even when only closed workers hold the slots', () => {
    const r = new WorkerRegistry({ ...limits, maxWorkers: 1 });
    activate(r, 'g0');
    release(r, 'g0', 1000);
    expect(() => activate(r, 'g1')).toThrow(expect.objectContaining({ code: 'RESOURCE_EXHAUSTED' }));
    flushAll(r, 1000 + CLOSE_WAIT + 1);
    expect(activate(r, 'g1')).toMatchObject({ found: false });
  });

  it('names the setting in the worker limit message', () => {
    const r = new WorkerRegistry({ ...limits, maxWorkers: 1 });
    activate(r, 'g0');
    expect(() => r.activate({ ...other, guardId: 'g', connected: false })).toThrow(
      'worker limit reached: 1 workers held (SIDECAR_MAX_WORKERS=1)',
    );
  });

  it('names the participant, room and setting in the track limit message', () => {
    const r = new WorkerRegistry({ ...limits, maxTracksPerWorker: 1 });
    activate(r, 'g0');
    expect(() => r.record([stat('T1'), stat('T2')])).toThrow(
      'track limit reached for participant PA_1 in room RM_1: more than 1 tracks pending (SIDECAR_MAX_TRACKS_PER_WORKER)',
    );
  });
});

describe('WorkerRegistry guard limit', () => {
  const guardLimits: RegistryLimits = { ...limits, maxGuardsPerWorker: 3 };
  const refusal = expect.objectContaining({ code: 'RESOURCE_EXHAUSTED', reason: 'guard_limit' });

  it('refuses a new guard id beyond the limit with RESOURCE_EXHAUSTED and changes nothing', () => {
    const r = new WorkerRegistry(guardLimits);
    for (const g of ['g0', 'g1', 'g2']) activate(r, g);
    expect(() => activate(r, 'g3', true)).toThrow(refusal);
    expect(() => activate(r, 'g3')).toThrow(
      'guard limit reached for participant PA_1 in room RM_1: 3 guard ids held or recently released (SIDECAR_MAX_GUARDS_PER_WORKER=3)',
    );
    expect(r.counts()).toEqual({ active: 1, closing: 0, connected: 0, guards: 3 });
    expect(r.list()[0]?.refCount).toBe(3);
  });

  it('still answers a retried activate of a held guard at the limit', () => {
    const r = new WorkerRegistry(guardLimits);
    for (const g of ['g0', 'g1', 'g2']) activate(r, g);
    expect(activate(r, 'g1', true)).toMatchObject({ found: true, refCount: 3, counted: false, connected: true });
    expect(activate(r, '')).toMatchObject({ found: true, refCount: 3 });
  });

  it('remembers a released guard: its retried activate is a no-op and it counts against the limit', () => {
    const r = new WorkerRegistry(guardLimits);
    for (const g of ['g0', 'g1', 'g2']) activate(r, g);
    release(r, 'g0', 1000);
    expect(activate(r, 'g0')).toMatchObject({ found: true, refCount: 2, counted: false });
    expect(r.counts().guards).toBe(2);
    expect(() => activate(r, 'g3')).toThrow(refusal);
  });

  it('forgets released guards at the first flush more than close_wait after their release', () => {
    const r = new WorkerRegistry(guardLimits);
    for (const g of ['g0', 'g1', 'g2']) activate(r, g);
    release(r, 'g0', 1000);
    release(r, 'g1', 2000);
    flushAll(r, 1000 + CLOSE_WAIT);
    expect(r.lookup(who.roomId, who.participantId)?.guardIds).toBe(3);
    flushAll(r, 1000 + CLOSE_WAIT + 1);
    expect(r.lookup(who.roomId, who.participantId)?.guardIds).toBe(2);
    expect(activate(r, 'g3')).toMatchObject({ counted: true, refCount: 2 });
    expect(() => activate(r, 'g4')).toThrow(refusal);
    flushAll(r, 2000 + CLOSE_WAIT + 1);
    expect(activate(r, 'g4')).toMatchObject({ counted: true, refCount: 3 });
  });

  it('forgets every remembered guard when the worker closes', () => {
    const r = new WorkerRegistry(guardLimits);
    activate(r, 'g0');
    activate(r, 'g1');
    release(r, 'g0', 1000);
    const worker = r.lookup(who.roomId, who.participantId)!;
    expect(worker.guardIds).toBe(2);
    expect(release(r, 'g1', 1000)).toMatchObject({ closed: true });
    expect(worker.guardIds).toBe(0);
    expect(release(r, 'g0', 1001)).toMatchObject({ found: true, released: false, closed: false });
  });

  it('holds at most the limit however many distinct guard ids one participant sends', () => {
    const r = new WorkerRegistry(limits);
    const sent = 20_000;
    let refused = 0;
    for (let i = 0; i < sent; i++) {
      try {
        activate(r, `guard-${i}`);
      } catch {
        refused++;
      }
    }
    expect(refused).toBe(sent - DEFAULT_MAX_GUARDS_PER_WORKER);
    expect(r.lookup(who.roomId, who.participantId)?.guardIds).toBe(DEFAULT_MAX_GUARDS_PER_WORKER);
    expect(r.counts().guards).toBe(DEFAULT_MAX_GUARDS_PER_WORKER);
  });

  it('bounds each worker on its own', () => {
    const r = new WorkerRegistry({ ...limits, maxGuardsPerWorker: 1 });
    activate(r, 'g0');
    expect(r.activate({ ...who, participantId: 'PA_2', guardId: 'g1', connected: false })).toMatchObject({
      counted: true,
    });
    expect(() => activate(r, 'g1')).toThrow(refusal);
  });
});

describe('WorkerRegistry outcomes in detail', () => {
  it('reports no replaced worker when none was closed there', () => {
    const r = new WorkerRegistry(limits);
    expect('replaced' in activate(r, 'g0')).toBe(false);
  });

  it('leaves the guard gauge alone when an unknown or released guard is released', () => {
    const r = new WorkerRegistry(limits);
    activate(r, 'g0');
    activate(r, 'g1');
    release(r, 'stranger');
    release(r, 'g0');
    release(r, 'g0');
    expect(r.counts()).toEqual({ active: 1, closing: 0, connected: 0, guards: 1 });
  });

  it('keeps the connected gauge when an unconnected worker closes', () => {
    const r = new WorkerRegistry(limits);
    r.activate({ ...who, participantId: 'PA_2', guardId: 'g', connected: true });
    activate(r, 'g0');
    release(r, 'g0');
    expect(r.counts()).toEqual({ active: 1, closing: 1, connected: 1, guards: 1 });
  });

  it('counts the workers a run reaped', () => {
    const r = new WorkerRegistry(limits);
    activate(r, 'g0');
    r.activate({ ...who, participantId: 'PA_2', guardId: 'g', connected: false });
    release(r, 'g0', 0);
    r.release({ ...who, participantId: 'PA_2', guardId: 'g' }, 0);
    const { run } = flushAll(r, CLOSE_WAIT + 1);
    expect([run.workersFlushed, run.workersReaped, run.statsEmitted]).toEqual([2, 2, 0]);
  });

  /** A worker closed at 5000 and replaced by one closed at 1000 (the clock stepped back): the replacement is reaped first. */
  function replacedBackInTime(r: WorkerRegistry) {
    activate(r, 'g0');
    release(r, 'g0', 5000);
    const replacement = activate(r, 'g1').worker;
    release(r, 'g1', 1000);
    return replacement;
  }

  it('reaps a replaced worker whose room already went with its replacement', () => {
    const r = new WorkerRegistry(limits);
    const replacement = replacedBackInTime(r);
    expect(flushAll(r, 1000 + CLOSE_WAIT + 1).reaped).toEqual([replacement]);
    expect(r.roomsHeld).toBe(0);
    expect(flushAll(r, 5000 + CLOSE_WAIT + 1).reaped).toHaveLength(1);
    expect(r.list()).toEqual([]);
  });

  it('reaps a replaced worker without touching its replacement, even when the clock stepped back', () => {
    const r = new WorkerRegistry(limits);
    const replacement = replacedBackInTime(r);
    expect(flushAll(r, 1000 + CLOSE_WAIT + 1).reaped).toEqual([replacement]);
    expect(r.lookup(who.roomId, who.participantId)).toBeUndefined();
    const third = activate(r, 'g2').worker;
    expect(flushAll(r, 5000 + CLOSE_WAIT + 1).reaped).toHaveLength(1);
    expect(r.lookup(who.roomId, who.participantId)).toBe(third);
  });

  it('keeps workers apart whose room and participant ids only concatenate alike', () => {
    const r = new WorkerRegistry(limits);
    r.activate({ ...who, roomId: 'ab', participantId: 'c', guardId: 'g', connected: false });
    expect(r.activate({ ...who, roomId: 'a', participantId: 'bc', guardId: 'g', connected: false })).toMatchObject({
      found: false,
    });
    expect(r.list()).toHaveLength(2);
  });
});
