import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { OpenFile } from '../../src/upstream/durable-file.js';
import { Spool, SpoolDirError, type SpoolOpenOptions } from '../../src/upstream/spool.js';
import { shortWritesAfter } from '../helpers/short-write.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'spool-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

let nextId = 0;
const options = (format = 'protobuf', extra: Partial<SpoolOpenOptions> = {}): SpoolOpenOptions => ({
  format,
  newId: () => `new-${nextId++}`,
  quarantineMaxBytes: 1 << 20,
  ...extra,
});
const batch = (id: string, count: number, body = `body-of-${id}`) => {
  const payload = Buffer.from(body);
  return { id, payloads: [payload], bytes: payload.length, count };
};
const text = (payloads: Uint8Array[]) => Buffer.concat(payloads).toString();
const records = () => readdirSync(dir).filter((f) => f.endsWith('.batch'));

/** A record as version 1 of the format wrote it: "TSB1" | u32 n | JSON header | u32 CRC | (u32 len, payload)*. */
function v1Record(format: string, count: number, payloads: string[]): Buffer {
  const u32 = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    return b;
  };
  const header = Buffer.from(JSON.stringify({ format, count }));
  const body = Buffer.concat(payloads.flatMap((p) => [u32(p.length), Buffer.from(p)]));
  return Buffer.concat([Buffer.from('TSB1'), u32(header.length), header, u32(crc32(body, crc32(header))), body]);
}

