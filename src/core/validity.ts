import { U64_TOP_BIT, type StatSample } from './analytics.js';

/** uint32 with the top bit set: negative as Go's int32(x). */
const U32_TOP_BIT = 0x80000000;

/**
 * The reference's isValid: a counter that would be negative as a signed
 * integer marks the whole stat invalid (a wrapped or corrupt counter).
 */
export function isValid(stat: StatSample): boolean {
  for (const s of stat.streams) {
    if (
      s.primaryPackets >= U32_TOP_BIT ||
      s.primaryBytes >= U64_TOP_BIT ||
      s.retransmitPackets >= U32_TOP_BIT ||
      s.retransmitBytes >= U64_TOP_BIT ||
      s.paddingPackets >= U32_TOP_BIT ||
      s.paddingBytes >= U64_TOP_BIT ||
      s.packetsLost >= U32_TOP_BIT ||
      s.packetsOutOfOrder >= U32_TOP_BIT ||
      s.frames >= U32_TOP_BIT ||
      s.nacks >= U32_TOP_BIT ||
      s.plis >= U32_TOP_BIT ||
      s.firs >= U32_TOP_BIT
    ) {
      return false;
    }
    for (const l of s.videoLayers) {
      if (l.packets >= U32_TOP_BIT || l.bytes >= U64_TOP_BIT || l.frames >= U32_TOP_BIT) return false;
    }
  }
  return true;
}
