import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { StreamType } from '../../src/core/analytics.js';
import { NdjsonFileSink } from '../../src/upstream/ndjson-sink.js';
import { SinkError, type Batch } from '../../src/upstream/sink.js';
import { scrape } from '../helpers/scrape.js';
import { unary } from '../helpers/rpc.js';
import { startTestSidecar, type TestSidecar } from '../helpers/sidecar.js';
import { FillingDisk } from '../helpers/short-write.js';
import { bothDirections, sample, stream } from '../helpers/stats.js';
import { mountTmpfs, type Tmpfs } from '../helpers/tmpfs.js';

let dir: string;
const cleanup: (() => Promise<unknown> | void)[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ndjson-sink-'));
});
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
  rmSync(dir, { recursive: true, force: true });
});

/** A line of exactly `width` bytes (newline included) carrying its sequence number. */
function line(seq: number, width = 100): string {
  const head = `{"seq":${seq},"pad":"`;
  return `${head}${'x'.repeat(width - head.length - 3)}"}\n`;
}

let batchSeq = 0;
function batchOf(from: number, count: number, width = 100): Batch {
  const payload = Buffer.from(Array.from({ length: count }, (_, i) => line(from + i, width)).join(''));
  return { id: `b${batchSeq++}`, payloads: [payload], bytes: payload.length, count };
}

/** The sequence numbers in a file; throws on any line that is not whole JSON. */
function seqs(path: string): number[] {
  if (!existsSync(path)) return [];
  const text = readFileSync(path, 'utf8');
  expect(text === '' || text.endsWith('\n'), `${path} ends mid-line`).toBe(true);
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => (JSON.parse(l) as { seq: number }).seq);
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

describe('NDJSON file sink writes', () => {
  it('counts a batch as written only when all of it is: a short write is cut back and the retry leaves each line once', async () => {
    const path = join(dir, 'stats.ndjson');
    // the second batch gets 150 of its 500 bytes out, then ENOSPC
    const disk = new FillingDisk(650);
    const sink = new NdjsonFileSink(path, { openFile: disk.open });
    await sink.send(batchOf(0, 5));
    const second = batchOf(5, 5);
    const failed = await sink.send(second).catch((err: unknown) => err);
    expect(failed).toBeInstanceOf(SinkError);
    expect(failed).toMatchObject({ retryable: true, reason: 'file_error', message: expect.stringMatching(/ENOSPC/) });
    expect(disk.writes.map((w) => w.written)).toEqual([500, 150, 0]);
    expect(seqs(path)).toEqual(range(0, 5));

    // still full: the retry fails the same way and leaves the file as it was
    await expect(sink.send(second)).rejects.toBeInstanceOf(SinkError);
    expect(seqs(path)).toEqual(range(0, 5));

    disk.free(10_000);
    await sink.send(second);
    await sink.send(batchOf(10, 2));
    await sink.close();
    expect(seqs(path)).toEqual(range(0, 12));
  });

  it('cuts a torn last line off when it opens a file (a crash mid-write), before appending', async () => {
    const path = join(dir, 'stats.ndjson');
    writeFileSync(path, line(0) + line(1) + line(2).slice(0, 40));
    const sink = new NdjsonFileSink(path);
    await sink.send(batchOf(3, 2));
    await sink.close();
    expect(seqs(path)).toEqual([0, 1, 3, 4]);
  });
});

