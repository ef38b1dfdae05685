import { status, type ServiceError } from '@grpc/grpc-js';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { AnalyticsStat } from '../../src/core/analytics.js';
import { TrackAggregate } from '../../src/core/coalesce.js';
import { SidecarError } from '../../src/core/errors.js';
import { StreamType } from '../../src/core/analytics.js';
import { MemoryGuard, v8Collector, type MemoryReading } from '../../src/service/memory-guard.js';
import { Delivery } from '../../src/upstream/delivery.js';
import { type Batch, type Sink } from '../../src/upstream/sink.js';
import { copyInto } from '../helpers/encode.js';
import { scrape } from '../helpers/scrape.js';
import { unary } from '../helpers/rpc.js';
import { SessionClient } from '../../src/client/session-client.js';
import { startTestSidecar, type TestSidecar } from '../helpers/sidecar.js';
import { sample } from '../helpers/stats.js';

const MB = 2 ** 20;
/** Chosen so that the shares below are exact binary fractions. */
const LIMIT = 160 * MB;
/** The watermarks the guard documents: shedding above 85 % (136 MB), back to normal below 70 % (112 MB). */
const LOW = 112 * MB;

/** A guard whose memory reading, clock and queue the test sets. */
function harness(opts: { queueBytes?: number; collect?: (h: { held: number }) => number } = {}) {
  const state = {
    held: 0,
    now: 1_000_000,
    queue: opts.queueBytes ?? 0,
    shedCalls: [] as number[],
    collects: 0,
    /** What happened, in order: 'drop' (reusable let go), 'collect', 'shed'. */
    events: [] as string[],
  };
  const lines: { level: number; msg: string; [k: string]: unknown }[] = [];
  const logger = pino({ level: 'debug' }, { write: (l: string) => void lines.push(JSON.parse(l)) });
  const guard = new MemoryGuard({
    limitBytes: LIMIT,
    logger,
    read: (): MemoryReading => ({ heapUsed: state.held - 1 * MB, external: 1 * MB }),
    now: () => state.now,
    dropReusable: () => void state.events.push('drop'),
    shedQueue: (bytes) => {
      state.events.push('shed');
      state.shedCalls.push(bytes);
      // whole batches of 1 MB, the oldest first, until `bytes` are covered or none is left
      const dropped = Math.min(state.queue, Math.ceil(bytes / MB) * MB);
      state.queue -= dropped;
      return dropped;
    },
    ...(opts.collect
      ? {
          collect: () => {
            state.events.push('collect');
            state.collects++;
            state.held = opts.collect!(state);
          },
        }
      : {}),
  });
  /** Checks `n` requests and returns how many were refused, each as UNAVAILABLE `memory_limit`. */
  const refused = (n: number) => {
    let count = 0;
    for (let i = 0; i < n; i++) {
      try {
        guard.check();
      } catch (err) {
        expect(err).toBeInstanceOf(SidecarError);
        expect(err).toMatchObject({ code: 'UNAVAILABLE', reason: 'memory_limit' });
        count++;
      }
    }
    return count;
  };
  const at = (heldBytes: number) => {
    state.held = heldBytes;
    state.now += 500;
    guard.sample();
  };
  return { guard, state, lines, refused, at };
}

