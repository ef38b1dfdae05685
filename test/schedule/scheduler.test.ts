/**
 * The flush scheduler's slicing, with a real registry and a clock that jumps
 * 10 ms on every read, so every chunk of work fills its slice: the flush
 * must still emit each stat once, seal after the last one, and let other
 * work run between its slices.
 */
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { StreamType, type AnalyticsStat } from '../../src/core/analytics.js';
import { WorkerRegistry } from '../../src/core/registry.js';
import { FlushScheduler, type FlushSink } from '../../src/schedule/scheduler.js';
import { StatStamper } from '../../src/schedule/stamp.js';
import { sample, stream } from '../helpers/stats.js';

class RecordingSink implements FlushSink {
  readonly events: string[] = [];
  readonly stats: AnalyticsStat[] = [];
  /** What the next seals report as their spool writes (resolved at once when empty). */
  readonly spoolWrites: Promise<boolean>[] = [];
  enqueue(stats: readonly AnalyticsStat[]): void {
    this.events.push('enqueue');
    // the flush fills these records again in its next step (FlushSink), so they are copied as they come
    this.stats.push(...structuredClone(stats));
  }
  seal() {
    this.events.push('seal');
    return { delivered: Promise.resolve(true), spooled: this.spoolWrites.shift() ?? Promise.resolve(true) };
  }
}

function registryWith(participants: number, tracks: number): WorkerRegistry {
  const registry = new WorkerRegistry({ closeWaitMs: 0, maxWorkers: 1000, maxTracksPerWorker: 100 });
  for (let p = 0; p < participants; p++) {
    const who = { roomId: 'RM', roomName: 'room', participantId: `PA_${p}`, participantIdentity: `p${p}` };
    registry.activate({ ...who, guardId: 'g', connected: true });
    registry.record(
      Array.from({ length: tracks }, (_, t) => ({
        roomId: 'RM',
        participantId: who.participantId,
        trackId: `TR_${t}`,
        kind: StreamType.DOWNSTREAM,
        stat: sample({ streams: [stream({ primaryPackets: p * 100 + t })] }),
      })),
    );
  }
  return registry;
}

function schedulerFor(registry: WorkerRegistry, sink: FlushSink) {
  const observer = { observeFlush: vi.fn(), workerReaped: vi.fn() };
  const scheduler = new FlushScheduler(
    registry,
    new StatStamper('node-1', 'key', 'testprefix00'),
    sink,
    observer,
    pino({ level: 'silent' }),
    {
      intervalMs: 60_000,
    },
  );
  return { scheduler, observer };
}

afterEach(() => vi.restoreAllMocks());

describe('FlushScheduler', () => {
  it('emits every pending stat once, stamped, over many slices, and seals after the last', async () => {
    let clock = 0;
    vi.spyOn(performance, 'now').mockImplementation(() => (clock += 10));
    const sink = new RecordingSink();
    const { scheduler, observer } = schedulerFor(registryWith(40, 5), sink);

    const result = await scheduler.flush();

    expect(result).toMatchObject({ workersFlushed: 40, statsEmitted: 200, workersReaped: 0 });
    expect(await result.delivered).toBe(true);
    expect(sink.events.filter((e) => e === 'enqueue').length).toBeGreaterThan(10);
    expect(sink.events.at(-1)).toBe('seal');
    expect(sink.events.filter((e) => e === 'seal')).toHaveLength(1);
    const packets = sink.stats.map((s) => s.streams[0]!.primaryPackets).sort((a, b) => a - b);
    expect(packets).toEqual(Array.from({ length: 40 }, (_, p) => [0, 1, 2, 3, 4].map((t) => p * 100 + t)).flat());
    expect(new Set(sink.stats.map((s) => s.id)).size).toBe(200);
    expect(sink.stats.every((s) => s.node === 'node-1' && s.analyticsKey === 'key' && s.id.startsWith('AS_'))).toBe(
      true,
    );
    expect(observer.observeFlush).toHaveBeenCalledWith(expect.any(Number), 200, 0);
  });

  it('lets other work run between its slices', async () => {
    let clock = 0;
    vi.spyOn(performance, 'now').mockImplementation(() => (clock += 10));
    const sink = new RecordingSink();
    const { scheduler } = schedulerFor(registryWith(40, 5), sink);

    // stands in for the SFU's requests: work queued behind the flush on the event loop
    let turns = 0;
    let running = true;
    const other = () => {
      turns++;
      if (running) setImmediate(other);
    };
    setImmediate(other);
    const flushing = scheduler.flush();
    await flushing;
    running = false;
    const enqueues = sink.events.filter((e) => e === 'enqueue').length;
    expect(turns).toBeGreaterThanOrEqual(enqueues - 1);
  });

  it('runs flushes one after another, each covering what was recorded before it was asked for', async () => {
    const registry = registryWith(3, 2);
    const sink = new RecordingSink();
    const { scheduler } = schedulerFor(registry, sink);
    const first = scheduler.flush();
    const second = scheduler.flush();
    const [a, b] = await Promise.all([first, second]);
    expect(a.statsEmitted).toBe(6);
    expect(b.statsEmitted).toBe(0);
    expect(sink.events.filter((e) => e === 'seal')).toHaveLength(2);
  });

  it('answers a flush only once its batches are written to the spool, without holding up the next flush', async () => {
    const registry = registryWith(2, 1);
    const sink = new RecordingSink();
    let written!: (ok: boolean) => void;
    sink.spoolWrites.push(new Promise((resolve) => (written = resolve)));
    const { scheduler } = schedulerFor(registry, sink);
    let answered = false;
    const first = scheduler.flush().then((r) => {
      answered = true;
      return r;
    });
    // the next flush runs to completion while the first one's disk write is still pending
    expect((await scheduler.flush()).statsEmitted).toBe(0);
    expect(sink.events.filter((e) => e === 'seal')).toHaveLength(2);
    expect(answered).toBe(false);
    written(true);
    expect((await first).statsEmitted).toBe(2);
  });
});