describe('NDJSON file sink on a real full disk', () => {
  let disk: Tmpfs;
  beforeEach(() => {
    disk = mountTmpfs(join(dir, 'mnt'), 64 * 1024);
    cleanup.push(() => disk.unmount());
  });

  it('never acknowledges a short write; once space returns the file holds every batch whole, once', async () => {
    const path = join(disk.dir, 'stats.ndjson');
    const sink = new NdjsonFileSink(path);
    await sink.send(batchOf(0, 1)); // the file exists, so its first page is allocated
    disk.fill();
    // a 1000-byte line per batch: the first page has room for three more, the fourth write is short
    let next = 1;
    const acked: number[] = [0];
    let failed: Batch | undefined;
    while (!failed) {
      const b = batchOf(next, 1, 1000);
      try {
        await sink.send(b);
        acked.push(next++);
      } catch (err) {
        expect(err).toMatchObject({ retryable: true, message: expect.stringMatching(/ENOSPC/) });
        failed = b;
      }
    }
    expect(acked.length).toBeGreaterThan(1);
    expect(seqs(path)).toEqual(acked);

    disk.unfill();
    await sink.send(failed);
    await sink.send(batchOf(next + 1, 3));
    await sink.close();
    expect(seqs(path)).toEqual([...acked, next, next + 1, next + 2, next + 3]);
  });

  it('delivers every stat of a sidecar exactly once across the disk filling and emptying', async () => {
    const t: TestSidecar = await startTestSidecar(
      { SIDECAR_UPSTREAM: `file:${join(disk.dir, 'stats.ndjson')}`, SIDECAR_BATCH_MAX_STATS: '7' },
      { delivery: { retryInitialMs: 20, retryMaxMs: 100 } },
    );
    cleanup.push(() => t.close());
    const c = t.client;
    const stats = [];
    for (let p = 0; p < 60; p++) {
      await unary(c, c.Activate, { roomId: 'R', participantId: `P${p}`, guardId: 'g' });
      stats.push({
        roomId: 'R',
        participantId: `P${p}`,
        trackId: 'T',
        kind: StreamType.UPSTREAM,
        stat: sample({ streams: [stream({ primaryPackets: p })] }),
      });
    }
    // room for a few batches only: some are written, one is cut short, the rest wait
    disk.fill(8 * 1024);
    await unary(c, c.TrackStats, { stats });
    expect((await unary(c, c.Flush, {})).statsEmitted).toBe(60);
    await vi.waitFor(
      async () =>
        expect(
          (await scrape(t.sidecar.httpPort)).value('telemetry_sidecar_upstream_stats_total', { result: 'retried' }),
        ).toBeGreaterThan(0),
      { timeout: 10_000 },
    );
    disk.unfill();
    await vi.waitFor(
      async () => expect((await scrape(t.sidecar.httpPort)).value('telemetry_sidecar_upstream_queue_stats')).toBe(0),
      { timeout: 10_000 },
    );
    const lines = readFileSync(join(disk.dir, 'stats.ndjson'), 'utf8').split('\n');
    expect(lines.pop()).toBe('');
    const delivered = lines.map((l) => JSON.parse(l) as { id: string; participantId: string });
    expect(delivered).toHaveLength(60);
    expect(new Set(delivered.map((s) => s.id)).size).toBe(60);
    expect(new Set(delivered.map((s) => s.participantId)).size).toBe(60);
    expect(
      (await scrape(t.sidecar.httpPort)).value('telemetry_sidecar_upstream_stats_total', { result: 'delivered' }),
    ).toBe(60);
  });
});

