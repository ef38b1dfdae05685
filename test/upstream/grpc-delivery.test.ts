import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { StreamType } from '../../src/core/analytics.js';
import type { DevUpstream } from '../../src/dev/upstream-server.js';
import { type CallFate } from '../../src/dev/upstream-server.js';
import { scrape } from '../helpers/scrape.js';
import { unary } from '../helpers/rpc.js';
import { DevUpstreams, deadPort } from '../helpers/dev-upstreams.js';
import { startTestSidecar, type TestSidecar } from '../helpers/sidecar.js';
import { sample, stream } from '../helpers/stats.js';

let t: TestSidecar | undefined;
const upstreams = new DevUpstreams();
afterEach(async () => {
  await t?.close();
  t = undefined;
  await upstreams.closeAll();
});
const upstream = (options?: Parameters<DevUpstreams['start']>[0]) => upstreams.start(options);

const FAST = { retryInitialMs: 20, retryMaxMs: 100, callTimeoutMs: 300 };

async function emit(s: TestSidecar, participants: number, tracks = 2): Promise<number> {
  const c = s.client;
  const stats = [];
  for (let p = 0; p < participants; p++) {
    await unary(c, c.Activate, { roomId: 'R', participantId: `P${p}`, guardId: 'g' });
    for (let k = 0; k < tracks; k++) {
      stats.push({
        roomId: 'R',
        participantId: `P${p}`,
        trackId: `T${k}`,
        kind: StreamType.DOWNSTREAM,
        stat: sample({ streams: [stream({ primaryPackets: p * 10 + k })] }),
      });
    }
  }
  await unary(c, c.TrackStats, { stats });
  return stats.length;
}

