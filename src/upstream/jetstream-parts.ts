/**
 * Where one stat ends and the next begins in an encoded batch, so a batch over
 * the server's size limit can be split between stats. A protobuf batch is a
 * run of AnalyticsStats field-1 entries (tag 0x0a, varint length, bytes); an
 * NDJSON batch is lines.
 */

/** Field 1 (`stats`), wire type 2 (length-delimited): the only entry an AnalyticsStats batch holds. */
const STATS_ENTRY_TAG = 0x0a;
const NEWLINE = 0x0a;

/**
 * Offsets of entry starts plus the end: `[0, e1, ..., length]`, so entry i is
 * `[offsets[i], offsets[i+1])`. Bytes that do not parse are one unsplittable entry.
 */
export function entryOffsets(payload: Uint8Array, format: string): number[] {
  return format === 'protobuf' ? protobufEntries(payload) : lineEntries(payload);
}

function protobufEntries(payload: Uint8Array): number[] {
  const offsets = [0];
  let at = 0;
  while (at < payload.length) {
    if (payload[at] !== STATS_ENTRY_TAG) return [0, payload.length];
    let length = 0;
    let shift = 0;
    let i = at + 1;
    for (; i < payload.length && shift < 35; i++, shift += 7) {
      const byte = payload[i]!;
      length += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) break;
    }
    const next = i + 1 + length;
    if (i >= payload.length || next > payload.length) return [0, payload.length];
    offsets.push(next);
    at = next;
  }
  return offsets;
}

function lineEntries(payload: Uint8Array): number[] {
  const offsets = [0];
  for (let at = payload.indexOf(NEWLINE); at !== -1; at = payload.indexOf(NEWLINE, at + 1)) offsets.push(at + 1);
  if (offsets[offsets.length - 1] !== payload.length) offsets.push(payload.length);
  return offsets;
}