describe('NDJSON file rotation', () => {
  it('rotates on batch boundaries, keeps max_files rotated files, removes the oldest and reports its stats', async () => {
    const path = join(dir, 'stats.ndjson');
    const rotatedAway: number[] = [];
    // 3-line batches of 300 bytes: three fit in 1000 bytes, the fourth starts a new file
    const sink = new NdjsonFileSink(path, { maxBytes: 1000, maxFiles: 2, rotatedAway: (n) => rotatedAway.push(n) });
    for (let b = 0; b < 20; b++) await sink.send(batchOf(b * 3, 3));
    await sink.close();
    expect(readdirSync(dir).sort()).toEqual(['stats.ndjson', 'stats.ndjson.1', 'stats.ndjson.2']);
    // oldest to newest, contiguous: nothing lost on disk between the files, no line split
    const onDisk = [...seqs(`${path}.2`), ...seqs(`${path}.1`), ...seqs(path)];
    expect(onDisk).toEqual(range(60 - onDisk.length, 60));
    expect(seqs(`${path}.2`)).toHaveLength(9);
    expect(seqs(`${path}.1`)).toHaveLength(9);
    expect(seqs(path)).toHaveLength(6);
    expect(rotatedAway).toEqual([9, 9, 9, 9]);
    expect(rotatedAway.reduce((a, b) => a + b, 0) + onDisk.length).toBe(60);
  });

  it('counts the stats of rotated files it found at start when it removes them', async () => {
    const path = join(dir, 'stats.ndjson');
    const first = new NdjsonFileSink(path, { maxBytes: 1000, maxFiles: 2 });
    // 2-line batches of 200 bytes, five to a file: .2 holds batches 0-4, .1 5-9, the current file 10-11
    for (let b = 0; b < 12; b++) await first.send(batchOf(b * 2, 2));
    await first.close();
    const before = { two: seqs(`${path}.2`).length, one: seqs(`${path}.1`).length, current: seqs(path).length };
    expect(before.two).toBeGreaterThan(0);
    const rotatedAway: number[] = [];
    const second = new NdjsonFileSink(path, { maxBytes: 1000, maxFiles: 2, rotatedAway: (n) => rotatedAway.push(n) });
    for (let b = 12; b < 32; b++) await second.send(batchOf(b * 2, 2));
    await second.close();
    expect(before).toEqual({ two: 10, one: 10, current: 4 });
    const onDisk = [...seqs(`${path}.2`), ...seqs(`${path}.1`), ...seqs(path)];
    expect(onDisk).toEqual(range(64 - onDisk.length, 64));
    expect(rotatedAway).toEqual([10, 10, 10, 10]);
    expect(rotatedAway.reduce((a, b) => a + b, 0) + onDisk.length).toBe(64);
  });

  it('counts files larger than its read buffer exactly, lines across reads included, and cuts a torn line at its byte', async () => {
    const path = join(dir, 'stats.ndjson');
    // lines of 97 bytes never end on a 256 KiB boundary; both files span several reads
    const lines = (from: number, n: number) => Array.from({ length: n }, (_, i) => line(from + i, 97)).join('');
    writeFileSync(`${path}.1`, lines(0, 9000));
    writeFileSync(path, lines(9000, 7000) + line(16000, 97).slice(0, 50));
    const rotatedAway: number[] = [];
    const sink = new NdjsonFileSink(path, { maxBytes: 680_000, maxFiles: 1, rotatedAway: (n) => rotatedAway.push(n) });
    await sink.send(batchOf(16000, 1, 97));
    expect(seqs(path)).toEqual(range(9000, 16001));
    await sink.send(batchOf(16001, 100, 97));
    await sink.close();
    expect(rotatedAway).toEqual([9000]);
    expect(seqs(`${path}.1`)).toEqual(range(9000, 16001));
    expect(seqs(path)).toEqual(range(16001, 16101));
  });

  it('counts the rotated files it found when prepared at start, before its first send', async () => {
    const path = join(dir, 'stats.ndjson');
    writeFileSync(`${path}.1`, line(0) + line(1) + line(2));
    writeFileSync(path, line(3));
    const rotatedAway: number[] = [];
    const sink = new NdjsonFileSink(path, { maxBytes: 250, maxFiles: 1, rotatedAway: (n) => rotatedAway.push(n) });
    await sink.prepare();
    // what the file holds once counted no longer matters: its stats were counted at start
    writeFileSync(`${path}.1`, line(0));
    await sink.send(batchOf(4, 2));
    await sink.close();
    expect(rotatedAway).toEqual([3]);
    expect([seqs(`${path}.1`), seqs(path)]).toEqual([[3], [4, 5]]);
  });

  it('opens its file once when prepared while the first batch is sent', async () => {
    const path = join(dir, 'stats.ndjson');
    writeFileSync(path, line(0) + line(1).slice(0, 30));
    const opened: string[] = [];
    const sink = new NdjsonFileSink(path, {
      openFile: async (p, flags) => {
        opened.push(p);
        return (await import('../../src/upstream/durable-file.js')).openFile(p, flags);
      },
    });
    await Promise.all([sink.prepare(), sink.send(batchOf(1, 2))]);
    await sink.close();
    expect(opened).toEqual([path]);
    expect(seqs(path)).toEqual([0, 1, 2]);
  });

  it('writes a batch larger than the bound to a file of its own', async () => {
    const path = join(dir, 'stats.ndjson');
    const sink = new NdjsonFileSink(path, { maxBytes: 250, maxFiles: 3 });
    await sink.send(batchOf(0, 1));
    await sink.send(batchOf(1, 5));
    await sink.send(batchOf(6, 1));
    await sink.close();
    expect([seqs(`${path}.2`), seqs(`${path}.1`), seqs(path)]).toEqual([[0], [1, 2, 3, 4, 5], [6]]);
    expect(sink.maxBatchBytes).toBe(250);
  });

  it('counts rotated-away stats in stats_dropped_total{reason="file_rotated"} in a running sidecar', async () => {
    // a flush's two stats make a batch of about 500 bytes: two batches to a file
    const t = await startTestSidecar({ SIDECAR_FILE_MAX_BYTES: '1200', SIDECAR_FILE_MAX_FILES: '1' });
    cleanup.push(() => t.close());
    const c = t.client;
    const rounds = 10;
    for (let round = 0; round < rounds; round++) {
      await unary(c, c.Activate, { roomId: 'R', participantId: `P${round}`, guardId: 'g' });
      await unary(c, c.TrackStats, { stats: bothDirections(sample(), `P${round}`) });
      expect(await unary(c, c.Flush, { waitDelivered: true })).toMatchObject({ statsEmitted: 2, delivered: true });
    }
    const kept = t.delivered().length + seqLines(`${t.ndjson}.1`);
    const rotated = (await scrape(t.sidecar.httpPort)).value('telemetry_sidecar_stats_dropped_total', {
      reason: 'file_rotated',
    });
    expect(seqLines(`${t.ndjson}.1`)).toBeGreaterThan(0);
    expect(kept).toBeLessThan(2 * rounds);
    expect(rotated).toBe(2 * rounds - kept);
  });
});

function seqLines(path: string): number {
  return existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter(Boolean).length : 0;
}
