import { status } from '@grpc/grpc-js';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { StreamType, type AnalyticsStream } from '../../src/core/analytics.js';
import { WorkerRegistry, type TrackStatInput } from '../../src/core/registry.js';
import { startHttpServer, type HttpServer } from '../../src/observe/http.js';
import { normaliseCountry, prefersOpenMetrics, SidecarMetrics } from '../../src/observe/metrics.js';
import { SessionClient } from '../../src/client/session-client.js';
import { startTestSidecar, type TestSidecar } from '../helpers/sidecar.js';
import { sample, stream } from '../helpers/stats.js';
import { httpGet, Scrape, scrape } from '../helpers/scrape.js';

/** What Prometheus 2.x/3.x sends. */
const PROMETHEUS_ACCEPT =
  'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

let metrics: SidecarMetrics;
let server: HttpServer;

async function serve(m: SidecarMetrics): Promise<void> {
  metrics = m;
  server = await startHttpServer({
    host: '127.0.0.1',
    port: 0,
    metrics: m,
    isReady: () => true,
    eventLoopDelayMs: () => 0,
  });
}

beforeEach(async () => serve(new SidecarMetrics({ defaultMetrics: false })));
afterEach(async () => server.close());

const who = (participantId: string) => ({
  roomId: 'RM_1',
  roomName: 'standup',
  participantId,
  participantIdentity: participantId,
});

function trackStat(participantId: string, kind: StreamType, streams: AnalyticsStream[]): TrackStatInput {
  return { roomId: 'RM_1', participantId, trackId: 'TR_1', kind, stat: sample({ streams }) };
}

