import { status } from '@grpc/grpc-js';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { StreamType, type AnalyticsStat } from '../../src/core/analytics.js';
import { type Batch, type Sink } from '../../src/upstream/sink.js';
import { copyInto } from '../helpers/encode.js';
import { unary } from '../helpers/rpc.js';
import { SessionClient } from '../../src/client/session-client.js';
import { startTestSidecar, type TestSidecar } from '../helpers/sidecar.js';
import { sample, stream } from '../helpers/stats.js';
import { httpGet, scrape } from '../helpers/scrape.js';

let t: TestSidecar | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const stat = (participantId: string, kind: StreamType, fields = {}) => ({
  roomId: 'R',
  participantId,
  trackId: 'T',
  kind,
  country: 'de',
  stat: sample({ streams: [stream({ primaryPackets: 10, primaryBytes: 1000, nacks: 2, rtt: 40, ...fields })] }),
});

describe('metrics of a running sidecar', () => {
  it('stay exactly in step through activate, stats, release, flush, reap and lease expiry', async () => {
    let clock = 1_700_000_000_000;
    t = await startTestSidecar({ SIDECAR_CLOSE_WAIT: '1s', SIDECAR_LEASE_GRACE: '20ms' }, { now: () => clock });
    const c = t.client;
    const port = t.sidecar.httpPort;
    await unary(c, c.Activate, { roomId: 'R', participantId: 'P1', guardId: 'g0', connected: true });
    await unary(c, c.Activate, { roomId: 'R', participantId: 'P1', guardId: 'g1' });
    await unary(c, c.Activate, { roomId: 'R', participantId: 'P1', guardId: 'g1' });
    await unary(c, c.Activate, { roomId: 'R', participantId: 'P2', guardId: 'g' });
    await unary(c, c.TrackStats, {
      stats: [
        stat('P1', StreamType.UPSTREAM),
        stat('P1', StreamType.DOWNSTREAM, { nacks: 2 ** 31 }),
        stat('ghost', StreamType.UPSTREAM),
      ],
    });

    let m = await scrape(port);
    expect(m.value('telemetry_sidecar_workers', { state: 'active' })).toBe(2);
    expect(m.value('telemetry_sidecar_workers', { state: 'closing' })).toBe(0);
    expect(m.value('telemetry_sidecar_workers_connected')).toBe(1);
    expect(m.value('telemetry_sidecar_guards_active')).toBe(3);
    expect(m.value('telemetry_sidecar_guard_ops_total', { op: 'activate', result: 'created' })).toBe(2);
    expect(m.value('telemetry_sidecar_guard_ops_total', { op: 'activate', result: 'reused' })).toBe(1);
    expect(m.value('telemetry_sidecar_guard_ops_total', { op: 'activate', result: 'noop' })).toBe(1);
    expect(m.value('telemetry_sidecar_track_stats_total', { result: 'accepted' })).toBe(1);
    expect(m.value('telemetry_sidecar_track_stats_total', { result: 'invalid' })).toBe(1);
    expect(m.value('telemetry_sidecar_track_stats_total', { result: 'no_worker' })).toBe(1);
    // traffic counters see the valid stats (the no_worker one too, as LiveKit's do), never the invalid one
    expect(m.value('telemetry_sidecar_nacks_total', { direction: 'incoming', country: 'DE' })).toBe(4);
    expect(m.value('telemetry_sidecar_nacks_total', { direction: 'outgoing', country: 'DE' })).toBeUndefined();

    await unary(c, c.Release, { roomId: 'R', participantId: 'P1', guardId: 'g0' });
    await unary(c, c.Release, { roomId: 'R', participantId: 'P1', guardId: 'g1' });
    await unary(c, c.Release, { roomId: 'R', participantId: 'P1', guardId: 'g1' });
    m = await scrape(port);
    expect(m.value('telemetry_sidecar_workers', { state: 'active' })).toBe(1);
    expect(m.value('telemetry_sidecar_workers', { state: 'closing' })).toBe(1);
    expect(m.value('telemetry_sidecar_workers_connected')).toBe(0);
    expect(m.value('telemetry_sidecar_guards_active')).toBe(1);
    expect(m.value('telemetry_sidecar_guard_ops_total', { op: 'release', result: 'released' })).toBe(1);
    expect(m.value('telemetry_sidecar_guard_ops_total', { op: 'release', result: 'closed' })).toBe(1);
    expect(m.value('telemetry_sidecar_guard_ops_total', { op: 'release', result: 'noop' })).toBe(1);

    expect(await unary(c, c.Flush, { waitDelivered: true })).toMatchObject({
      statsEmitted: 2,
      workersReaped: 0,
      delivered: true,
    });
    clock += 1001;
    expect(await unary(c, c.Flush, { waitDelivered: true })).toMatchObject({ statsEmitted: 0, workersReaped: 1 });
    m = await scrape(port);
    expect(m.value('telemetry_sidecar_stats_emitted_total')).toBe(2);
    expect(m.value('telemetry_sidecar_upstream_stats_total', { result: 'delivered' })).toBe(2);
    expect(m.value('telemetry_sidecar_upstream_queue_stats')).toBe(0);
    expect(m.value('telemetry_sidecar_workers_reaped_total')).toBe(1);
    expect(m.value('telemetry_sidecar_workers', { state: 'closing' })).toBe(0);
    expect(m.histogram('telemetry_sidecar_flush_duration_seconds').count).toBe(2);

    const s = new SessionClient(c);
    await s.send({ hello: { clientId: 'sfu' } });
    await s.send({ activate: { roomId: 'R', participantId: 'P3', guardId: 'x' } });
    expect((await scrape(port)).value('telemetry_sidecar_sessions')).toBe(1);
    s.cancel();
    await expect(s.ended).rejects.toMatchObject({ code: status.CANCELLED });
    await vi.waitFor(async () => expect((await scrape(port)).value('telemetry_sidecar_leases_expired_total')).toBe(1));
    m = await scrape(port);
    expect(m.value('telemetry_sidecar_sessions')).toBe(0);
    expect(m.value('telemetry_sidecar_workers', { state: 'active' })).toBe(1);
    expect(m.value('telemetry_sidecar_workers', { state: 'closing' })).toBe(1);
    expect(m.value('telemetry_sidecar_guards_active')).toBe(1);
  });

  it('counts refused stats by reason', async () => {
    t = await startTestSidecar({ SIDECAR_MAX_TRACKS_PER_WORKER: '1' });
    const c = t.client;
    await unary(c, c.Activate, { roomId: 'R', participantId: 'P1', guardId: 'g' });
    await expect(unary(c, c.TrackStats, { stats: [stat('P1', 0), stat('P1', 1)] })).rejects.toMatchObject({
      code: status.RESOURCE_EXHAUSTED,
    });
    expect(
      (await scrape(t.sidecar.httpPort)).value('telemetry_sidecar_stats_dropped_total', { reason: 'track_limit' }),
    ).toBe(2);
  });
});