describe('MemoryGuard', () => {
  it('lets go of what is kept for reuse before it collects or sheds, and only above a watermark', () => {
    const h = harness({ queueBytes: 50 * MB, collect: () => 150 * MB });
    h.at(100 * MB);
    expect(h.state.events).toEqual([]);
    h.at(150 * MB);
    expect(h.state.events).toEqual(['drop', 'collect', 'shed']);
    // within 5 s of the collection (none forced): still let go
    h.at(150 * MB);
    expect(h.state.events.slice(3)).toEqual(['drop']);
  });

  it('refuses nothing below the high watermark', () => {
    const h = harness({ queueBytes: 50 * MB });
    for (const held of [10, 100, 135, 120] as const) {
      h.at(held * MB);
      expect(h.guard.status().state).toBe('normal');
      expect(h.refused(100)).toBe(0);
    }
    expect(h.state.shedCalls).toEqual([]);
    expect(h.lines).toEqual([]);
  });

  it('trips above the high watermark and recovers only below the low one, one log line per change', () => {
    const h = harness();
    h.at(137 * MB);
    expect(h.guard.status().state).toBe('shedding');
    // between the watermarks it stays shedding, but the refused share follows the overshoot (none here)
    for (const held of [135, 120, 112] as const) {
      h.at(held * MB);
      expect(h.guard.status()).toMatchObject({ state: 'shedding', refuseShare: 0 });
    }
    h.at(111 * MB);
    expect(h.guard.status().state).toBe('normal');
    h.at(130 * MB); // back up, but below the high watermark: no new trip
    expect(h.guard.status().state).toBe('normal');
    expect(h.lines.map((l) => [l.level, l.msg])).toEqual([
      [40, 'memory guard: shedding load (oldest queued batches, then a share of new stats)'],
      [30, 'memory guard: recovered, accepting every stat'],
    ]);
    expect(h.lines[0]).toMatchObject({ heldMb: 137, highMb: 136, lowMb: 112, limitMb: 160 });
  });

  it('drops the oldest queued batches first, and refuses no stat when that covers the overshoot', () => {
    const h = harness({ queueBytes: 40 * MB });
    h.at(150 * MB);
    // what it asks the queue for is the way down to the low watermark
    expect(h.state.shedCalls).toEqual([150 * MB - LOW]);
    expect(h.state.queue).toBe(2 * MB);
    expect(h.guard.status().refuseShare).toBe(0);
    expect(h.refused(100)).toBe(0);
    // the collector frees dropped Buffers a little later: the same reading does not drop more at once
    h.at(150 * MB);
    expect(h.state.shedCalls).toHaveLength(1);
    expect(h.refused(100)).toBe(0);
  });

  it('refuses a share of new stats proportional to the overshoot once the queue is empty, all of them at the limit', () => {
    const h = harness({ queueBytes: 6 * MB });
    h.at(148 * MB); // 6 MB dropped: 142 MB expected, (142 - 136) / (160 - 136) = 25 % refused
    expect(h.state.queue).toBe(0);
    expect(h.guard.status().refuseShare).toBe(0.25);
    expect(h.refused(100)).toBe(25);
    h.state.now += 5000; // the dropped bytes have been collected by now, or never will be
    h.at(148 * MB);
    expect(h.guard.status().refuseShare).toBe(0.5);
    expect(h.refused(300)).toBe(150);
    h.at(160 * MB);
    expect(h.refused(100)).toBe(100);
    h.at(400 * MB);
    expect(h.guard.status().refuseShare).toBe(1);
    expect(h.refused(100)).toBe(100);
  });

  it('accepts every stat again once memory falls: refusing is never a latch', () => {
    const h = harness();
    h.at(200 * MB);
    expect(h.refused(10)).toBe(10);
    h.at(142 * MB);
    expect(h.refused(16)).toBe(4);
    h.at(130 * MB);
    expect(h.refused(100)).toBe(0);
    h.at(100 * MB);
    expect(h.guard.status()).toEqual({ state: 'normal', heldBytes: 100 * MB, refuseShare: 0, limitBytes: LIMIT });
    expect(h.lines.at(-1)).toMatchObject({ msg: 'memory guard: recovered, accepting every stat', refusedRequests: 14 });
  });

  it('has V8 collect before shedding, and sheds nothing when the excess was garbage', () => {
    const h = harness({ queueBytes: 50 * MB, collect: () => 40 * MB });
    h.at(150 * MB);
    expect(h.state.collects).toBe(1);
    expect(h.guard.status()).toMatchObject({ state: 'normal', heldBytes: 40 * MB });
    expect(h.state.shedCalls).toEqual([]);
    // no state change; the collection is logged at debug level only, with what it cost and freed
    expect(h.lines).toEqual([
      expect.objectContaining({ level: 20, msg: 'memory guard: forced a full collection', beforeMb: 150, afterMb: 40 }),
    ]);
    // forced collections pause the loop: at most one per 5 s
    h.at(150 * MB);
    expect(h.state.collects).toBe(1);
    expect(h.guard.status().state).toBe('shedding');
    for (let i = 0; i < 10; i++) h.at(150 * MB);
    expect(h.state.collects).toBe(2);
  });

  it('while shedding, has V8 collect above the low watermark too, so recovery shows as soon as memory is freed', () => {
    let afterCollect = 150 * MB;
    const h = harness({ collect: () => afterCollect });
    h.at(150 * MB);
    expect(h.guard.status().state).toBe('shedding');
    expect(h.state.collects).toBe(1);
    afterCollect = 100 * MB; // the queue drained: its Buffers are garbage now
    h.at(120 * MB); // within 5 s of the last collection: the reading stands
    expect(h.guard.status().state).toBe('shedding');
    h.state.now += 5000;
    h.at(120 * MB);
    expect(h.state.collects).toBe(2);
    expect(h.guard.status()).toMatchObject({ state: 'normal', heldBytes: 100 * MB });
    // back to normal, a reading between the watermarks is no reason to collect
    h.state.now += 5000;
    h.at(120 * MB);
    expect(h.state.collects).toBe(2);
  });

  it('counts dropped queue bytes as freed only until a collection shows what was really freed', () => {
    let afterCollect = 150 * MB;
    const h = harness({ queueBytes: 40 * MB, collect: () => afterCollect });
    h.at(150 * MB); // collected, still 150: 38 MB of the queue dropped, 2 MB left
    expect(h.state.queue).toBe(2 * MB);
    expect(h.guard.status().refuseShare).toBe(0);
    afterCollect = 144 * MB; // only 6 MB of it was really freed (the rest is held elsewhere)
    h.state.now += 4500;
    h.at(150 * MB);
    expect(h.state.collects).toBe(2);
    // the last 2 MB of the queue go, and (144 - 2 - 136) / 24 of new stats are refused
    expect(h.state.queue).toBe(0);
    expect(h.guard.status().refuseShare).toBe(0.25);
  });

  it('is off without a limit', () => {
    const guard = new MemoryGuard({
      limitBytes: undefined,
      logger: pino({ level: 'silent' }),
      read: () => ({ heapUsed: 1e12, external: 0 }),
    });
    guard.sample();
    expect(() => guard.check()).not.toThrow();
    expect(guard.status().state).toBe('normal');
  });

  it("drops a real delivery queue's oldest batches, never the one being sent, counted as memory_pressure", async () => {
    const sends: Batch[] = [];
    const sink: Sink = {
      description: 'stuck',
      format: 'test',
      maxBatchBytes: 1_000_000,
      encodeInto: (_stat, into, at) => copyInto(new Uint8Array(100_000), into, at),
      send: (batch) => {
        sends.push(batch);
        return new Promise(() => undefined); // the upstream never answers
      },
      close: async () => undefined,
    };
    const dropped: Record<string, number> = {};
    const delivery = new Delivery(
      sink,
      { batchMaxStats: 2, queueMaxBytes: 1e9 },
      {
        upstreamStats: (r, n) => void (dropped[`upstream:${r}`] = (dropped[`upstream:${r}`] ?? 0) + n),
        statsDropped: (r, n) => void (dropped[r] = (dropped[r] ?? 0) + n),
        upstreamUp: () => undefined,
        spoolWriteError: () => undefined,
        spoolUnreadableRecords: () => undefined,
      },
      pino({ level: 'silent' }),
    );
    const stat: AnalyticsStat = new TrackAggregate().result();
    delivery.enqueue(Array.from({ length: 10 }, () => stat)); // five batches of 200 kB
    const flushed = delivery.seal();
    expect(sends).toHaveLength(1);
    const guard = new MemoryGuard({
      limitBytes: 1_000_000,
      logger: pino({ level: 'silent' }),
      read: () => ({ heapUsed: 900_000, external: 0 }),
      shedQueue: (bytes) => delivery.shedOldest(bytes),
    });
    guard.sample(); // 900 kB held: 200 kB (one batch) would reach the low watermark (700 kB)
    expect(dropped).toEqual({ memory_pressure: 2, 'upstream:dropped': 2 });
    expect(delivery.queuedStats).toBe(8);
    expect(delivery.shedOldest(1e9)).toBe(600_000); // the batch being sent stays
    expect(delivery.queuedStats).toBe(2);
    // the flush's batches were not all delivered, and one is still in flight
    expect(await Promise.race([flushed.delivered, Promise.resolve('pending')])).toBe('pending');
  });
});