describe('the metrics of docs/metrics.md', () => {
  it('exposes every metric with its exact name and type', async () => {
    const s = await scrape(server.port);
    expect(Object.fromEntries([...s.types].filter(([name]) => name.startsWith('telemetry_sidecar_')))).toEqual({
      telemetry_sidecar_workers: 'GAUGE',
      telemetry_sidecar_workers_connected: 'GAUGE',
      telemetry_sidecar_guards_active: 'GAUGE',
      telemetry_sidecar_guard_ops_total: 'COUNTER',
      telemetry_sidecar_sessions: 'GAUGE',
      telemetry_sidecar_track_stats_total: 'COUNTER',
      telemetry_sidecar_flush_duration_seconds: 'HISTOGRAM',
      telemetry_sidecar_stats_emitted_total: 'COUNTER',
      telemetry_sidecar_upstream_stats_total: 'COUNTER',
      telemetry_sidecar_upstream_queue_stats: 'GAUGE',
      telemetry_sidecar_memory_shedding: 'GAUGE',
      telemetry_sidecar_memory_refused_ratio: 'GAUGE',
      telemetry_sidecar_memory_held_bytes: 'GAUGE',
      telemetry_sidecar_memory_limit_bytes: 'GAUGE',
      telemetry_sidecar_stats_dropped_total: 'COUNTER',
      telemetry_sidecar_workers_reaped_total: 'COUNTER',
      telemetry_sidecar_leases_expired_total: 'COUNTER',
      telemetry_sidecar_log_lines_dropped_total: 'COUNTER',
      telemetry_sidecar_upstream_up: 'GAUGE',
      telemetry_sidecar_spool_write_errors_total: 'COUNTER',
      telemetry_sidecar_spool_unreadable_records_total: 'COUNTER',
      telemetry_sidecar_packets_total: 'COUNTER',
      telemetry_sidecar_packet_bytes_total: 'COUNTER',
      telemetry_sidecar_nacks_total: 'COUNTER',
      telemetry_sidecar_plis_total: 'COUNTER',
      telemetry_sidecar_firs_total: 'COUNTER',
      telemetry_sidecar_packets_lost_total: 'COUNTER',
      telemetry_sidecar_packets_out_of_order_total: 'COUNTER',
      telemetry_sidecar_rtt_seconds: 'HISTOGRAM',
      telemetry_sidecar_jitter_seconds: 'HISTOGRAM',
    });
    for (const [name, help] of s.help) if (name.startsWith('telemetry_sidecar_')) expect(help, name).not.toBe('');
  });

  it('reports zero gauges and zeroed result series before anything happens', async () => {
    const s = await scrape(server.port);
    expect(s.value('telemetry_sidecar_workers', { state: 'active' })).toBe(0);
    expect(s.value('telemetry_sidecar_workers', { state: 'closing' })).toBe(0);
    expect(s.value('telemetry_sidecar_workers_connected')).toBe(0);
    expect(s.value('telemetry_sidecar_guards_active')).toBe(0);
    expect(s.value('telemetry_sidecar_sessions')).toBe(0);
    expect(s.value('telemetry_sidecar_upstream_queue_stats')).toBe(0);
    for (const result of ['accepted', 'invalid', 'no_worker']) {
      expect(s.value('telemetry_sidecar_track_stats_total', { result })).toBe(0);
    }
    for (const result of ['delivered', 'retried', 'dropped']) {
      expect(s.value('telemetry_sidecar_upstream_stats_total', { result })).toBe(0);
    }
    expect(s.value('telemetry_sidecar_workers_reaped_total')).toBe(0);
    expect(s.value('telemetry_sidecar_leases_expired_total')).toBe(0);
    const guardOps = s
      .series('telemetry_sidecar_guard_ops_total')
      .map((x) => `${x.labels.op}/${x.labels.result}=${x.value}`);
    expect(guardOps.sort()).toEqual(
      [
        'activate/created',
        'activate/reused',
        'activate/noop',
        'activate/error',
        'release/released',
        'release/closed',
        'release/noop',
        'release/not_found',
      ]
        .map((k) => `${k}=0`)
        .sort(),
    );
  });

  it('keeps worker, connected and guard gauges equal to the registry through activate, release, flush and reap', async () => {
    const registry = new WorkerRegistry({ closeWaitMs: 1_000, maxWorkers: 100, maxTracksPerWorker: 10 });
    metrics.bindWorkers(() => registry.counts());
    const gauges = (s: Scrape) => ({
      active: s.value('telemetry_sidecar_workers', { state: 'active' }),
      closing: s.value('telemetry_sidecar_workers', { state: 'closing' }),
      connected: s.value('telemetry_sidecar_workers_connected'),
      guards: s.value('telemetry_sidecar_guards_active'),
    });

    registry.activate({ ...who('PA_1'), guardId: 'g0', connected: true });
    registry.activate({ ...who('PA_1'), guardId: 'g1', connected: false });
    registry.activate({ ...who('PA_1'), guardId: 'g1', connected: false }); // retried: no double count
    registry.activate({ ...who('PA_2'), guardId: 'g0', connected: false });
    expect(gauges(await scrape(server.port))).toEqual({ active: 2, closing: 0, connected: 1, guards: 3 });

    registry.release({ roomId: 'RM_1', participantId: 'PA_2', guardId: 'g0' }, 10_000);
    registry.release({ roomId: 'RM_1', participantId: 'PA_1', guardId: 'g0' }, 10_000);
    expect(gauges(await scrape(server.port))).toEqual({ active: 1, closing: 1, connected: 1, guards: 1 });

    registry.release({ roomId: 'RM_1', participantId: 'PA_1', guardId: 'g1' }, 10_500);
    expect(gauges(await scrape(server.port))).toEqual({ active: 0, closing: 2, connected: 0, guards: 0 });

    // PA_2 closed 1_001 ms before the flush (reaped), PA_1 only 501 ms (kept)
    const run = registry.beginFlush(11_001);
    const step = run.step();
    metrics.observeFlush(0.002, run.statsEmitted, run.workersReaped);
    expect(step.reaped.map((w) => w.participantId)).toEqual(['PA_2']);
    const s = await scrape(server.port);
    expect(gauges(s)).toEqual({ active: 0, closing: 1, connected: 0, guards: 0 });
    expect(s.value('telemetry_sidecar_workers_reaped_total')).toBe(1);
  });

  it('counts guard operations by op and result', async () => {
    metrics.guardOp('activate', 'created');
    metrics.guardOp('activate', 'reused');
    metrics.guardOp('activate', 'created');
    metrics.guardOp('release', 'closed');
    metrics.guardOp('release', 'not_found');
    const s = await scrape(server.port);
    expect(s.series('telemetry_sidecar_guard_ops_total')).toHaveLength(8);
    expect(s.value('telemetry_sidecar_guard_ops_total', { op: 'activate', result: 'created' })).toBe(2);
    expect(s.value('telemetry_sidecar_guard_ops_total', { op: 'activate', result: 'reused' })).toBe(1);
    expect(s.value('telemetry_sidecar_guard_ops_total', { op: 'release', result: 'closed' })).toBe(1);
    expect(s.value('telemetry_sidecar_guard_ops_total', { op: 'release', result: 'not_found' })).toBe(1);
  });

  it('counts track stats with the same partition as TrackStatsResponse', async () => {
    const registry = new WorkerRegistry({ closeWaitMs: 1_000, maxWorkers: 100, maxTracksPerWorker: 10 });
    registry.activate({ ...who('PA_1'), guardId: 'g0', connected: true });
    const good = trackStat('PA_1', StreamType.UPSTREAM, [stream({ primaryPackets: 10 })]);
    const bad = trackStat('PA_1', StreamType.UPSTREAM, [stream({ primaryPackets: 2 ** 31 })]);
    const orphan = trackStat('PA_9', StreamType.UPSTREAM, [stream({ primaryPackets: 1 })]);
    const outcome = registry.record([good, good, bad, orphan, orphan, orphan]);
    metrics.trackStats(outcome);
    metrics.trackStats({ accepted: 1, invalid: 0, noWorker: 0 });
    const s = await scrape(server.port);
    expect(s.value('telemetry_sidecar_track_stats_total', { result: 'accepted' })).toBe(3);
    expect(s.value('telemetry_sidecar_track_stats_total', { result: 'invalid' })).toBe(1);
    expect(s.value('telemetry_sidecar_track_stats_total', { result: 'no_worker' })).toBe(3);
  });

  it('records flush duration, emitted stats and reaped workers', async () => {
    metrics.observeFlush(0.003, 5, 1);
    metrics.observeFlush(0.2, 0, 0);
    metrics.observeFlush(40, 7, 2);
    const s = await scrape(server.port);
    const h = s.histogram('telemetry_sidecar_flush_duration_seconds');
    expect(h.count).toBe(3);
    expect(h.sum).toBeCloseTo(40.203, 9);
    expect(h.buckets).toMatchObject({ '0.001': 0, '0.005': 1, '0.1': 1, '0.25': 2, '30': 2, '+Inf': 3 });
    expect(s.value('telemetry_sidecar_stats_emitted_total')).toBe(12);
    expect(s.value('telemetry_sidecar_workers_reaped_total')).toBe(3);
  });

  it('counts delivery outcomes, drops by reason and expired leases; reads sessions and queue at scrape', async () => {
    let sessions = 2;
    let queued = 1500;
    metrics.bindSessions(() => sessions);
    metrics.bindQueue(() => queued);
    metrics.upstreamStats('delivered', 1000);
    metrics.upstreamStats('retried', 3);
    metrics.upstreamStats('delivered', 500);
    metrics.upstreamStats('dropped', 0);
    metrics.statsDropped('queue_full', 20);
    metrics.statsDropped('memory_limit', 5);
    metrics.statsDropped('queue_full', 1);
    metrics.leaseExpired(4);
    let s = await scrape(server.port);
    expect(s.value('telemetry_sidecar_upstream_stats_total', { result: 'delivered' })).toBe(1500);
    expect(s.value('telemetry_sidecar_upstream_stats_total', { result: 'retried' })).toBe(3);
    expect(s.value('telemetry_sidecar_upstream_stats_total', { result: 'dropped' })).toBe(0);
    expect(s.value('telemetry_sidecar_stats_dropped_total', { reason: 'queue_full' })).toBe(21);
    expect(s.value('telemetry_sidecar_stats_dropped_total', { reason: 'memory_limit' })).toBe(5);
    expect(s.value('telemetry_sidecar_leases_expired_total')).toBe(4);
    expect(s.value('telemetry_sidecar_sessions')).toBe(2);
    expect(s.value('telemetry_sidecar_upstream_queue_stats')).toBe(1500);

    sessions = 0;
    queued = 0;
    s = await scrape(server.port);
    expect(s.value('telemetry_sidecar_sessions')).toBe(0);
    expect(s.value('telemetry_sidecar_upstream_queue_stats')).toBe(0);
  });
});