describe('gRPC upstream delivery', () => {
  it('delivers every emitted stat exactly once, readable by @livekit/protocol', async () => {
    const u = await upstream();
    t = await startTestSidecar(
      { SIDECAR_UPSTREAM: `grpc://127.0.0.1:${u.port}`, SIDECAR_BATCH_MAX_STATS: '7', SIDECAR_ANALYTICS_KEY: 'key-1' },
      { delivery: FAST },
    );
    const n = await emit(t, 10, 3);
    expect(await unary(t.client, t.client.Flush, { waitDelivered: true })).toMatchObject({
      statsEmitted: n,
      delivered: true,
    });
    expect(u.received).toHaveLength(n);
    expect(u.calls).toBe(Math.ceil(n / 7));
    expect(new Set(u.received.map((s) => s.id)).size).toBe(n);
    const first = u.received.find((s) => s.participantId === 'P3' && s.trackId === 'T2')!;
    expect(first).toMatchObject({ analyticsKey: 'key-1', node: 'test-node', roomId: 'R', kind: 1 });
    expect(first.streams[0]!.primaryPackets).toBe(32);
    expect(
      (await scrape(t.sidecar.httpPort)).value('telemetry_sidecar_upstream_stats_total', { result: 'delivered' }),
    ).toBe(n);
  });

  it('delivers everything queued while the upstream was down once it comes up, without duplicates', async () => {
    const port = await deadPort();
    t = await startTestSidecar({ SIDECAR_UPSTREAM: `grpc://127.0.0.1:${port}` }, { delivery: FAST });
    const n = await emit(t, 5);
    const flushed = await unary(t.client, t.client.Flush, {});
    expect(flushed.statsEmitted).toBe(n);
    const httpPort = t.sidecar.httpPort;
    await vi.waitFor(async () =>
      expect(
        (await scrape(httpPort)).value('telemetry_sidecar_upstream_stats_total', { result: 'retried' }),
      ).toBeGreaterThan(0),
    );
    const u = await upstream({ port });
    await vi.waitFor(() => expect(u.received).toHaveLength(n), { timeout: 5000 });
    expect(new Set(u.received.map((s) => s.id)).size).toBe(n);
    // the upstream has the stats before the sidecar has the call's OK: the queue empties just after
    await vi.waitFor(async () =>
      expect((await scrape(httpPort)).value('telemetry_sidecar_upstream_queue_stats')).toBe(0),
    );
  });

  it.each(['UNAVAILABLE', 'DEADLINE_EXCEEDED', 'RESOURCE_EXHAUSTED', 'ABORTED', 'INTERNAL', 'UNKNOWN'] as const)(
    'retries a batch refused with %s and re-sends it with the same ids',
    async (code) => {
      const attempts: string[][] = [];
      const u = await upstream({
        respond: (stats, call): CallFate => {
          attempts.push(stats.map((s) => s.id));
          return call === 0 ? { code: status[code] } : undefined;
        },
      });
      t = await startTestSidecar({ SIDECAR_UPSTREAM: `grpc://127.0.0.1:${u.port}` }, { delivery: FAST });
      const n = await emit(t, 2);
      expect(await unary(t.client, t.client.Flush, { waitDelivered: true })).toMatchObject({ delivered: true });
      expect(u.received).toHaveLength(n);
      expect(attempts).toHaveLength(2);
      expect(attempts[1]).toEqual(attempts[0]);
      expect(
        (await scrape(t.sidecar.httpPort)).value('telemetry_sidecar_upstream_stats_total', { result: 'retried' }),
      ).toBe(n);
    },
  );

  it.each(['INVALID_ARGUMENT', 'PERMISSION_DENIED', 'UNAUTHENTICATED', 'NOT_FOUND', 'UNIMPLEMENTED'] as const)(
    'drops a batch refused with %s and counts the reason',
    async (code) => {
      const u = await upstream({ respond: () => ({ code: status[code] }) });
      t = await startTestSidecar({ SIDECAR_UPSTREAM: `grpc://127.0.0.1:${u.port}` }, { delivery: FAST });
      const n = await emit(t, 2);
      expect(await unary(t.client, t.client.Flush, { waitDelivered: true })).toMatchObject({
        statsEmitted: n,
        delivered: false,
      });
      expect(u.calls).toBe(1);
      const m = await scrape(t.sidecar.httpPort);
      expect(m.value('telemetry_sidecar_stats_dropped_total', { reason: code.toLowerCase() })).toBe(n);
      expect(m.value('telemetry_sidecar_upstream_stats_total', { result: 'dropped' })).toBe(n);
    },
  );

  it('gives up on a call that hangs past its deadline and retries it', async () => {
    const u = await upstream({ respond: (_s, call) => (call === 0 ? { hang: true } : undefined) });
    t = await startTestSidecar({ SIDECAR_UPSTREAM: `grpc://127.0.0.1:${u.port}` }, { delivery: FAST });
    const n = await emit(t, 1);
    expect(await unary(t.client, t.client.Flush, { waitDelivered: true })).toMatchObject({ delivered: true });
    expect(u.calls).toBe(2);
    expect(u.received).toHaveLength(n);
  });

  it('retries when the upstream dies mid-call and comes back', async () => {
    const first: DevUpstream = await upstream({
      respond: () => {
        void first.close();
        return { hang: true };
      },
    });
    const port = first.port;
    t = await startTestSidecar(
      { SIDECAR_UPSTREAM: `grpc://127.0.0.1:${port}` },
      { delivery: { ...FAST, callTimeoutMs: 5000 } },
    );
    const n = await emit(t, 3);
    const flush = unary(t.client, t.client.Flush, { waitDelivered: true });
    await vi.waitFor(() => expect(first.calls).toBe(1));
    const second = await upstream({ port });
    expect(await flush).toMatchObject({ delivered: true });
    expect(second.received).toHaveLength(n);
  });

  it('drops the oldest batches when the queue bound is passed, counting exactly what was dropped', async () => {
    const port = await deadPort();
    // one of these stats encodes to ~90 bytes: the bound holds two or three batches of 2, of the five
    t = await startTestSidecar(
      {
        SIDECAR_UPSTREAM: `grpc://127.0.0.1:${port}`,
        SIDECAR_BATCH_MAX_STATS: '2',
        SIDECAR_QUEUE_MAX_BYTES: '500',
        SIDECAR_SHUTDOWN_TIMEOUT: '50ms',
      },
      { delivery: { ...FAST, retryInitialMs: 60_000, retryMaxMs: 60_000 } },
    );
    const firstFlushTracks = await emit(t, 10, 1);
    await unary(t.client, t.client.Flush, {});
    const m = await scrape(t.sidecar.httpPort);
    const dropped = m.value('telemetry_sidecar_stats_dropped_total', { reason: 'queue_full' }) ?? 0;
    const queued = m.value('telemetry_sidecar_upstream_queue_stats') ?? 0;
    expect(dropped).toBeGreaterThan(0);
    expect(dropped % 2).toBe(0);
    expect(dropped + queued).toBe(firstFlushTracks);
    expect(m.value('telemetry_sidecar_upstream_stats_total', { result: 'dropped' })).toBe(dropped);
  });
});