describe('Spool', () => {
  it('replays written batches in order with their ids, bodies and counts', async () => {
    const { spool } = await Spool.open(dir, options());
    await spool.write(batch('b-1', 2));
    await spool.write({ id: 'b-2', payloads: [Buffer.from('x'), Buffer.from('yz')], bytes: 3, count: 1 });
    const { restored, dropped, unreadable } = await Spool.open(dir, options());
    expect(restored.map((b) => [b.id, text(b.payloads), b.count, b.bytes])).toEqual([
      ['b-1', 'body-of-b-1', 2, 11],
      ['b-2', 'xyz', 1, 3],
    ]);
    expect(dropped).toEqual({
      spool_corrupt: { records: 0, stats: 0 },
      spool_sink_changed: { records: 0, stats: 0 },
      queue_full: { records: 0, stats: 0 },
    });
    expect(unreadable).toBe(0);
  });

  it('names a record by its sequence and stat count, numbering after what it found (quarantine included)', async () => {
    const first = await Spool.open(dir, options('ndjson'));
    await first.spool.write(batch('a', 3));
    const q = await first.spool.quarantine(batch('q', 1), await first.spool.write(batch('q', 1)));
    expect(q).toBe(join(dir, 'quarantine', '0000000000000002-1.batch'));
    const second = await Spool.open(dir, options('ndjson'));
    expect(second.restored.map((b) => b.file)).toEqual([join(dir, '0000000000000001-3.batch')]);
    expect(await second.spool.write(batch('b', 7))).toBe(join(dir, '0000000000000003-7.batch'));
  });

  it('removes a record once acknowledged', async () => {
    const { spool } = await Spool.open(dir, options('ndjson'));
    const file = await spool.write(batch('a', 1));
    await spool.remove(file);
    expect(records()).toEqual([]);
  });

  it('leaves no record behind a short write (disk full): the write rejects and the temporary file goes', async () => {
    const real = await Spool.open(dir, options());
    await real.spool.write(batch('before', 1));
    // the next record's 100-byte header gets out, then 50 of its 500-byte body, then ENOSPC
    const { spool } = await Spool.open(dir, options('protobuf', { openFile: shortWritesAfter(150) }));
    await expect(spool.write(batch('torn', 5, 'x'.repeat(500)))).rejects.toMatchObject({ code: 'ENOSPC' });
    expect(readdirSync(dir).filter((f) => f.includes('.batch'))).toEqual(['0000000000000001-1.batch']);
    const again = await Spool.open(dir, options());
    expect(again.restored.map((b) => b.id)).toEqual(['before']);
    expect(again.dropped.spool_corrupt).toEqual({ records: 0, stats: 0 });
  });

  /**
   * Every way a record can be damaged: the intact record beside it is always
   * replayed, and the damaged one's stats are counted exactly (from its
   * checksummed header, else from its name) or, when neither is left, the
   * record is counted as unreadable.
   */
  describe.each([
    {
      damage: 'a torn header',
      harm: (file: string) => writeFileSync(file, readFileSync(file).subarray(0, 40)),
      corrupt: 10,
    },
    { damage: 'an empty file', harm: (file: string) => writeFileSync(file, ''), corrupt: 10 },
    {
      damage: 'bad magic',
      harm: (file: string) => flip(file, 0, 0x20),
      corrupt: 10,
    },
    {
      // 10 = 0x0a; flipping a bit of the count's low byte must not read as 90 or 11
      damage: 'a flipped count byte',
      harm: (file: string) => flip(file, 11, 0x50),
      corrupt: 10,
    },
    { damage: 'a flipped body byte', harm: (file: string) => flip(file, -1, 0x01), corrupt: 10 },
    {
      damage: 'a torn body',
      harm: (file: string) => writeFileSync(file, readFileSync(file).subarray(0, 120)),
      corrupt: 10,
    },
  ])('a record with $damage', ({ harm, corrupt }) => {
    it('is dropped, its stats counted once, and the intact record replayed', async () => {
      const { spool } = await Spool.open(dir, options());
      const damaged = await spool.write(batch('damaged', 10, 'y'.repeat(300)));
      await spool.write(batch('intact', 4));
      harm(damaged);
      const opened = await Spool.open(dir, options());
      expect(opened.restored.map((b) => b.id)).toEqual(['intact']);
      expect(opened.dropped.spool_corrupt).toEqual({ records: 1, stats: corrupt });
      expect(opened.unreadable).toBe(0);
      expect(opened.examples).toHaveLength(1);
      expect(records()).toEqual(['0000000000000002-4.batch']);
      // counted once: the next start finds nothing more
      expect((await Spool.open(dir, options())).dropped.spool_corrupt.records).toBe(0);
    });
  });

  it('counts a damaged record with no count in its name as unreadable: its stats are unknown', async () => {
    const { spool } = await Spool.open(dir, options());
    writeFileSync(join(dir, 'stray.batch'), 'garbage');
    const damaged = await spool.write(batch('damaged', 10));
    flip(damaged, 11, 0x50);
    const bare = join(dir, '0000000000000009.batch');
    writeFileSync(bare, readFileSync(damaged));
    rmSync(damaged);
    const opened = await Spool.open(dir, options());
    expect(opened.unreadable).toBe(2);
    expect(opened.dropped.spool_corrupt).toEqual({ records: 0, stats: 0 });
    expect(records()).toEqual([]);
  });

  it('leaves alone a directory named like a record, and still replays the intact records', async () => {
    const { spool } = await Spool.open(dir, options());
    await spool.write(batch('a', 1));
    mkdirSync(join(dir, '0000000000000005-3.batch'));
    await spool.write(batch('b', 2));
    const opened = await Spool.open(dir, options());
    expect(opened.restored.map((b) => b.id)).toEqual(['a', 'b']);
    expect(opened.foreign).toEqual([join(dir, '0000000000000005-3.batch')]);
    expect(opened.unreadable).toBe(0);
    expect(statSync(join(dir, '0000000000000005-3.batch')).isDirectory()).toBe(true);
    // numbered after it, so nothing collides with it
    expect(await opened.spool.write(batch('c', 1))).toBe(join(dir, '0000000000000006-1.batch'));
  });

  it('counts an intact record written for another sink as spool_sink_changed and does not replay it', async () => {
    const { spool } = await Spool.open(dir, options('ndjson'));
    await spool.write(batch('ndjson-batch', 10));
    const opened = await Spool.open(dir, options('protobuf'));
    expect(opened.restored).toEqual([]);
    expect(opened.dropped.spool_sink_changed).toEqual({ records: 1, stats: 10 });
    expect(records()).toEqual([]);
  });

  it('replays an intact record of the old format (version 1) under a new id', async () => {
    writeFileSync(join(dir, '0000000000000003.batch'), v1Record('protobuf', 2, ['ab', 'cd']));
    const opened = await Spool.open(dir, options());
    expect(opened.restored.map((b) => [b.id.startsWith('new-'), text(b.payloads), b.count])).toEqual([
      [true, 'abcd', 2],
    ]);
    expect(await opened.spool.write(batch('next', 1))).toBe(join(dir, '0000000000000004-1.batch'));
  });

  it('counts a damaged record of the old format as unreadable (its count was not checksummed apart)', async () => {
    const record = v1Record('protobuf', 2, ['ab', 'cd']);
    record[record.length - 1] = record[record.length - 1]! ^ 0xff;
    writeFileSync(join(dir, '0000000000000003.batch'), record);
    const opened = await Spool.open(dir, options());
    expect(opened.restored).toEqual([]);
    expect(opened.unreadable).toBe(1);
  });

  it('replays a record that was synced but not yet renamed, and counts a torn temporary one from its name', async () => {
    const { spool } = await Spool.open(dir, options());
    const whole = await spool.write(batch('whole', 3));
    const torn = await spool.write(batch('torn', 6));
    writeFileSync(`${whole}.tmp`, readFileSync(whole));
    rmSync(whole);
    writeFileSync(`${torn}.tmp`, readFileSync(torn).subarray(0, 30));
    rmSync(torn);
    const opened = await Spool.open(dir, options());
    expect(opened.restored.map((b) => b.id)).toEqual(['whole']);
    expect(opened.dropped.spool_corrupt).toEqual({ records: 1, stats: 6 });
  });

  it('keeps quarantined records within their bound, deleting the oldest', async () => {
    // each record occupies one 4 KiB block: the bound holds two
    const { spool } = await Spool.open(dir, options('protobuf', { quarantineMaxBytes: 2 * 4096 }));
    const kept: (string | undefined)[] = [];
    for (const id of ['q1', 'q2', 'q3'])
      kept.push(await spool.quarantine(batch(id, 1), await spool.write(batch(id, 1))));
    expect(readdirSync(join(dir, 'quarantine')).sort()).toEqual([
      '0000000000000002-1.batch',
      '0000000000000003-1.batch',
    ]);
    expect(kept.every((k) => k !== undefined)).toBe(true);
    expect(records()).toEqual([]);
    // a batch held in memory only is written straight into the quarantine
    await spool.quarantine(batch('q4', 1), undefined);
    expect(readdirSync(join(dir, 'quarantine')).sort()).toEqual([
      '0000000000000003-1.batch',
      '0000000000000004-1.batch',
    ]);
    // the bound holds across restarts: what is there counts
    const reopened = await Spool.open(dir, options('protobuf', { quarantineMaxBytes: 2 * 4096 }));
    await reopened.spool.quarantine(batch('q5', 1), undefined);
    expect(readdirSync(join(dir, 'quarantine')).sort()).toEqual([
      '0000000000000004-1.batch',
      '0000000000000005-1.batch',
    ]);
    expect(reopened.restored).toEqual([]);
  });

  it('reads at start only the newest records within the queue bound, and counts the older ones as queue_full unread', async () => {
    const { spool } = await Spool.open(dir, options());
    const files = [];
    for (let i = 1; i <= 5; i++) files.push(await spool.write(batch(`b${i}`, i)));
    // the oldest is damaged too: it is not read, so it counts as over the bound, not as corrupt
    flip(files[0]!, -1, 0x01);
    // each record occupies one 4 KiB block: three fit
    const opened = await Spool.open(dir, options('protobuf', { maxBytes: 3 * 4096 }));
    expect(opened.restored.map((b) => b.id)).toEqual(['b3', 'b4', 'b5']);
    expect(opened.dropped.queue_full).toEqual({ records: 2, stats: 1 + 2 });
    expect(opened.dropped.spool_corrupt).toEqual({ records: 0, stats: 0 });
    expect(records()).toEqual(['0000000000000003-3.batch', '0000000000000004-4.batch', '0000000000000005-5.batch']);
  });

  it('carries the stats lost at shutdown to the next start, once', async () => {
    const { spool } = await Spool.open(dir, options());
    await spool.recordShutdownLosses(7);
    await spool.recordShutdownLosses(5);
    expect((await Spool.open(dir, options())).shutdownLosses).toBe(12);
    expect((await Spool.open(dir, options())).shutdownLosses).toBe(0);
  });

  it('refuses a path that cannot be a directory, naming it', async () => {
    const file = join(dir, 'plain-file');
    writeFileSync(file, '');
    await expect(Spool.open(join(file, 'spool'), options())).rejects.toBeInstanceOf(SpoolDirError);
    await expect(Spool.open(join(file, 'spool'), options())).rejects.toThrow(/plain-file\/spool.*ENOTDIR/);
  });

  it('refuses a directory it cannot write to, and opens one that is only full (space may return)', async () => {
    const failing =
      (code: string): OpenFile =>
      async (path, flags) => {
        const handle = await open(path, flags);
        return {
          write: () => Promise.reject(Object.assign(new Error(`${code}: injected`), { code })),
          datasync: () => handle.datasync(),
          truncate: (n) => handle.truncate(n),
          stat: () => handle.stat(),
          close: () => handle.close(),
        };
      };
    await expect(Spool.open(dir, options('protobuf', { openFile: failing('EIO') }))).rejects.toThrow(
      /cannot write to .*EIO/,
    );
    const full = await Spool.open(dir, options('protobuf', { openFile: failing('ENOSPC') }));
    expect(full.noSpace).toMatch(/ENOSPC/);
    expect(readdirSync(dir).filter((f) => f.startsWith('.probe'))).toEqual([]);
  });
});

function flip(file: string, at: number, mask: number): void {
  const bytes = readFileSync(file);
  const index = at < 0 ? bytes.length + at : at;
  bytes[index] = bytes[index]! ^ mask;
  writeFileSync(file, bytes);
}