describe('leases_expired_total through a real Session', () => {
  let t: TestSidecar | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('counts the guards a vanished client held, not the client', async () => {
    t = await startTestSidecar({ SIDECAR_LEASE_GRACE: '0ms' });
    const s = new SessionClient(t.client);
    await s.send({ hello: { clientId: 'sfu-1' } });
    await s.send({ activate: { roomId: 'R', participantId: 'P1', guardId: 'join' } });
    await s.send({ activate: { roomId: 'R', participantId: 'P1', guardId: 'publish' } });
    await s.send({ activate: { roomId: 'R', participantId: 'P2', guardId: 'join' } });
    s.cancel();
    await expect(s.ended).rejects.toMatchObject({ code: status.CANCELLED });
    const expired = async () => (await scrape(t!.sidecar.httpPort)).value('telemetry_sidecar_leases_expired_total');
    await vi.waitFor(async () => expect(await expired()).toBeGreaterThan(0));
    expect(await expired()).toBe(3);
    expect((await scrape(t.sidecar.httpPort)).value('telemetry_sidecar_guards_active')).toBe(0);
  });
});

describe('traffic metrics', () => {
  it('counts incoming packets and bytes with retransmits folded in, as LiveKit does for upstream', async () => {
    metrics.observeTraffic(
      trackStat('PA_1', StreamType.UPSTREAM, [
        stream({
          primaryPackets: 100,
          paddingPackets: 5,
          retransmitPackets: 3,
          primaryBytes: 100_000,
          paddingBytes: 500,
          retransmitBytes: 3_000,
        }),
        stream({ primaryPackets: 10, primaryBytes: 1_000 }),
      ]),
      'DE',
    );
    const s = await scrape(server.port);
    const labels = { direction: 'incoming', country: 'DE' };
    expect(s.series('telemetry_sidecar_packets_total')).toEqual([
      { name: 'telemetry_sidecar_packets_total', labels: { ...labels, transmission: 'initial' }, value: 118 },
    ]);
    expect(s.series('telemetry_sidecar_packet_bytes_total')).toEqual([
      { name: 'telemetry_sidecar_packet_bytes_total', labels: { ...labels, transmission: 'initial' }, value: 104_500 },
    ]);
  });

  it('counts outgoing retransmits separately', async () => {
    const st = trackStat('PA_1', StreamType.DOWNSTREAM, [
      stream({
        primaryPackets: 100,
        paddingPackets: 5,
        retransmitPackets: 3,
        primaryBytes: 100_000,
        paddingBytes: 500,
        retransmitBytes: 3_000,
      }),
    ]);
    metrics.observeTraffic(st, 'FR');
    metrics.observeTraffic(st, 'FR');
    const s = await scrape(server.port);
    const labels = { direction: 'outgoing', country: 'FR' };
    expect(s.value('telemetry_sidecar_packets_total', { ...labels, transmission: 'initial' })).toBe(210);
    expect(s.value('telemetry_sidecar_packets_total', { ...labels, transmission: 'retransmit' })).toBe(6);
    expect(s.value('telemetry_sidecar_packet_bytes_total', { ...labels, transmission: 'initial' })).toBe(201_000);
    expect(s.value('telemetry_sidecar_packet_bytes_total', { ...labels, transmission: 'retransmit' })).toBe(6_000);
  });

  it('sums NACK, PLI, FIR, loss and out-of-order over streams and stats per direction', async () => {
    const streams = [
      stream({ nacks: 4, plis: 2, firs: 1, packetsLost: 7, packetsOutOfOrder: 3 }),
      stream({ nacks: 1, packetsLost: 1 }),
    ];
    metrics.observeTraffic(trackStat('PA_1', StreamType.UPSTREAM, streams), '');
    metrics.observeTraffic(trackStat('PA_1', StreamType.UPSTREAM, streams), '');
    metrics.observeTraffic(trackStat('PA_1', StreamType.DOWNSTREAM, streams), '');
    const s = await scrape(server.port);
    const incoming = { direction: 'incoming', country: '' };
    const outgoing = { direction: 'outgoing', country: '' };
    expect(s.value('telemetry_sidecar_nacks_total', incoming)).toBe(10);
    expect(s.value('telemetry_sidecar_plis_total', incoming)).toBe(4);
    expect(s.value('telemetry_sidecar_firs_total', incoming)).toBe(2);
    expect(s.value('telemetry_sidecar_packets_lost_total', incoming)).toBe(16);
    expect(s.value('telemetry_sidecar_packets_out_of_order_total', incoming)).toBe(6);
    expect(s.value('telemetry_sidecar_nacks_total', outgoing)).toBe(5);
    expect(s.value('telemetry_sidecar_packets_lost_total', outgoing)).toBe(8);
  });

  it('observes rtt (ms) and jitter (µs) per stream in seconds, skipping zeros', async () => {
    metrics.observeTraffic(
      trackStat('PA_1', StreamType.DOWNSTREAM, [
        stream({ rtt: 120, jitter: 2_000 }),
        stream({ rtt: 0, jitter: 0 }),
        stream({ rtt: 20_000, jitter: 500 }),
      ]),
      'US',
    );
    const s = await scrape(server.port);
    const labels = { direction: 'outgoing', country: 'US' };
    const rtt = s.histogram('telemetry_sidecar_rtt_seconds', labels);
    expect(rtt.count).toBe(2);
    expect(rtt.sum).toBeCloseTo(20.12, 9);
    expect(rtt.buckets).toEqual({
      '0.05': 0,
      '0.1': 0,
      '0.15': 1,
      '0.2': 1,
      '0.25': 1,
      '0.5': 1,
      '0.75': 1,
      '1': 1,
      '5': 1,
      '10': 1,
      '+Inf': 2,
    });
    const jitter = s.histogram('telemetry_sidecar_jitter_seconds', labels);
    expect(jitter.count).toBe(2);
    expect(jitter.sum).toBeCloseTo(0.0025, 12);
    expect(jitter.buckets).toMatchObject({ '0.001': 1, '0.01': 2, '1': 2, '+Inf': 2 });
  });

  it('puts a value on a bucket boundary into that bucket (le is inclusive)', async () => {
    metrics.observeTraffic(trackStat('PA_1', StreamType.UPSTREAM, [stream({ rtt: 50 })]), '');
    const s = await scrape(server.port);
    expect(s.histogram('telemetry_sidecar_rtt_seconds', { direction: 'incoming', country: '' }).buckets['0.05']).toBe(
      1,
    );
  });

  it('ignores invalid stats entirely', async () => {
    metrics.observeTraffic(
      trackStat('PA_1', StreamType.UPSTREAM, [
        stream({ primaryPackets: 100, nacks: 2, rtt: 100 }),
        stream({ packetsLost: 2 ** 31 }),
      ]),
      'US',
    );
    const s = await scrape(server.port);
    expect(s.series('telemetry_sidecar_packets_total')).toEqual([]);
    expect(s.series('telemetry_sidecar_nacks_total')).toEqual([]);
    expect(s.series('telemetry_sidecar_rtt_seconds_count')).toEqual([]);
  });

  it('normalises country to an upper-case 2-letter code, empty, or other', async () => {
    const one = trackStat('PA_1', StreamType.UPSTREAM, [stream({ primaryPackets: 1 })]);
    for (const country of ['us', 'US', 'uS', '', 'USA', 'U1', ' u', '🇺🇸', 'ÄÖ', 'room-RM_1'])
      metrics.observeTraffic(one, country);
    const s = await scrape(server.port);
    const byCountry = Object.fromEntries(
      s.series('telemetry_sidecar_packets_total').map((x) => [x.labels.country, x.value]),
    );
    expect(byCountry).toEqual({ US: 3, '': 1, other: 6 });
  });

  it('keeps label cardinality bounded whatever the input', async () => {
    const one = trackStat('PA_1', StreamType.UPSTREAM, [stream({ primaryPackets: 1 })]);
    for (let i = 0; i < 5_000; i++) metrics.observeTraffic(one, `c${i}`);
    for (let i = 0; i < 26 * 26; i++) {
      metrics.observeTraffic(one, String.fromCharCode(97 + (i % 26), 65 + Math.floor(i / 26)));
    }
    const s = await scrape(server.port);
    const series = s.series('telemetry_sidecar_packets_total');
    expect(series).toHaveLength(26 * 26 + 1);
    expect(series.every((x) => Object.keys(x.labels).sort().join() === 'country,direction,transmission')).toBe(true);
  });
});