describe('a poison batch', () => {
  it('is quarantined once the upstream keeps refusing it while accepting others; nothing behind it waits', async () => {
    const spoolDir = mkdtempSync(join(tmpdir(), 'poison-spool-'));
    try {
      const u = await upstream({
        respond: (stats) => (stats.some((s) => s.participantId === 'POISON') ? { code: status.INTERNAL } : undefined),
      });
      t = await startTestSidecar(
        { SIDECAR_UPSTREAM: `grpc://127.0.0.1:${u.port}`, SIDECAR_BATCH_MAX_STATS: '1', SIDECAR_SPOOL_DIR: spoolDir },
        // a generous call deadline: a call timing out under load would be re-sent, a legitimate duplicate
        { delivery: { ...FAST, callTimeoutMs: 5000, quarantineStrikes: 3 } },
      );
      const c = t.client;
      const record = async (participantId: string) => {
        await unary(c, c.Activate, { roomId: 'R', participantId, guardId: 'g' });
        const stat = { roomId: 'R', participantId, trackId: 'T', kind: StreamType.UPSTREAM, stat: sample() };
        await unary(c, c.TrackStats, { stats: [stat] });
      };
      await record('POISON');
      const poisoned = unary(c, c.Flush, { waitDelivered: true });
      // the SFU keeps flushing healthy stats: each one is delivered although the poison batch is still failing
      let healthy = 0;
      const m = () => scrape(t!.sidecar.httpPort);
      while (((await m()).value('telemetry_sidecar_stats_dropped_total', { reason: 'quarantined' }) ?? 0) === 0) {
        await record(`P${healthy++}`);
        expect(await unary(c, c.Flush, { waitDelivered: true })).toMatchObject({ statsEmitted: 1, delivered: true });
        expect(healthy).toBeLessThan(50);
      }
      expect(await poisoned).toMatchObject({ statsEmitted: 1, delivered: false });
      expect(new Set(u.received.map((s) => s.participantId))).toEqual(
        new Set(Array.from({ length: healthy }, (_, i) => `P${i}`)),
      );
      // counted first, then moved and logged; acknowledged records are deleted just after the acknowledgement
      await vi.waitFor(() => expect(t!.logs.filter((l) => String(l.msg).startsWith('poison batch'))).toHaveLength(1));
      expect(readdirSync(join(spoolDir, 'quarantine'))).toHaveLength(1);
      await vi.waitFor(() => expect(readdirSync(spoolDir).filter((f) => f.endsWith('.batch'))).toEqual([]));
      const after = await m();
      expect(after.value('telemetry_sidecar_stats_dropped_total', { reason: 'quarantined' })).toBe(1);
      expect(t.logs.filter((l) => String(l.msg).startsWith('poison batch'))).toEqual([
        expect.objectContaining({ stats: 1, quarantined: expect.stringContaining(join(spoolDir, 'quarantine')) }),
      ]);
    } finally {
      await t?.close();
      t = undefined;
      rmSync(spoolDir, { recursive: true, force: true });
    }
  });

  it('is never made of a healthy batch by an upstream that fails every call for a while', async () => {
    const u = await upstream({ respond: (_s, call) => (call < 12 ? { code: status.INTERNAL } : undefined) });
    t = await startTestSidecar(
      { SIDECAR_UPSTREAM: `grpc://127.0.0.1:${u.port}`, SIDECAR_BATCH_MAX_STATS: '1' },
      { delivery: { ...FAST, quarantineStrikes: 1 } },
    );
    const n = await emit(t, 3);
    expect(await unary(t.client, t.client.Flush, { waitDelivered: true })).toMatchObject({ delivered: true });
    expect(u.received).toHaveLength(n);
    expect(u.calls).toBeGreaterThanOrEqual(12 + n);
    expect(
      (await scrape(t.sidecar.httpPort)).value('telemetry_sidecar_stats_dropped_total', { reason: 'quarantined' }) ?? 0,
    ).toBe(0);
  });
});

