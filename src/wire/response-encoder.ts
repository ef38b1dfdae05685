/**
 * The Session's answer to a TrackStats request, `SessionResponse{seq,
 * stats: TrackStatsResponse}`, encoded by hand: it is one response per
 * request on the ingest hot path, and proto-loader's serializer builds a
 * message object, a writer and its operation list for every one
 * (bench/README.md). Every other response, and any value outside the shape
 * below, goes to proto-loader's serializer. The bytes equal proto-loader's
 * for every input (test/wire/response-encoder.test.ts): present fields are
 * written even when zero, as protobufjs does.
 */
import type { SessionResponse } from '../generated/telemetry/sidecar/v1/SessionResponse.js';

type Serialize = (value: SessionResponse) => Buffer;

/** Field keys (field number << 3 | wire type). */
const SEQ = (1 << 3) | 0;
const STATS = (5 << 3) | 2;
const ACCEPTED = (1 << 3) | 0;
const INVALID = (2 << 3) | 0;
const NO_WORKER = (3 << 3) | 0;

/** Wraps proto-loader's `SessionResponse` serializer with the fast path for TrackStats answers. */
export function sessionResponseSerializer(fallback: Serialize): Serialize {
  return (value) => encodeStatsResponse(value) ?? fallback(value);
}

/** The bytes of a `{ seq, stats }` response, or undefined when the value is anything else. */
function encodeStatsResponse(value: SessionResponse): Buffer | undefined {
  const { seq, stats } = value;
  if (
    stats === null ||
    typeof stats !== 'object' ||
    typeof seq !== 'number' ||
    !Number.isSafeInteger(seq) ||
    seq < 0 ||
    value.hello != null ||
    value.activate != null ||
    value.release != null ||
    value.flush != null ||
    value.error != null
  ) {
    return undefined;
  }
  const { accepted, invalid, noWorker } = stats;
  // protobufjs writes a uint32 as `x >>> 0` of whatever number it is given
  if (typeof accepted !== 'number' || typeof invalid !== 'number' || typeof noWorker !== 'number') return undefined;
  const a = accepted >>> 0;
  const i = invalid >>> 0;
  const w = noWorker >>> 0;
  const inner = 3 + varint32Size(a) + varint32Size(i) + varint32Size(w);
  const buf = Buffer.allocUnsafe(1 + varint53Size(seq) + 1 + varint32Size(inner) + inner);
  let pos = 0;
  buf[pos++] = SEQ;
  pos = writeVarint53(buf, pos, seq);
  buf[pos++] = STATS;
  pos = writeVarint32(buf, pos, inner);
  buf[pos++] = ACCEPTED;
  pos = writeVarint32(buf, pos, a);
  buf[pos++] = INVALID;
  pos = writeVarint32(buf, pos, i);
  buf[pos++] = NO_WORKER;
  writeVarint32(buf, pos, w);
  return buf;
}

function varint32Size(v: number): number {
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5;
}

/** Bytes of the varint of a non-negative safe integer. */
function varint53Size(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 0x80);
    n++;
  }
  return n;
}

/** `v` is a uint32. */
function writeVarint32(buf: Buffer, pos: number, v: number): number {
  while (v > 0x7f) {
    buf[pos++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[pos++] = v;
  return pos;
}

/** `v` is a non-negative safe integer: divided, not shifted, past 32 bits. */
function writeVarint53(buf: Buffer, pos: number, v: number): number {
  while (v > 0x7f) {
    buf[pos++] = (v % 0x80) | 0x80;
    v = Math.floor(v / 0x80);
  }
  buf[pos++] = v;
  return pos;
}
