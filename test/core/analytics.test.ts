import { describe, expect, it } from 'vitest';
import { emptyStream, U64_TOP_BIT, u64ToNumber } from '../../src/core/analytics.js';

describe('u64ToNumber', () => {
  it('joins the two uint32 halves', () => {
    expect(u64ToNumber(0, 5)).toBe(5);
    expect(u64ToNumber(1, 5)).toBe(2 ** 32 + 5);
    expect(u64ToNumber(0x1fffff, 0xffffffff)).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('reads the halves as unsigned', () => {
    expect(u64ToNumber(0, -1)).toBe(2 ** 32 - 1);
    expect(u64ToNumber(-1, 0)).toBe((2 ** 32 - 1) * 2 ** 32);
  });

  it('keeps every value below 2^63 below it, so it stays valid', () => {
    const largest = u64ToNumber(0x7fffffff, 0xffffffff);
    expect(largest).toBe(2 ** 63 - 1024);
    expect(largest).toBeLessThan(U64_TOP_BIT);
  });

  it('keeps values with the top bit set at or above 2^63', () => {
    expect(u64ToNumber(0x80000000, 0)).toBe(U64_TOP_BIT);
    expect(u64ToNumber(0xffffffff, 0xffffffff)).toBeGreaterThanOrEqual(U64_TOP_BIT);
  });
});

describe('emptyStream', () => {
  it('is all zeros, no layers and no timestamps, and fresh each time', () => {
    const a = emptyStream();
    expect(a).toEqual({
      ssrc: 0,
      primaryPackets: 0,
      primaryBytes: 0,
      retransmitPackets: 0,
      retransmitBytes: 0,
      paddingPackets: 0,
      paddingBytes: 0,
      packetsLost: 0,
      frames: 0,
      rtt: 0,
      jitter: 0,
      nacks: 0,
      plis: 0,
      firs: 0,
      videoLayers: [],
      startTime: null,
      endTime: null,
      packetsOutOfOrder: 0,
    });
    expect(emptyStream().videoLayers).not.toBe(a.videoLayers);
  });
});
