/**
 * The optional on-disk spool (SIDECAR_SPOOL_DIR): every batch is written here,
 * checksummed, before it counts as queued, and removed once acknowledged, so
 * batches survive a crash, a SIGKILL or an upstream that stays down past the
 * shutdown timeout. One file per batch: written under a temporary name,
 * fsynced and renamed, so a crash mid-write leaves only a `.tmp` to discard.
 *
 * File layout: "TSB1" | u32 header length | header JSON {format, count} |
 * u32 CRC-32 of header and body | body: (u32 length, payload)*.
 */
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import type { Batch } from './sink.js';

const MAGIC = Buffer.from('TSB1');
const SUFFIX = '.batch';

export interface SpooledBatch extends Omit<Batch, 'id'> {
  count: number;
  file: string;
}

export interface SpoolOpenResult {
  spool: Spool;
  /** Readable batches from an earlier run, oldest first. */
  restored: SpooledBatch[];
  /** Records that were torn, corrupt or of another sink's format: skipped and deleted. */
  skipped: { records: number; stats: number };
}

export class Spool {
  private seq: number;

  private constructor(
    private readonly dir: string,
    private readonly format: string,
    nextSeq: number,
  ) {
    this.seq = nextSeq;
  }

  static async open(dir: string, format: string): Promise<SpoolOpenResult> {
    await mkdir(dir, { recursive: true });
    const names = (await readdir(dir)).sort();
    const restored: SpooledBatch[] = [];
    const skipped = { records: 0, stats: 0 };
    let maxSeq = 0;
    for (const name of names) {
      const path = join(dir, name);
      if (name.endsWith('.tmp')) {
        // a write that never finished: that batch never counted as queued
        skipped.records++;
        await rm(path, { force: true });
        continue;
      }
      if (!name.endsWith(SUFFIX)) continue;
      maxSeq = Math.max(maxSeq, Number.parseInt(name, 10) || 0);
      const record = decode(await readFile(path), format);
      if ('error' in record) {
        skipped.records++;
        skipped.stats += record.count;
        await rm(path, { force: true });
        continue;
      }
      restored.push({ ...record, file: path });
    }
    return { spool: new Spool(dir, format, maxSeq + 1), restored, skipped };
  }

  /** Writes the batch durably; resolves with its file once it is safe on disk. */
  async write(batch: Omit<Batch, 'id'>, count: number): Promise<string> {
    const name = `${String(this.seq++).padStart(16, '0')}${SUFFIX}`;
    const path = join(this.dir, name);
    const tmp = `${path}.tmp`;
    const file = await open(tmp, 'w');
    try {
      await file.writev(encode(batch, count, this.format));
      await file.datasync();
    } finally {
      await file.close();
    }
    await rename(tmp, path);
    return path;
  }

  async remove(file: string): Promise<void> {
    await rm(file, { force: true });
  }
}

function u32(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

function encode(batch: Omit<Batch, 'id'>, count: number, format: string): Buffer[] {
  const header = Buffer.from(JSON.stringify({ format, count }));
  const body: Buffer[] = [];
  for (const p of batch.payloads) body.push(u32(p.length), Buffer.from(p.buffer, p.byteOffset, p.byteLength));
  let crc = crc32(header);
  for (const part of body) crc = crc32(part, crc);
  return [MAGIC, u32(header.length), header, u32(crc), ...body];
}

function decode(
  buf: Buffer,
  format: string,
): (Omit<Batch, 'id'> & { count: number }) | { error: string; count: number } {
  if (buf.length < 12 || !buf.subarray(0, 4).equals(MAGIC)) return { error: 'not a spool record', count: 0 };
  const headerLength = buf.readUInt32BE(4);
  if (8 + headerLength + 4 > buf.length) return { error: 'torn header', count: 0 };
  const headerBytes = buf.subarray(8, 8 + headerLength);
  let header: { format?: unknown; count?: unknown };
  try {
    header = JSON.parse(headerBytes.toString()) as typeof header;
  } catch {
    return { error: 'corrupt header', count: 0 };
  }
  const count = typeof header.count === 'number' ? header.count : 0;
  const expected = buf.readUInt32BE(8 + headerLength);
  const body = buf.subarray(12 + headerLength);
  if (crc32(body, crc32(headerBytes)) !== expected) return { error: 'checksum mismatch', count };
  if (header.format !== format) return { error: `written for the ${String(header.format)} sink`, count };
  const payloads: Uint8Array[] = [];
  for (let at = 0; at < body.length;) {
    const length = body.readUInt32BE(at);
    payloads.push(body.subarray(at + 4, at + 4 + length));
    at += 4 + length;
  }
  return { payloads, bytes: payloads.reduce((n, p) => n + p.length, 0), count };
}
