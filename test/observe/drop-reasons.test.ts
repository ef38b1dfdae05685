/**
 * One list of drop reasons (src/observe/drop-reasons.ts): every reason the
 * code can count is in it, every listed series is at 0 on the first scrape
 * (so increase() sees the first drop), and docs/metrics.md documents each.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { status } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { StreamType, type AnalyticsStat } from '../../src/core/analytics.js';
import { DevUpstream } from '../../src/dev/upstream-server.js';
import { DROP_REASONS } from '../../src/observe/drop-reasons.js';
import { SidecarMetrics } from '../../src/observe/metrics.js';
import { type Batch, type Sink } from '../../src/upstream/sink.js';
import { copyInto } from '../helpers/encode.js';
import { unary } from '../helpers/rpc.js';
import { startTestSidecar, type TestSidecar } from '../helpers/sidecar.js';
import { sample, stream } from '../helpers/stats.js';
import { Scrape } from '../helpers/scrape.js';

const LISTED = Object.keys(DROP_REASONS);
const DROPPED = 'telemetry_sidecar_stats_dropped_total';

let t: TestSidecar | undefined;
const upstreams: DevUpstream[] = [];
afterEach(async () => {
  await t?.close();
  t = undefined;
  for (const u of upstreams.splice(0)) await u.close();
});

async function scrapeOf(metrics: SidecarMetrics): Promise<Scrape> {
  return new Scrape((await metrics.metricsText()).body);
}

/** Reasons counted so far, each of which must be listed and must have been a 0 series on the first scrape. */
function counted(first: Scrape, now: Scrape): string[] {
  const reasons = now
    .series(DROPPED)
    .filter((s) => s.value > 0)
    .map((s) => s.labels.reason ?? '');
  for (const reason of reasons) {
    expect(LISTED, `reason "${reason}" is counted but not in DROP_REASONS`).toContain(reason);
    expect(first.value(DROPPED, { reason }), `reason "${reason}" was not zero-initialised`).toBe(0);
  }
  return reasons.sort();
}

const stat = (participantId: string, trackId = 'T', roomId = 'R') => ({
  roomId,
  participantId,
  trackId,
  kind: StreamType.UPSTREAM,
  stat: sample({ streams: [stream({ primaryPackets: 1 })] }),
});

/** A sink that holds every send until released. */
class HeldSink implements Sink {
  readonly description = 'held';
  readonly format = 'test';
  readonly maxBatchBytes = 1e6;
  sends = 0;
  private release!: () => void;
  private readonly released = new Promise<void>((resolve) => (this.release = resolve));
  encodeInto(s: AnalyticsStat, into: Buffer, at: number): number {
    return copyInto(Buffer.from(s.trackId), into, at);
  }
  async send(_batch: Batch): Promise<void> {
    this.sends++;
    await this.released;
  }
  async close(): Promise<void> {
    this.release();
  }
}