describe('v8Collector', () => {
  it('frees garbage V8 would otherwise keep until its next major collection', () => {
    const collect = v8Collector();
    expect(collect).toBeTypeOf('function');
    collect!();
    const before = process.memoryUsage().heapUsed;
    let garbage: unknown[] | null = Array.from({ length: 200_000 }, (_, i) => ({ i, s: `x${i}` }));
    expect((garbage as unknown[]).length).toBe(200_000);
    garbage = null;
    const held = process.memoryUsage().heapUsed;
    collect!();
    expect(process.memoryUsage().heapUsed).toBeLessThan(held - (held - before) / 2);
    // the flag is put back: code that checks for a global gc() does not see one
    expect((globalThis as { gc?: unknown }).gc).toBeUndefined();
  });
});

describe('the memory guard in a running sidecar', () => {
  let t: TestSidecar | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  const who = { roomId: 'R', participantId: 'P' };
  const oneStat = { stats: [{ ...who, trackId: 'T', kind: StreamType.UPSTREAM, stat: sample() }] };

  it('refuses TrackStats with UNAVAILABLE while over the limit, keeps guards working, and resumes when memory falls', async () => {
    let held = 0;
    t = await startTestSidecar(
      { SIDECAR_MEMORY_LIMIT_MB: '100' },
      { memoryReading: () => ({ heapUsed: held, external: 0 }) },
    );
    const c = t.client;
    await unary(c, c.Activate, { ...who, guardId: 'g1' });
    held = 200 * MB;
    t.sidecar.memory.sample();

    const err = (await unary(c, c.TrackStats, oneStat).catch((e: unknown) => e)) as ServiceError;
    expect(err.code).toBe(status.UNAVAILABLE);
    expect(err.details).toContain('memory limit');
    const session = new SessionClient(c);
    await session.send({ hello: { clientId: 'sfu' } });
    const refused = await session.send({ stats: oneStat });
    expect(refused.error?.code).toBe(status.UNAVAILABLE);
    // guards are never refused
    expect((await session.send({ activate: { ...who, guardId: 'g2' } })).activate?.refCount).toBe(2);
    expect((await unary(c, c.Release, { ...who, guardId: 'g1' })).found).toBe(true);

    let m = await scrape(t.sidecar.httpPort);
    expect(m.value('telemetry_sidecar_stats_dropped_total', { reason: 'memory_limit' })).toBe(2);
    expect(m.value('telemetry_sidecar_memory_shedding')).toBe(1);
    expect(m.value('telemetry_sidecar_memory_refused_ratio')).toBe(1);
    expect(m.value('telemetry_sidecar_memory_held_bytes')).toBe(200 * MB);
    expect(m.value('telemetry_sidecar_memory_limit_bytes')).toBe(100 * MB);

    held = 10 * MB;
    t.sidecar.memory.sample();
    expect((await unary(c, c.TrackStats, oneStat)).accepted).toBe(1);
    expect((await session.send({ stats: oneStat })).stats?.accepted).toBe(1);
    m = await scrape(t.sidecar.httpPort);
    expect(m.value('telemetry_sidecar_memory_shedding')).toBe(0);
    expect(m.value('telemetry_sidecar_memory_refused_ratio')).toBe(0);
    expect(m.value('telemetry_sidecar_track_stats_total', { result: 'accepted' })).toBe(2);
    await session.end();

    const guardLines = t.logs.filter((l) => String(l.msg).startsWith('memory guard'));
    expect(guardLines.map((l) => l.msg)).toEqual([
      'memory guard: shedding load (oldest queued batches, then a share of new stats)',
      'memory guard: recovered, accepting every stat',
    ]);
    expect(guardLines[1]).toMatchObject({ refusedRequests: 2 });
  });
});
