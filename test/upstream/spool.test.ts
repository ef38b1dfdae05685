import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Spool } from '../../src/upstream/spool.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'spool-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const batch = (...lines: string[]) => {
  const payloads = lines.map((l) => Buffer.from(l));
  return { payloads, bytes: payloads.reduce((n, p) => n + p.length, 0) };
};
const text = (payloads: Uint8Array[]) => payloads.map((p) => Buffer.from(p).toString());

describe('Spool', () => {
  it('replays written batches in order with their payloads and counts', async () => {
    const { spool } = await Spool.open(dir, 'protobuf');
    await spool.write(batch('a', 'bb'), 2);
    await spool.write(batch('ccc'), 1);
    const { restored, skipped } = await Spool.open(dir, 'protobuf');
    expect(restored.map((b) => [text(b.payloads), b.count, b.bytes])).toEqual([
      [['a', 'bb'], 2, 3],
      [['ccc'], 1, 3],
    ]);
    expect(skipped).toEqual({ records: 0, stats: 0 });
  });

  it('numbers new records after the ones it found', async () => {
    const first = await Spool.open(dir, 'ndjson');
    await first.spool.write(batch('a'), 1);
    const second = await Spool.open(dir, 'ndjson');
    await second.spool.write(batch('b'), 1);
    const { restored } = await Spool.open(dir, 'ndjson');
    expect(restored.map((b) => text(b.payloads)[0])).toEqual(['a', 'b']);
  });

  it('removes a record once acknowledged', async () => {
    const { spool } = await Spool.open(dir, 'ndjson');
    const file = await spool.write(batch('a'), 1);
    await spool.remove(file);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('skips and deletes a torn record, a corrupt one, one of another format and a leftover temp file', async () => {
    const { spool } = await Spool.open(dir, 'protobuf');
    const torn = await spool.write(batch('torn-record-payload'), 4);
    const corrupt = await spool.write(batch('corrupt'), 3);
    await spool.write(batch('good'), 1);
    const bytes = readFileSync(torn);
    writeFileSync(torn, bytes.subarray(0, bytes.length - 5));
    const c = readFileSync(corrupt);
    c[c.length - 1] = c[c.length - 1]! ^ 0xff;
    writeFileSync(corrupt, c);
    writeFileSync(join(dir, '0000000000000099.batch.tmp'), 'half-written');
    const other = await Spool.open(dir, 'ndjson');
    expect(other.restored).toEqual([]);

    const again = await Spool.open(dir, 'protobuf');
    expect(again.restored).toEqual([]);
    expect(readdirSync(dir)).toEqual([]);
    expect(other.skipped).toEqual({ records: 4, stats: 8 });
  });

  it('skips a file that is not a spool record at all', async () => {
    writeFileSync(join(dir, '0000000000000001.batch'), 'garbage');
    const { restored, skipped } = await Spool.open(dir, 'protobuf');
    expect(restored).toEqual([]);
    expect(skipped.records).toBe(1);
  });
});