describe('the drop reasons list', () => {
  it('is present at 0 on the first scrape, every reason of it', async () => {
    const first = await scrapeOf(new SidecarMetrics({ defaultMetrics: false }));
    expect(
      first
        .series(DROPPED)
        .map((s) => s.labels.reason)
        .sort(),
    ).toEqual([...LISTED].sort());
    expect(first.series(DROPPED).every((s) => s.value === 0)).toBe(true);
  });

  it('holds every reason the source counts by name (statsDropped with a literal)', () => {
    const src = new URL('../../src/', import.meta.url);
    const files = readdirSync(src, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
    const literals = new Set<string>();
    for (const file of files) {
      for (const m of readFileSync(new URL(file, src), 'utf8').matchAll(/statsDropped\(\s*'([^']+)'/g))
        literals.add(m[1]!);
    }
    expect(literals.size).toBeGreaterThan(0);
    for (const reason of literals) expect(LISTED, reason).toContain(reason);
  });

  it('is documented in docs/metrics.md, reason by reason', () => {
    const doc = readFileSync(new URL('../../docs/metrics.md', import.meta.url), 'utf8');
    for (const reason of LISTED) expect(doc, reason).toContain(`\`${reason}\``);
  });

  it('covers every refusal at ingest: memory limit, track limit, bad arguments', async () => {
    t = await startTestSidecar({ SIDECAR_MAX_TRACKS_PER_WORKER: '1' });
    const c = t.client;
    const first = await scrapeOf(t.sidecar.metrics);
    await unary(c, c.Activate, { roomId: 'R', participantId: 'P', guardId: 'g' });
    await expect(unary(c, c.TrackStats, { stats: [stat('P', 'A'), stat('P', 'B')] })).rejects.toMatchObject({
      code: status.RESOURCE_EXHAUSTED,
    });
    await expect(unary(c, c.TrackStats, { stats: [stat('P', 'A', '')] })).rejects.toMatchObject({
      code: status.INVALID_ARGUMENT,
    });
    expect(counted(first, await scrapeOf(t.sidecar.metrics))).toEqual(['invalid_argument', 'track_limit']);
    await t.close();

    t = await startTestSidecar({ SIDECAR_MEMORY_LIMIT_MB: '1' });
    const m = t.client;
    const fresh = await scrapeOf(t.sidecar.metrics);
    await unary(m, m.Activate, { roomId: 'R', participantId: 'P', guardId: 'g' });
    await expect(unary(m, m.TrackStats, { stats: [stat('P')] })).rejects.toMatchObject({ code: status.UNAVAILABLE });
    expect(counted(fresh, await scrapeOf(t.sidecar.metrics))).toEqual(['memory_limit']);
  });

  it('covers every gRPC code an upstream can refuse a batch with', async () => {
    const failed = new Set<string>();
    const codes = Object.values(status).filter((c): c is status => typeof c === 'number' && c !== status.OK);
    // each track's first call fails with its code; a retried call succeeds
    const u = new DevUpstream({
      respond: (stats) => {
        const track = stats[0]?.trackId ?? '';
        if (failed.has(track)) return undefined;
        failed.add(track);
        return { code: Number(track) as status };
      },
    });
    upstreams.push(u);
    await u.start();
    t = await startTestSidecar(
      { SIDECAR_UPSTREAM: `grpc://127.0.0.1:${u.port}` },
      { delivery: { retryInitialMs: 5, retryMaxMs: 20, callTimeoutMs: 5_000 } },
    );
    const c = t.client;
    const first = await scrapeOf(t.sidecar.metrics);
    await unary(c, c.Activate, { roomId: 'R', participantId: 'P', guardId: 'g' });
    const refused: string[] = [];
    for (const code of codes) {
      await unary(c, c.TrackStats, { stats: [stat('P', String(code))] });
      const flush = await unary(c, c.Flush, { waitDelivered: true });
      if (!flush.delivered) refused.push(status[code].toLowerCase());
    }
    expect(refused.length).toBeGreaterThan(0);
    expect(counted(first, await scrapeOf(t.sidecar.metrics))).toEqual(refused.sort());
  });

  it('covers delivery losses: a full queue and a shutdown timeout', async () => {
    const sink = new HeldSink();
    t = await startTestSidecar({ SIDECAR_QUEUE_MAX_BYTES: '1', SIDECAR_SHUTDOWN_TIMEOUT: '1ms' }, { sink });
    const c = t.client;
    const metrics = t.sidecar.metrics;
    const first = await scrapeOf(metrics);
    await unary(c, c.Activate, { roomId: 'R', participantId: 'P', guardId: 'g' });
    await unary(c, c.TrackStats, { stats: [stat('P', 'A')] });
    await unary(c, c.Flush, { waitDelivered: false }); // held by the sink
    await unary(c, c.TrackStats, { stats: [stat('P', 'B')] });
    await unary(c, c.Flush, { waitDelivered: false }); // queued behind it
    await unary(c, c.TrackStats, { stats: [stat('P', 'C')] });
    await unary(c, c.Flush, { waitDelivered: false }); // over the queue bound: the oldest waiting batch is dropped
    expect(counted(first, await scrapeOf(metrics))).toEqual(['queue_full']);
    await t.sidecar.shutdown(); // the held batch is still undelivered
    expect(counted(first, await scrapeOf(metrics))).toEqual(['queue_full', 'shutdown']);
  });
});