describe('normaliseCountry', () => {
  it('maps input to the bounded label set', () => {
    expect(['gb', 'GB', '', 'GBR', 'g', '12'].map(normaliseCountry)).toEqual([
      'GB',
      'GB',
      '',
      'other',
      'other',
      'other',
    ]);
  });
});

describe('scrape format', () => {
  it('serves OpenMetrics when Prometheus asks for it, and keeps text format names intact afterwards', async () => {
    metrics.guardOp('activate', 'created');
    const om = await httpGet(server.port, '/metrics', { headers: { accept: PROMETHEUS_ACCEPT } });
    expect(om.status).toBe(200);
    expect(om.headers.get('content-type')).toBe('application/openmetrics-text; version=1.0.0; charset=utf-8');
    expect(om.body.endsWith('# EOF\n')).toBe(true);
    const lines = om.body.split('\n');
    expect(lines).toContain('# TYPE telemetry_sidecar_guard_ops counter');
    expect(lines).toContain('telemetry_sidecar_guard_ops_total{op="activate",result="created"} 1');

    const text = await httpGet(server.port, '/metrics', { headers: { accept: 'text/plain' } });
    expect(text.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const s = new Scrape(text.body);
    expect(s.types.get('telemetry_sidecar_guard_ops_total')).toBe('COUNTER');
    expect(s.value('telemetry_sidecar_guard_ops_total', { op: 'activate', result: 'created' })).toBe(1);
  });

  it('answers concurrent scrapes of both formats each in its own format', async () => {
    metrics.leaseExpired(1);
    const replies = await Promise.all(
      [PROMETHEUS_ACCEPT, 'text/plain', PROMETHEUS_ACCEPT, undefined].map((accept) =>
        httpGet(server.port, '/metrics', accept ? { headers: { accept } } : {}),
      ),
    );
    const [om1, text1, om2, text2] = replies.map((r) => r.body);
    for (const om of [om1, om2]) expect(om).toContain('\ntelemetry_sidecar_leases_expired_total 1\n');
    for (const om of [om1, om2]) expect(om).toContain('# TYPE telemetry_sidecar_leases_expired counter');
    for (const text of [text1, text2])
      expect(new Scrape(text ?? '').value('telemetry_sidecar_leases_expired_total')).toBe(1);
  });

  it('negotiates on the Accept header', () => {
    expect(prefersOpenMetrics(undefined)).toBe(false);
    expect(prefersOpenMetrics('')).toBe(false);
    expect(prefersOpenMetrics('*/*')).toBe(false);
    expect(prefersOpenMetrics('text/plain;version=0.0.4')).toBe(false);
    expect(prefersOpenMetrics(PROMETHEUS_ACCEPT)).toBe(true);
    expect(prefersOpenMetrics('application/openmetrics-text')).toBe(true);
    expect(prefersOpenMetrics('Application/OpenMetrics-Text; version=1.0.0')).toBe(true);
    expect(prefersOpenMetrics('application/openmetrics-text;q=0.2,text/plain;q=0.9')).toBe(false);
    expect(prefersOpenMetrics('application/openmetrics-text;q=0')).toBe(false);
  });
});

describe('default metrics', () => {
  it('includes process and Node.js metrics, event-loop lag among them', async () => {
    await server.close();
    await serve(new SidecarMetrics());
    const s = await scrape(server.port);
    for (const name of [
      'nodejs_eventloop_lag_seconds',
      'nodejs_eventloop_lag_p99_seconds',
      'process_cpu_seconds_total',
      'nodejs_heap_size_used_bytes',
    ]) {
      expect(s.types.has(name), name).toBe(true);
    }
    if (process.platform === 'linux') expect(s.value('process_resident_memory_bytes')).toBeGreaterThan(0);
  });

  it('leaves them out when asked', async () => {
    const s = await scrape(server.port);
    expect([...s.types.keys()].filter((n) => !n.startsWith('telemetry_sidecar_'))).toEqual([]);
  });
});