/** A sink that holds every send until the test lets go. */
class HeldSink implements Sink {
  readonly description = 'held';
  readonly format = 'test';
  readonly maxBatchBytes = 1e6;
  private release!: () => void;
  readonly released = new Promise<void>((resolve) => (this.release = resolve));
  sends = 0;
  encodeInto(s: AnalyticsStat, into: Buffer, at: number): number {
    return copyInto(Buffer.from(s.trackId), into, at);
  }
  async send(_batch: Batch): Promise<void> {
    this.sends++;
    await this.released;
  }
  async close(): Promise<void> {}
  letGo(): void {
    this.release();
  }
}

describe('health endpoints during shutdown', () => {
  it('fail /readyz at once while /healthz stays up until the final delivery is done', async () => {
    const sink = new HeldSink();
    t = await startTestSidecar({ SIDECAR_SHUTDOWN_TIMEOUT: '10s' }, { sink });
    const c = t.client;
    const port = t.sidecar.httpPort;
    expect((await httpGet(port, '/readyz')).status).toBe(200);
    await unary(c, c.Activate, { roomId: 'R', participantId: 'P1', guardId: 'g' });
    await unary(c, c.TrackStats, { stats: [stat('P1', 0)] });
    const stopped = t.sidecar.shutdown();
    expect((await httpGet(port, '/readyz')).status).toBe(503);
    expect((await httpGet(port, '/healthz')).status).toBe(200);
    await vi.waitFor(() => expect(sink.sends).toBe(1));
    sink.letGo();
    expect(await stopped).toEqual({ statsEmitted: 1, delivered: true, undeliveredStats: 0, spooled: false });
  });
});
