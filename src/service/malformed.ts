/**
 * Requests that fail to decode become values instead of exceptions, so a
 * unary call gets INVALID_ARGUMENT and a Session stream gets a StreamError and
 * stays open (grpc-js would otherwise end the call with INTERNAL).
 */
export class MalformedMessage {
  constructor(
    readonly reason: string,
    /** The request's `seq` when field 1 could still be read, else 0. */
    readonly seq: bigint,
  ) {}
}

/** Best-effort read of a leading `uint64 seq = 1` varint. */
function peekSeq(buf: Buffer): bigint {
  if (buf[0] !== 0x08) return 0n;
  let value = 0n;
  for (let i = 1, shift = 0n; i < buf.length && i <= 10; i++, shift += 7n) {
    const byte = buf[i]!;
    value |= BigInt(byte & 0x7f) << shift;
    if (byte < 0x80) return value;
  }
  return 0n;
}

export function tolerant<T>(deserialize: (buf: Buffer) => T): (buf: Buffer) => T | MalformedMessage {
  return (buf) => {
    try {
      return deserialize(buf);
    } catch (err) {
      return new MalformedMessage((err as Error).message, peekSeq(buf));
    }
  };
}
