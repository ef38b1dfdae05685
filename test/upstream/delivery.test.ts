import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { emptyStream, type AnalyticsStat } from '../../src/core/analytics.js';
import { TrackAggregate } from '../../src/core/coalesce.js';
import { Backoff } from '../../src/upstream/backoff.js';
import { Delivery, STALLED_MS } from '../../src/upstream/delivery.js';
import { openFile, type OpenFile } from '../../src/upstream/durable-file.js';
import { NdjsonFileSink } from '../../src/upstream/ndjson-sink.js';
import { SinkError, type Batch, type Sink } from '../../src/upstream/sink.js';
import { copyInto } from '../helpers/encode.js';
import { Spool } from '../../src/upstream/spool.js';
import { FillingDisk } from '../helpers/short-write.js';
import { recordingDeliveryMetrics } from '../helpers/delivery-metrics.js';

const WIDTH = 10;

/** A sink whose sends the test settles by hand, one at a time, in order. */
class ScriptedSink implements Sink {
  readonly description = 'scripted';
  readonly format = 'test';
  readonly maxBatchBytes = 1_000_000;
  readonly sent: string[][] = [];
  private pending: { resolve: () => void; reject: (e: Error) => void }[] = [];

  /** Fixed-width encodings, so a batch splits back into its stats. */
  encodeInto(stat: AnalyticsStat, into: Buffer, at: number): number {
    return copyInto(Buffer.from(stat.trackId.padEnd(WIDTH, '.')), into, at);
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

const recorder = recordingDeliveryMetrics;

const silent = pino({ level: 'silent' });
afterEach(() => vi.useRealTimers());

describe('Delivery', () => {
  it('cuts batches of at most batch_max_stats and resolves the flush once all are acked', async () => {
    const sink = new ScriptedSink();
    const { counts, metrics } = recorder();
    const d = new Delivery(sink, { batchMaxStats: 2, queueMaxBytes: 1e9 }, metrics, silent);
    d.enqueue(stats('a', 'b', 'c'));
    d.enqueue(stats('d', 'e'));
    const done = d.seal().delivered;
    expect(d.queuedStats).toBe(5);
    for (let i = 0; i < 3; i++) await sink.settle();
    expect(await done).toBe(true);
    expect(sink.sent).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
    expect(counts).toEqual({ delivered: 5 });
    expect(d.queuedStats).toBe(0);
  });

  it('resolves an empty flush at once', async () => {
    const d = new Delivery(new ScriptedSink(), { batchMaxStats: 2, queueMaxBytes: 1e9 }, recorder().metrics, silent);
    expect(await d.seal().delivered).toBe(true);
  });

  it('drops the oldest queued batches past the byte bound, never the one being sent, and counts them', async () => {
    const sink = new ScriptedSink();
    const { counts, metrics } = recorder();
    // each stat encodes to 10 bytes; the bound holds three of them
    const d = new Delivery(sink, { batchMaxStats: 1, queueMaxBytes: 30 }, metrics, silent);
    d.enqueue(stats('a'));
    const first = d.seal().delivered; // 'a' goes out and stays in flight
    d.enqueue(stats('b', 'c', 'd', 'e'));
    const second = d.seal().delivered;
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
    const done = d.seal().delivered;
    await sink.settle(SinkError.transient('unavailable', 'unavailable'));
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
    const done = d.seal().delivered;
    await sink.settle(SinkError.permanent('denied', 'permission_denied'));
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

/** A sink that answers at once; `fate` decides per attempt (undefined: accepted). */
class AnsweringSink implements Sink {
  readonly description = 'answering';
  readonly format = 'test';
  readonly maxBatchBytes = 1_000_000;
  readonly attempts: { id: string; tracks: string[] }[] = [];
  readonly delivered: string[] = [];

  constructor(private readonly fate: (tracks: string[], attempt: number) => Error | undefined = () => undefined) {}

  encodeInto(stat: AnalyticsStat, into: Buffer, at: number): number {
    return copyInto(Buffer.from(stat.trackId.padEnd(WIDTH, '.')), into, at);
  }
  async send(batch: Batch): Promise<void> {
    const bytes = Buffer.concat(batch.payloads).toString();
    const tracks = [];
    for (let at = 0; at < bytes.length; at += WIDTH) tracks.push(bytes.slice(at, at + WIDTH).replace(/\.+$/, ''));
    this.attempts.push({ id: batch.id, tracks });
    const error = this.fate(tracks, this.attempts.length - 1);
    if (error) throw error;
    this.delivered.push(...tracks);
  }
  async close(): Promise<void> {}
}

const internal = () => SinkError.transient('IngestStats: boom (INTERNAL)', 'internal');
const unavailable = () => SinkError.transient('IngestStats: connection refused (UNAVAILABLE)', 'unavailable');
/** Retries at once: these tests are about which batch is tried, not when. */
const immediate = () => new Backoff(0, 0);

function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const logger = pino(
    { level: 'debug' },
    new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
        done();
      },
    }),
  );
  return { logger, lines, messages: () => lines.map((l) => l.msg) };
}

describe('Delivery batch ids', () => {
  it('fixes an id when a batch is cut and keeps it on every retry; ids differ across instances', async () => {
    const sink = new AnsweringSink((_t, attempt) => (attempt < 2 ? unavailable() : undefined));
    const d = new Delivery(
      sink,
      { batchMaxStats: 2, queueMaxBytes: 1e9, backoff: immediate() },
      recorder().metrics,
      silent,
    );
    d.enqueue(stats('a', 'b', 'c'));
    expect(await d.seal().delivered).toBe(true);
    const byTracks = new Map<string, Set<string>>();
    for (const a of sink.attempts)
      byTracks.set(a.tracks.join(), (byTracks.get(a.tracks.join()) ?? new Set()).add(a.id));
    expect([...byTracks.keys()].sort()).toEqual(['a,b', 'c']);
    expect([...byTracks.values()].map((ids) => ids.size)).toEqual([1, 1]);
    const ids = [...byTracks.values()].map((v) => [...v][0]!);
    expect(new Set(ids).size).toBe(2);

    const other = new AnsweringSink();
    const d2 = new Delivery(other, { batchMaxStats: 2, queueMaxBytes: 1e9 }, recorder().metrics, silent);
    d2.enqueue(stats('a', 'b'));
    await d2.seal().delivered;
    expect(ids).not.toContain(other.attempts[0]!.id);
  });
});

describe('Delivery with a batch that keeps failing', () => {
  it('keeps delivering the batches behind it', async () => {
    const sink = new AnsweringSink((tracks) => (tracks.includes('poison') ? internal() : undefined));
    const d = new Delivery(
      sink,
      { batchMaxStats: 1, queueMaxBytes: 1e9, backoff: immediate(), quarantineStrikes: 1000 },
      recorder().metrics,
      silent,
    );
    d.enqueue(stats('poison', 'a', 'b', 'c'));
    const flush = d.seal();
    await vi.waitFor(() => expect(sink.delivered).toEqual(['a', 'b', 'c']));
    expect(d.queuedStats).toBe(1);
    let settled = false;
    void flush.delivered.then(() => (settled = true));
    await vi.waitFor(() => expect(sink.attempts.filter((a) => a.tracks[0] === 'poison').length).toBeGreaterThan(3));
    expect(settled).toBe(false);
  });

  it('quarantines it once the upstream refused it repeatedly while accepting others, and counts its stats', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'delivery-quarantine-'));
    try {
      const { spool } = await Spool.open(dir, { format: 'test', newId: () => 'x', quarantineMaxBytes: 1 << 20 });
      const { counts, metrics } = recorder();
      let flushes = 0;
      // every failure of the poison batch is followed by a new flush of healthy stats, as a live SFU sends
      const sink: AnsweringSink = new AnsweringSink((tracks) => {
        if (!tracks.includes('poison')) return undefined;
        d.enqueue(stats(`ok${flushes++}`));
        d.seal();
        return internal();
      });
      const d = new Delivery(
        sink,
        { batchMaxStats: 1, queueMaxBytes: 1e9, backoff: immediate(), quarantineStrikes: 3, spool },
        metrics,
        silent,
      );
      d.enqueue(stats('poison'));
      const poisoned = d.seal();
      expect(await poisoned.delivered).toBe(false);
      // three strikes: failures after the upstream had accepted another batch since the previous one
      expect(sink.attempts.filter((a) => a.tracks[0] === 'poison')).toHaveLength(4);
      expect(counts['dropped:quarantined']).toBe(1);
      expect(counts.dropped).toBe(1);
      await vi.waitFor(() => expect(sink.delivered).toEqual(['ok0', 'ok1', 'ok2', 'ok3']));
      // settled at once, moved just after
      await vi.waitFor(() => expect(readdirSync(join(dir, 'quarantine'))).toEqual(['0000000000000001-1.batch']));
      await vi.waitFor(() => expect(readdirSync(dir).filter((f) => f.endsWith('.batch'))).toEqual([]));
      expect(d.queuedStats).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('never quarantines while the upstream accepts nothing, and delivers everything once it is back', async () => {
    let down = true;
    const sink = new AnsweringSink((_t, attempt) => {
      if (attempt === 200) down = false;
      return down ? (attempt % 2 ? internal() : unavailable()) : undefined;
    });
    const { counts, metrics } = recorder();
    const d = new Delivery(
      sink,
      { batchMaxStats: 1, queueMaxBytes: 1e9, backoff: immediate(), quarantineStrikes: 1 },
      metrics,
      silent,
    );
    d.enqueue(stats('a', 'b', 'c', 'd', 'e'));
    expect(await d.seal().delivered).toBe(true);
    expect(sink.delivered.sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(counts['dropped:quarantined']).toBeUndefined();
    expect(sink.attempts.length).toBeGreaterThan(200);
  });
});

describe('Delivery upstream state', () => {
  it('logs going down and coming back once each, with counts and duration, and sets the up gauge', async () => {
    const { logger, lines, messages } = capturingLogger();
    const sink = new AnsweringSink((_t, attempt) => (attempt < 5 ? unavailable() : undefined));
    const { metrics, up } = recorder();
    const d = new Delivery(sink, { batchMaxStats: 1, queueMaxBytes: 1e9, backoff: immediate() }, metrics, logger);
    d.enqueue(stats('a', 'b'));
    expect(await d.seal().delivered).toBe(true);
    expect(up).toEqual([false, true]);
    const warnOrAbove = lines.filter((l) => l.level !== 20);
    expect(warnOrAbove.map((l) => l.msg)).toEqual(['upstream failing', 'upstream recovered']);
    expect(lines.find((l) => l.msg === 'upstream failing')).toMatchObject({ sink: 'answering' });
    expect(lines.find((l) => l.msg === 'upstream recovered')).toMatchObject({
      failures: 5,
      failingMs: expect.any(Number),
    });
    expect(messages().filter((m) => m === 'upstream still failing')).toHaveLength(4);
  });

  it('marks the upstream failing while a send has not answered for STALLED_MS, without sending it again', async () => {
    vi.useFakeTimers();
    const { logger, lines } = capturingLogger();
    const sink = new ScriptedSink();
    const { counts, metrics, up } = recorder();
    const d = new Delivery(sink, { batchMaxStats: 10, queueMaxBytes: 1e9 }, metrics, logger);
    d.enqueue(stats('a', 'b'));
    const done = d.seal().delivered;
    await vi.advanceTimersByTimeAsync(STALLED_MS - 1);
    expect(up).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(up).toEqual([false]);
    expect(lines.find((l) => l.msg === 'upstream failing')).toMatchObject({
      error: 'a send of 2 stats has not completed after 60 s',
      queuedStats: 2,
    });
    // two more minutes on it answers: delivered once, and the upstream is back
    await vi.advanceTimersByTimeAsync(2 * STALLED_MS);
    expect(sink.sent).toHaveLength(1);
    await sink.settle();
    expect(await done).toBe(true);
    expect(up).toEqual([false, true]);
    expect(counts).toEqual({ delivered: 2 });
    expect(lines.find((l) => l.msg === 'upstream recovered')).toMatchObject({ failures: 1 });
  });

  it('marks the spool failing while a spool write has not completed for STALLED_MS (a stuck disk)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'delivery-stuck-disk-'));
    try {
      let release!: () => void;
      const unstuck = new Promise<void>((resolve) => (release = resolve));
      const stuck: OpenFile = async (path, flags) => {
        const file = await openFile(path, flags);
        if (!path.endsWith('.tmp')) return file;
        return {
          write: async (buffer, offset, length) => (await unstuck, file.write(buffer, offset, length)),
          datasync: () => file.datasync(),
          truncate: (length) => file.truncate(length),
          stat: () => file.stat(),
          close: () => file.close(),
        };
      };
      const { spool } = await Spool.open(dir, {
        format: 'test',
        newId: () => 'x',
        quarantineMaxBytes: 1 << 20,
        openFile: stuck,
      });
      vi.useFakeTimers();
      const { logger, lines } = capturingLogger();
      const sink = new ScriptedSink();
      const { metrics, up } = recorder();
      const d = new Delivery(sink, { batchMaxStats: 10, queueMaxBytes: 1e9, spool }, metrics, logger);
      d.enqueue(stats('a'));
      const { delivered, spooled } = d.seal();
      await vi.advanceTimersByTimeAsync(STALLED_MS);
      expect(lines.find((l) => l.msg === 'spool writes failing')).toMatchObject({
        error: 'a spool write of 1 stats has not completed after 60 s',
      });
      // the upstream was never asked: its state is untouched
      expect(sink.sent).toEqual([]);
      expect(up).toEqual([]);
      vi.useRealTimers();
      release();
      expect(await spooled).toBe(true);
      await sink.settle();
      expect(await delivered).toBe(true);
      expect(lines.find((l) => l.msg === 'spool writes recovered')).toMatchObject({ failures: 1 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('Delivery drain with a spool', () => {
  it('counts as lost only the stats it could not spool, and records them for the next start', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'delivery-drain-'));
    try {
      // room for three records of this size, then the disk is full
      const disk = new FillingDisk(3 * 150, (path) => path.endsWith('.tmp'));
      const open = () =>
        Spool.open(dir, { format: 'test', newId: () => 'x', quarantineMaxBytes: 1 << 20, openFile: disk.open });
      const { spool } = await open();
      const { counts, metrics } = recorder();
      const { logger, lines } = capturingLogger();
      const d = new Delivery(
        new AnsweringSink(() => unavailable()),
        { batchMaxStats: 4, queueMaxBytes: 1e9, spool, backoff: new Backoff(60_000, 60_000) },
        metrics,
        logger,
      );
      const written = [];
      for (let flush = 0; flush < 5; flush++) {
        d.enqueue(stats(...[0, 1, 2, 3].map((i) => `t${flush}.${i}`)));
        written.push(await d.seal().spooled);
      }
      expect(written).toEqual([true, true, true, false, false]);
      expect(counts.spool_write_errors).toBe(2);
      const result = await d.drain(0);
      expect(result).toMatchObject({
        drained: false,
        remainingStats: 20,
        spooledStats: 12,
        lostStats: 8,
        spooled: false,
      });
      expect(counts['dropped:shutdown']).toBe(8);
      expect(counts.spool_write_errors).toBe(4);
      expect(lines.filter((l) => l.msg === 'spool writes failing')).toHaveLength(1);
      expect(lines.find((l) => l.msg === 'shutdown timeout: stats not delivered upstream are lost')).toMatchObject({
        statsLost: 8,
        reason: 'shutdown',
      });
      const next = await open();
      expect(next.restored.reduce((n, b) => n + b.count, 0)).toBe(12);
      expect(next.shutdownLosses).toBe(8);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('spools at shutdown a batch whose earlier write failed once space has returned', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'delivery-drain-'));
    try {
      const disk = new FillingDisk(0, (path) => path.endsWith('.tmp'));
      const { spool } = await Spool.open(dir, {
        format: 'test',
        newId: () => 'x',
        quarantineMaxBytes: 1 << 20,
        openFile: disk.open,
      });
      const { counts, metrics } = recorder();
      const d = new Delivery(
        new AnsweringSink(() => unavailable()),
        { batchMaxStats: 4, queueMaxBytes: 1e9, spool, backoff: new Backoff(60_000, 60_000) },
        metrics,
        silent,
      );
      d.enqueue(stats('a', 'b'));
      expect(await d.seal().spooled).toBe(false);
      disk.free(1 << 20);
      const result = await d.drain(0);
      expect(result).toMatchObject({ remainingStats: 2, spooledStats: 2, lostStats: 0, spooled: true });
      expect(counts['dropped:shutdown']).toBeUndefined();
      expect(readdirSync(dir).filter((f) => f.endsWith('.batch'))).toHaveLength(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('Delivery of a stat the sink cannot encode', () => {
  it('drops and counts it, delivers the rest, and reports the flush not delivered', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'unencodable-'));
    try {
      const path = join(dir, 'stats.ndjson');
      const sink = new NdjsonFileSink(path);
      const { counts, metrics } = recorder();
      const lines: string[] = [];
      const logger = pino(
        { level: 'warn' },
        new Writable({ write: (chunk: Buffer, _e, done) => (lines.push(chunk.toString()), done()) }),
      );
      const delivery = new Delivery(sink, { batchMaxStats: 10, queueMaxBytes: 1e9 }, metrics, logger);
      // year 10000: no protobuf-JSON form (RFC 3339 has four-digit years)
      const late = { ...emptyStream(), endTime: { seconds: 253_402_300_800, nanos: 0 } };
      const [a, b, c] = stats('a', 'b', 'c');
      delivery.enqueue([a!, { ...b!, streams: [late] }, c!, { ...c!, trackId: 'd', streams: [late] }]);
      expect(await delivery.seal().delivered).toBe(false);
      expect(counts).toMatchObject({ delivered: 2, 'dropped:unencodable': 2 });
      const written = readFileSync(path, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { trackId: string });
      expect(written.map((s) => s.trackId)).toEqual(['a', 'c']);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain('a stat the sink cannot encode was dropped');
      await sink.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
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
