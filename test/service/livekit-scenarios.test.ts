/**
 * LiveKit's own telemetry scenarios, replayed black-box over gRPC: each test
 * is a port of one in livekit/livekit `pkg/telemetry` (named in the test),
 * with LiveKit's calls mapped to the sidecar's RPCs:
 *
 *   ParticipantJoined  → Activate (the worker's guard)
 *   ParticipantLeft    → Release of that guard
 *   TrackStats         → a Session `stats` request
 *   FlushStats         → Flush{wait_delivered}; "SendStats called" ⇔ the flush emitted stats,
 *                        and its arguments are the stats delivered by that flush
 *
 * LiveKit's fixtures mostly use an empty Room; the sidecar's room_id must be
 * 1–256 bytes, so those use a fixed room id instead.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { StreamType } from '../../src/core/analytics.js';
import { unary } from '../helpers/rpc.js';
import { SessionClient } from '../../src/client/session-client.js';
import { startTestSidecar, type TestSidecar } from '../helpers/sidecar.js';
import { stream } from '../helpers/stats.js';
import type { AnalyticsStream } from '../../src/core/analytics.js';

let t: TestSidecar | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const { UPSTREAM, DOWNSTREAM } = StreamType;
const ROOM = 'RM_test';

/** One delivered stat, as the NDJSON sink writes it (protobuf JSON: defaults left out, uint64 as strings). */
interface SentStat {
  kind: 'UPSTREAM' | 'DOWNSTREAM';
  roomId: string;
  roomName: string;
  participantId: string;
  trackId: string;
  /** The stream's counters as numbers (0 where the JSON leaves a default out). */
  streams: Record<string, number>[];
}

const COUNTERS = Object.entries(stream())
  .filter(([, v]) => typeof v === 'number')
  .map(([k]) => k);
const counters = (s: Record<string, unknown>) => Object.fromEntries(COUNTERS.map((k) => [k, Number(s[k] ?? 0)]));

/** LiveKit's telemetryServiceFixture, over gRPC: a sidecar and one SFU Session. */
async function createFixture() {
  t = await startTestSidecar();
  const sidecar = t;
  const session = new SessionClient(sidecar.client);
  let deliveredSoFar = 0;
  /** Stats of every flush that sent any (LiveKit's SendStats calls). */
  const sendStatsCalls: SentStat[][] = [];
  return {
    sendStatsCalls,
    async participantJoined(room: { sid: string; name?: string }, participantId: string): Promise<void> {
      const r = await session.send({
        activate: { roomId: room.sid, roomName: room.name ?? '', participantId, guardId: 'joined' },
      });
      expect(r.activate).toMatchObject({ found: false, refCount: 1 });
    },
    async participantLeft(room: { sid: string }, participantId: string): Promise<void> {
      const r = await session.send({ release: { roomId: room.sid, participantId, guardId: 'joined' } });
      expect(r.release).toMatchObject({ closed: true });
    },
    async trackStats(
      kind: StreamType,
      participantId: string,
      trackId: string,
      streams: Partial<AnalyticsStream>[],
      roomId = ROOM,
    ): Promise<void> {
      const stat = { score: 0, mime: '', streams: streams.map((s) => stream(s)) };
      const r = await session.send({ stats: { stats: [{ roomId, participantId, trackId, kind, stat }] } });
      expect(r.stats).toEqual({ accepted: 1, invalid: 0, noWorker: 0 });
    },
    async flushStats(): Promise<void> {
      const r = await session.send({ flush: { waitDelivered: true } });
      expect(r.flush?.delivered).toBe(true);
      const lines = sidecar.delivered().slice(deliveredSoFar);
      deliveredSoFar += lines.length;
      expect(lines).toHaveLength(r.flush!.statsEmitted);
      if (lines.length > 0) {
        sendStatsCalls.push(
          lines.map((l) => ({
            kind: (l.kind as SentStat['kind'] | undefined) ?? 'UPSTREAM',
            roomId: String(l.roomId ?? ''),
            roomName: String(l.roomName ?? ''),
            participantId: String(l.participantId ?? ''),
            trackId: String(l.trackId ?? ''),
            streams: ((l.streams ?? []) as Record<string, unknown>[]).map(counters),
          })),
        );
      }
    },
  };
}

