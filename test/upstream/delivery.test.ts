import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AnalyticsStat } from '../../src/core/analytics.js';
import { TrackAggregate } from '../../src/core/coalesce.js';
import { Backoff } from '../../src/upstream/backoff.js';
import { Delivery, type DeliveryMetrics } from '../../src/upstream/delivery.js';
import { SinkError, type Batch, type Sink } from '../../src/upstream/sink.js';

const WIDTH = 10;

/** A sink whose sends the test settles by hand, one at a time, in order. */
class ScriptedSink implements Sink {
  readonly description = 'scripted';
  readonly format = 'test';
  readonly maxBatchBytes = 1_000_000;
  readonly sent: string[][] = [];
  private pending: { resolve: () => void; reject: (e: Error) => void }[] = [];

  /** Fixed-width encodings, so a batch splits back into its stats. */
  encode(stat: AnalyticsStat): Uint8Array {
    return Buffer.from(stat.trackId.padEnd(WIDTH, '.'));
  }
  send(batch: Batch): Promise<void> {
    const bytes = Buffer.concat(batch.payloads).toString();
    const ids = [];
    for (let at = 0; at < bytes.length; at += WIDTH) ids.push(bytes.slice(at, at + WIDTH).replace(/\.+$/, ''));
    this.sent.push(ids);
    return new Promise((resolve, reject) => this.pending.push({ resolve, reject }));
  }
  async close(): Promise<void> {}
  /** Settles the oldest outstanding send. */
  async settle(error?: Error): Promise<void> {
    await vi.waitFor(() => expect(this.pending.length).toBeGreaterThan(0));
    const next = this.pending.shift()!;
    if (error) next.reject(error);
    else next.resolve();
  }
}

function stats(...trackIds: string[]): AnalyticsStat[] {
  return trackIds.map((trackId) => ({ ...new TrackAggregate().result(), trackId }));
}

function recorder() {
  const counts: Record<string, number> = {};
  const metrics: DeliveryMetrics = {
    upstreamStats: (result, n) => void (counts[result] = (counts[result] ?? 0) + n),
    statsDropped: (reason, n) => void (counts[`dropped:${reason}`] = (counts[`dropped:${reason}`] ?? 0) + n),
  };
  return { counts, metrics };
}

const silent = pino({ level: 'silent' });
afterEach(() => vi.useRealTimers());

describe('Delivery', () => {
  it('cuts batches of at most batch_max_stats and resolves the flush once all are acked', async () => {
    const sink = new ScriptedSink();
    const { counts, metrics } = recorder();
    const d = new Delivery(sink, { batchMaxStats: 2, queueMaxBytes: 1e9 }, metrics, silent);
    d.enqueue(stats('a', 'b', 'c'));
    d.enqueue(stats('d', 'e'));
    const done = d.seal();
    expect(d.queuedStats).toBe(5);
    for (let i = 0; i < 3; i++) await sink.settle();
    expect(await done).toBe(true);
    expect(sink.sent).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
    expect(counts).toEqual({ delivered: 5 });
    expect(d.queuedStats).toBe(0);
  });

  it('resolves an empty flush at once', async () => {
    const d = new Delivery(new ScriptedSink(), { batchMaxStats: 2, queueMaxBytes: 1e9 }, recorder().metrics, silent);
    expect(await d.seal()).toBe(true);
  });

  it('drops the oldest queued batches past the byte bound, never the one being sent, and counts them', async () => {
    const sink = new ScriptedSink();
    const { counts, metrics } = recorder();
    // each stat encodes to 10 bytes; the bound holds three of them
    const d = new Delivery(sink, { batchMaxStats: 1, queueMaxBytes: 30 }, metrics, silent);
    d.enqueue(stats('a'));
    const first = d.seal(); // 'a' goes out and stays in flight
    d.enqueue(stats('b', 'c', 'd', 'e'));
    const second = d.seal();
    expect(counts).toEqual({ 'dropped:queue_full': 2, dropped: 2 });
    expect(d.queuedBytes).toBe(30);
    for (let i = 0; i < 3; i++) await sink.settle();
    expect(await first).toBe(true);
    expect(await second).toBe(false);
    expect(sink.sent).toEqual([['a'], ['d'], ['e']]);
  });

  it('retries a transient failure with backoff and keeps the batch’s stats', async () => {
    vi.useFakeTimers();
    const sink = new ScriptedSink();
    const { counts, metrics } = recorder();
    const d = new Delivery(
      sink,
      { batchMaxStats: 10, queueMaxBytes: 1e9, backoff: new Backoff(1000, 30_000, () => 0.5) },
      metrics,
      silent,
    );
    d.enqueue(stats('a', 'b'));
    const done = d.seal();
    await sink.settle(new SinkError('unavailable', true, 'unavailable'));
    await vi.advanceTimersByTimeAsync(999);
    expect(sink.sent).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(sink.sent).toEqual([
      ['a', 'b'],
      ['a', 'b'],
    ]);
    await sink.settle();
    expect(await done).toBe(true);
    expect(counts).toEqual({ retried: 2, delivered: 2 });
  });

  it('drops a batch the sink refuses permanently, with its reason', async () => {
    const sink = new ScriptedSink();
    const { counts, metrics } = recorder();
    const d = new Delivery(sink, { batchMaxStats: 10, queueMaxBytes: 1e9 }, metrics, silent);
    d.enqueue(stats('a'));
    const done = d.seal();
    await sink.settle(new SinkError('denied', false, 'permission_denied'));
    expect(await done).toBe(false);
    expect(counts).toEqual({ 'dropped:permission_denied': 1, dropped: 1 });
  });

  it('reports what is left when the drain deadline passes', async () => {
    const sink = new ScriptedSink();
    const d = new Delivery(sink, { batchMaxStats: 1, queueMaxBytes: 1e9 }, recorder().metrics, silent);
    d.enqueue(stats('a', 'b'));
    const result = await d.drain(10);
    expect(result).toMatchObject({ drained: false, remainingStats: 2 });
    expect(result.remaining).toHaveLength(2);
  });
});

describe('Backoff', () => {
  it('doubles from the initial delay up to the cap, jittered ±50%', () => {
    const b = new Backoff(1000, 8000, () => 0.5);
    expect([b.next(), b.next(), b.next(), b.next(), b.next()]).toEqual([1000, 2000, 4000, 8000, 8000]);
    b.reset();
    expect(b.next()).toBe(1000);
    expect(new Backoff(1000, 8000, () => 0).next()).toBe(500);
    expect(new Backoff(1000, 8000, () => 0.999).next()).toBe(1499);
  });
});