describe('upstream state', () => {
  it('logs the upstream failing and recovering once each, and exposes it as telemetry_sidecar_upstream_up', async () => {
    const port = await deadPort();
    t = await startTestSidecar(
      { SIDECAR_UPSTREAM: `grpc://127.0.0.1:${port}` },
      { delivery: { ...FAST, callTimeoutMs: 5000 } },
    );
    const httpPort = t.sidecar.httpPort;
    expect((await scrape(httpPort)).value('telemetry_sidecar_upstream_up')).toBe(1);
    const n = await emit(t, 3);
    await unary(t.client, t.client.Flush, {});
    await vi.waitFor(
      async () =>
        expect(
          (await scrape(httpPort)).value('telemetry_sidecar_upstream_stats_total', { result: 'retried' }),
        ).toBeGreaterThanOrEqual(3 * n),
      { timeout: 10_000 },
    );
    expect((await scrape(httpPort)).value('telemetry_sidecar_upstream_up')).toBe(0);
    const u = await upstream({ port });
    await vi.waitFor(
      async () => expect((await scrape(httpPort)).value('telemetry_sidecar_upstream_queue_stats')).toBe(0),
      {
        timeout: 10_000,
      },
    );
    expect(new Set(u.received.map((s) => s.id)).size).toBe(n);
    expect((await scrape(httpPort)).value('telemetry_sidecar_upstream_up')).toBe(1);
    const states = t.logs.filter((l) => (l.level as number) >= 30 && String(l.msg).startsWith('upstream'));
    expect(states.map((l) => l.msg)).toEqual(['upstream failing', 'upstream recovered']);
    expect(states[0]).toMatchObject({
      sink: `grpc://127.0.0.1:${port}`,
      error: expect.stringContaining('UNAVAILABLE'),
    });
    expect(states[1]).toMatchObject({ failures: expect.any(Number), failingMs: expect.any(Number) });
    expect(states[1]!.failures as number).toBeGreaterThanOrEqual(3);
  });
});

describe('dev-upstream', () => {
  it('appends what it receives to its NDJSON file', async () => {
    const { mkdtempSync, readFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { runDevUpstream } = await import('../../src/cli/dev-upstream.js');
    const dir = mkdtempSync(join(tmpdir(), 'dev-upstream-'));
    const out = join(dir, 'received.ndjson');
    const lines: string[] = [];
    const u = await runDevUpstream(['--listen', '127.0.0.1:0', '--out', out], (l) => lines.push(l));
    upstreams.adopt(u);
    expect(lines[0]).toContain(`127.0.0.1:${u.port}`);
    t = await startTestSidecar({ SIDECAR_UPSTREAM: `grpc://127.0.0.1:${u.port}` }, { delivery: FAST });
    const n = await emit(t, 3);
    expect(await unary(t.client, t.client.Flush, { waitDelivered: true })).toMatchObject({ delivered: true });
    const written = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { roomId: string; id: string });
    expect(written).toHaveLength(n);
    expect(written.every((s) => s.roomId === 'R' && s.id.startsWith('AS_'))).toBe(true);
    rmSync(dir, { recursive: true, force: true });
  });
});