describe('LiveKit pkg/telemetry scenarios over gRPC', () => {
  it('Test_ParticipantAndRoomDataAreSentWithAnalytics: a participant-level stat with an empty track id', async () => {
    const fixture = await createFixture();
    const room = { sid: 'RoomSid', name: 'RoomName' };
    await fixture.participantJoined(room, 'part1');
    await fixture.trackStats(DOWNSTREAM, 'part1', '', [{ primaryBytes: 33 }], room.sid);
    await fixture.flushStats();

    expect(fixture.sendStatsCalls).toHaveLength(1);
    const stats = fixture.sendStatsCalls[0]!;
    expect(stats).toHaveLength(1);
    expect(stats[0]).toMatchObject({
      kind: 'DOWNSTREAM',
      participantId: 'part1',
      roomId: 'RoomSid',
      roomName: 'RoomName',
      trackId: '',
    });
  });

  it('an empty track id is its own aggregate per direction (beside the tracks with ids)', async () => {
    const fixture = await createFixture();
    await fixture.participantJoined({ sid: ROOM }, 'part1');
    await fixture.trackStats(DOWNSTREAM, 'part1', '', [{ primaryBytes: 33 }]);
    await fixture.trackStats(DOWNSTREAM, 'part1', '', [{ primaryBytes: 10 }]);
    await fixture.trackStats(UPSTREAM, 'part1', '', [{ primaryBytes: 5 }]);
    await fixture.trackStats(DOWNSTREAM, 'part1', 'TR_1', [{ primaryBytes: 7 }]);
    await fixture.flushStats();
    const sent = fixture.sendStatsCalls[0]!.map((s) => [s.kind, s.trackId, s.streams[0]!.primaryBytes]);
    expect(sent).toEqual([
      ['UPSTREAM', '', 5],
      ['DOWNSTREAM', '', 43],
      ['DOWNSTREAM', 'TR_1', 7],
    ]);
  });

  it('Test_OnDownstreamPackets', async () => {
    const fixture = await createFixture();
    await fixture.participantJoined({ sid: ROOM }, 'part1');
    const packets = [33, 23];
    for (const bytes of packets) {
      await fixture.trackStats(DOWNSTREAM, 'part1', 'trackID', [{ primaryBytes: bytes, primaryPackets: 1 }]);
    }
    await fixture.flushStats();

    expect(fixture.sendStatsCalls).toHaveLength(1);
    const stats = fixture.sendStatsCalls[0]!;
    expect(stats).toHaveLength(1);
    expect(stats[0]!.kind).toBe('DOWNSTREAM');
    expect(stats[0]!.streams[0]!.primaryBytes).toBe(33 + 23);
    expect(stats[0]!.streams[0]!.primaryPackets).toBe(packets.length);
    expect(stats[0]!.trackId).toBe('trackID');
  });

  it('Test_OnDownstreamPackets_SeveralTracks', async () => {
    const fixture = await createFixture();
    await fixture.participantJoined({ sid: ROOM }, 'part1');
    await fixture.trackStats(DOWNSTREAM, 'part1', 'trackID1', [{ primaryBytes: 33, primaryPackets: 1 }]);
    await fixture.trackStats(DOWNSTREAM, 'part1', 'trackID2', [{ primaryBytes: 23, primaryPackets: 1 }]);
    await fixture.flushStats();

    expect(fixture.sendStatsCalls).toHaveLength(1);
    const stats = fixture.sendStatsCalls[0]!;
    expect(stats).toHaveLength(2);
    const byTrack = new Map(stats.map((s) => [s.trackId, s.streams[0]!]));
    expect(byTrack.get('trackID1')).toMatchObject({ primaryBytes: 33, primaryPackets: 1 });
    expect(byTrack.get('trackID2')).toMatchObject({ primaryBytes: 23, primaryPackets: 1 });
  });

  it('Test_OnDownStreamStat: counters summed, RTT and jitter the max', async () => {
    const fixture = await createFixture();
    await fixture.participantJoined({ sid: ROOM }, 'part1');
    await fixture.trackStats(DOWNSTREAM, 'part1', 'trackID1', [
      { primaryBytes: 1, primaryPackets: 1, packetsLost: 3, nacks: 1, plis: 1, rtt: 23, jitter: 3 },
    ]);
    await fixture.trackStats(DOWNSTREAM, 'part1', 'trackID1', [
      { primaryBytes: 2, primaryPackets: 2, packetsLost: 4, nacks: 1, plis: 1, firs: 1, rtt: 10, jitter: 5 },
    ]);
    await fixture.flushStats();

    expect(fixture.sendStatsCalls).toHaveLength(1);
    const stats = fixture.sendStatsCalls[0]!;
    expect(stats).toHaveLength(1);
    expect(stats[0]!.kind).toBe('DOWNSTREAM');
    const s = stats[0]!.streams[0]!;
    expect([s.nacks, s.plis, s.firs]).toEqual([2, 2, 1]);
    expect(s.rtt).toBe(23); // max of RTT
    expect(s.jitter).toBe(5); // max of jitter
    expect(s.packetsLost).toBe(7); // coalesced delta packet losses
    expect(stats[0]!.trackId).toBe('trackID1');
  });

  it('Test_PacketLostDiffShouldBeSentToTelemetry: each flush sends its own losses', async () => {
    const fixture = await createFixture();
    await fixture.participantJoined({ sid: ROOM }, 'part1');
    await fixture.trackStats(DOWNSTREAM, 'part1', 'trackID1', [{ primaryBytes: 1, primaryPackets: 1, packetsLost: 1 }]);
    await fixture.flushStats();
    await fixture.trackStats(DOWNSTREAM, 'part1', 'trackID1', [{ primaryBytes: 2, primaryPackets: 2, packetsLost: 4 }]);
    await fixture.flushStats();

    expect(fixture.sendStatsCalls).toHaveLength(2);
    const [first, second] = fixture.sendStatsCalls;
    expect(first).toHaveLength(1);
    expect(first![0]!.kind).toBe('DOWNSTREAM');
    expect(first![0]!.streams[0]!.packetsLost).toBe(1);
    expect(second).toHaveLength(1);
    expect(second![0]!.kind).toBe('DOWNSTREAM');
    expect(second![0]!.streams[0]!.packetsLost).toBe(4); // delta loss should be sent as is
  });

  it('Test_OnDownStreamRTCP_SeveralTracks', async () => {
    const fixture = await createFixture();
    await fixture.participantJoined({ sid: ROOM }, 'part1');
    await fixture.trackStats(DOWNSTREAM, 'part1', 'trackID1', [{ primaryBytes: 1, primaryPackets: 1 }]);
    await fixture.trackStats(DOWNSTREAM, 'part1', 'trackID1', [{ primaryBytes: 2, primaryPackets: 2, nacks: 1 }]);
    await fixture.trackStats(DOWNSTREAM, 'part1', 'trackID2', [{ primaryBytes: 3, primaryPackets: 3, firs: 1 }]);
    await fixture.flushStats();

    expect(fixture.sendStatsCalls).toHaveLength(1);
    const stats = fixture.sendStatsCalls[0]!;
    expect(stats).toHaveLength(2);
    const byTrack = new Map(stats.map((s) => [s.trackId, s]));
    expect(byTrack.get('trackID1')!.kind).toBe('DOWNSTREAM');
    expect(byTrack.get('trackID1')!.streams[0]!.nacks).toBe(1);
    expect(byTrack.get('trackID2')!.kind).toBe('DOWNSTREAM');
    expect(byTrack.get('trackID2')!.streams[0]!.firs).toBe(1);
  });

  it('Test_OnUpstreamStat', async () => {
    const fixture = await createFixture();
    await fixture.participantJoined({ sid: ROOM }, 'part1');
    await fixture.trackStats(UPSTREAM, 'part1', 'trackID', [
      { primaryBytes: 1, primaryPackets: 1, packetsLost: 3, nacks: 1, plis: 1, firs: 1, rtt: 13, jitter: 5 },
    ]);
    await fixture.trackStats(UPSTREAM, 'part1', 'trackID', [
      { primaryBytes: 2, primaryPackets: 2, packetsLost: 4, nacks: 1, plis: 1, firs: 1, rtt: 33, jitter: 2 },
    ]);
    await fixture.flushStats();

    expect(fixture.sendStatsCalls).toHaveLength(1);
    const stats = fixture.sendStatsCalls[0]!;
    expect(stats).toHaveLength(1);
    expect(stats[0]!.kind).toBe('UPSTREAM');
    const s = stats[0]!.streams[0]!;
    expect([s.nacks, s.plis, s.firs]).toEqual([2, 2, 2]);
    expect(s.rtt).toBe(33); // max of RTT
    expect(s.jitter).toBe(5); // max of jitter
    expect(s.packetsLost).toBe(7); // coalesced delta packet losses
    expect(stats[0]!.trackId).toBe('trackID');
  });

  it('Test_OnUpstreamRTCP_SeveralTracks: nothing more is sent once the tracks were flushed', async () => {
    const fixture = await createFixture();
    await fixture.participantJoined({ sid: ROOM }, 'part1');
    await fixture.trackStats(UPSTREAM, 'part1', 'trackID1', [{ primaryBytes: 1, primaryPackets: 1 }]);
    await fixture.trackStats(UPSTREAM, 'part1', 'trackID2', [{ primaryBytes: 1, primaryPackets: 1 }]);
    await fixture.trackStats(UPSTREAM, 'part1', 'trackID1', [{ primaryBytes: 2, primaryPackets: 2, nacks: 1 }]);
    await fixture.trackStats(UPSTREAM, 'part1', 'trackID2', [{ primaryBytes: 2, primaryPackets: 2, firs: 1 }]);
    await fixture.flushStats();

    expect(fixture.sendStatsCalls).toHaveLength(1);
    const stats = fixture.sendStatsCalls[0]!;
    expect(stats).toHaveLength(2);
    const byTrack = new Map(stats.map((s) => [s.trackId, s]));
    expect(byTrack.get('trackID1')!.kind).toBe('UPSTREAM');
    expect(byTrack.get('trackID1')!.streams[0]!.nacks).toBe(1);
    expect(byTrack.get('trackID2')!.kind).toBe('UPSTREAM');
    expect(byTrack.get('trackID2')!.streams[0]!.firs).toBe(1);
    for (const s of stats) expect(s.streams[0]).toMatchObject({ primaryBytes: 3, primaryPackets: 3 });

    // LiveKit unpublishes trackID2 here; its stats were flushed above, so no more SendStats
    await fixture.flushStats();
    expect(fixture.sendStatsCalls).toHaveLength(1);
  });

  it('Test_AnalyticsSentWhenParticipantLeaves: nothing is sent for a participant without track stats', async () => {
    const fixture = await createFixture();
    await fixture.participantJoined({ sid: ROOM }, 'part1');
    await fixture.participantLeft({ sid: ROOM }, 'part1');
    await fixture.flushStats();
    expect(fixture.sendStatsCalls).toHaveLength(0);
  });

  it('Test_AddUpTrack', async () => {
    const fixture = await createFixture();
    await fixture.participantJoined({ sid: ROOM }, 'part1');
    await fixture.trackStats(UPSTREAM, 'part1', 'trackID', [{ primaryBytes: 3, primaryPackets: 3 }]);
    await fixture.flushStats();

    expect(fixture.sendStatsCalls).toHaveLength(1);
    const stats = fixture.sendStatsCalls[0]!;
    expect(stats).toHaveLength(1);
    expect(stats[0]!.kind).toBe('UPSTREAM');
    expect(stats[0]!.streams[0]).toMatchObject({ primaryBytes: 3, primaryPackets: 3 });
    expect(stats[0]!.trackId).toBe('trackID');
  });

  it('Test_AddUpTrack_SeveralBuffers_Simulcast: the streams of one stat are consolidated into one', async () => {
    const fixture = await createFixture();
    await fixture.participantJoined({ sid: ROOM }, 'part1');
    await fixture.trackStats(UPSTREAM, 'part1', 'trackID', [
      { primaryBytes: 1, primaryPackets: 1 },
      { primaryBytes: 2, primaryPackets: 2 },
    ]);
    await fixture.flushStats();

    expect(fixture.sendStatsCalls).toHaveLength(1);
    const stats = fixture.sendStatsCalls[0]!;
    expect(stats).toHaveLength(1);
    expect(stats[0]!.kind).toBe('UPSTREAM');
    expect(stats[0]!.streams).toHaveLength(1);
    expect(stats[0]!.streams[0]).toMatchObject({ primaryBytes: 1 + 2, primaryPackets: 1 + 2 });
    expect(stats[0]!.trackId).toBe('trackID');
  });

  it('Test_BothDownstreamAndUpstreamStatsAreSentTogether: upstream first', async () => {
    const fixture = await createFixture();
    await fixture.participantJoined({ sid: ROOM }, 'part1');
    await fixture.trackStats(UPSTREAM, 'part1', 'trackID', [{ primaryBytes: 3, primaryPackets: 3 }]);
    await fixture.trackStats(DOWNSTREAM, 'part1', 'trackID1', [{ primaryBytes: 1, primaryPackets: 1 }]);
    await fixture.flushStats();

    expect(fixture.sendStatsCalls).toHaveLength(1);
    const stats = fixture.sendStatsCalls[0]!;
    expect(stats.map((s) => s.kind)).toEqual(['UPSTREAM', 'DOWNSTREAM']);
  });

  it('TestStatsWorker "reference counted close works" (statsworker_test.go), with guards over gRPC', async () => {
    t = await startTestSidecar();
    const c = t.client;
    const who = { roomId: ROOM, participantId: 'part1' };
    // newStatsWorker(..., &g0)
    expect(await unary(c, c.Activate, { ...who, guardId: 'g0' })).toMatchObject({ found: false, refCount: 1 });
    // require.False(w.Closed(&g1)): an open worker takes g1
    expect(await unary(c, c.Activate, { ...who, guardId: 'g1' })).toMatchObject({ found: true, refCount: 2 });
    // require.False(w.Close(&g0))
    expect(await unary(c, c.Release, { ...who, guardId: 'g0' })).toMatchObject({ closed: false, refCount: 1 });
    // require.False(w.Closed(&g1)): g1 is already counted
    expect(await unary(c, c.Activate, { ...who, guardId: 'g1' })).toMatchObject({ found: true, refCount: 1 });
    // require.True(w.Close(&g1))
    expect(await unary(c, c.Release, { ...who, guardId: 'g1' })).toMatchObject({ closed: true, refCount: 0 });
    // require.True(w.Closed(&g1)): the worker is closed, so the next activation makes a new one
    expect(await unary(c, c.Activate, { ...who, guardId: 'g1' })).toMatchObject({ found: false, refCount: 1 });
  });
});
