/**
 * The spool's record format (docs/delivery.md, "Spool format"). Version 2:
 *
 *   0   4  magic "TSB2"
 *   4   4  CRC-32 of bytes 8..100 (the rest of the header)
 *   8   4  stat count
 *   12  4  body length
 *   16  4  CRC-32 of the body
 *   20  1  format length, then 15 bytes: the sink format (`ndjson`, `protobuf`)
 *   36  1  id length, then 63 bytes: the batch id
 *   100    body: the batch's bytes as the sink sends them
 *
 * The header has its own checksum so a damaged body still tells how many
 * stats were lost. Version 1 records ("TSB1", a JSON header and one CRC over
 * everything) are still read: an intact one is replayed under a new batch id.
 */
import { crc32 } from 'node:zlib';
import { BATCH_ID_MAX_LENGTH } from './batch-id.js';

export const HEADER_BYTES = 100;
const MAGIC_V2 = Buffer.from('TSB2');
const MAGIC_V1 = Buffer.from('TSB1');
const FORMAT_MAX_LENGTH = 15;
const FORMAT_AT = 20;
const ID_AT = 36;

export interface RecordContent {
  /** Undefined for a version 1 record, which had none. */
  id: string | undefined;
  format: string;
  count: number;
  body: Buffer;
}

export type DecodedRecord =
  | ({ kind: 'intact'; version: 1 | 2 } & RecordContent)
  /** The header is sound, so the count is known; the body is not. */
  | { kind: 'corrupt'; count: number; why: string }
  /** Not even the header can be trusted: the count is unknown. */
  | { kind: 'unreadable'; why: string };

export function encodeHeader(content: { id: string; format: string; count: number; body: Uint8Array }): Buffer {
  const header = Buffer.alloc(HEADER_BYTES);
  MAGIC_V2.copy(header, 0);
  header.writeUInt32BE(content.count, 8);
  header.writeUInt32BE(content.body.length, 12);
  header.writeUInt32BE(crc32(content.body), 16);
  writeShortString(header, FORMAT_AT, content.format, FORMAT_MAX_LENGTH);
  writeShortString(header, ID_AT, content.id, BATCH_ID_MAX_LENGTH);
  header.writeUInt32BE(crc32(header.subarray(8)), 4);
  return header;
}

export function decodeRecord(buf: Buffer): DecodedRecord {
  if (buf.length >= 4 && buf.subarray(0, 4).equals(MAGIC_V1)) return decodeV1(buf);
  if (buf.length < HEADER_BYTES) return { kind: 'unreadable', why: `torn header (${buf.length} bytes)` };
  if (!buf.subarray(0, 4).equals(MAGIC_V2)) return { kind: 'unreadable', why: 'not a spool record (bad magic)' };
  const count = countOf(buf);
  if (count === undefined) return { kind: 'unreadable', why: 'header checksum mismatch' };
  const bodyLength = buf.readUInt32BE(12);
  const body = buf.subarray(HEADER_BYTES);
  if (body.length !== bodyLength)
    return { kind: 'corrupt', count, why: `body is ${body.length} of ${bodyLength} bytes` };
  if (crc32(body) !== buf.readUInt32BE(16)) return { kind: 'corrupt', count, why: 'body checksum mismatch' };
  return {
    kind: 'intact',
    version: 2,
    id: readShortString(buf, ID_AT),
    format: readShortString(buf, FORMAT_AT),
    count,
    body,
  };
}

/** The stat count of a version 2 header whose checksum holds; undefined otherwise. */
export function countOf(header: Buffer): number | undefined {
  if (header.length < HEADER_BYTES || !header.subarray(0, 4).equals(MAGIC_V2)) return undefined;
  if (crc32(header.subarray(8, HEADER_BYTES)) !== header.readUInt32BE(4)) return undefined;
  return header.readUInt32BE(8);
}

/** Version 1: "TSB1" | u32 header length | header JSON {format, count} | u32 CRC of header and body | (u32 length, payload)*. */
function decodeV1(buf: Buffer): DecodedRecord {
  const unreadable = (why: string): DecodedRecord => ({ kind: 'unreadable', why: `version 1 record: ${why}` });
  if (buf.length < 12) return unreadable('torn header');
  const headerLength = buf.readUInt32BE(4);
  if (12 + headerLength > buf.length) return unreadable('torn header');
  const headerBytes = buf.subarray(8, 8 + headerLength);
  const rest = buf.subarray(12 + headerLength);
  // one checksum covers header and body: a mismatch leaves the count itself in doubt
  if (crc32(rest, crc32(headerBytes)) !== buf.readUInt32BE(8 + headerLength)) return unreadable('checksum mismatch');
  let header: { format?: unknown; count?: unknown };
  try {
    header = JSON.parse(headerBytes.toString()) as typeof header;
  } catch {
    return unreadable('corrupt header');
  }
  if (typeof header.format !== 'string' || typeof header.count !== 'number') return unreadable('corrupt header');
  const parts: Buffer[] = [];
  for (let at = 0; at < rest.length;) {
    if (at + 4 > rest.length) return { kind: 'corrupt', count: header.count, why: 'version 1 record: torn body' };
    const length = rest.readUInt32BE(at);
    parts.push(rest.subarray(at + 4, at + 4 + length));
    at += 4 + length;
  }
  return {
    kind: 'intact',
    version: 1,
    id: undefined,
    format: header.format,
    count: header.count,
    body: Buffer.concat(parts),
  };
}

function writeShortString(buf: Buffer, at: number, value: string, maxLength: number): void {
  const bytes = Buffer.from(value);
  if (bytes.length > maxLength)
    throw new Error(`spool record field too long (${bytes.length} > ${maxLength}): ${value}`);
  buf.writeUInt8(bytes.length, at);
  bytes.copy(buf, at + 1);
}

function readShortString(buf: Buffer, at: number): string {
  const length = buf.readUInt8(at);
  return buf.toString('utf8', at + 1, at + 1 + length);
}
