import { describe, expect, it } from 'vitest';
import { condenseStat } from '../../src/core/condense.js';
import { sample, stream, ts } from '../helpers/stats.js';

describe('condenseStat', () => {
  it('sums bytes, packets and loss, keeps the max frames and the time span', () => {
    const out = condenseStat(
      sample({
        streams: [
          stream({
            primaryBytes: 10,
            primaryPackets: 1,
            packetsLost: 2,
            frames: 30,
            startTime: ts(50),
            endTime: ts(60),
          }),
          stream({
            primaryBytes: 5,
            primaryPackets: 2,
            packetsLost: 1,
            frames: 20,
            startTime: ts(40),
            endTime: ts(70),
          }),
        ],
      }),
    );
    expect(out).toEqual({ startTime: ts(40), endTime: ts(70), bytes: 15, packets: 3, packetsLost: 3, frames: 30 });
  });

  it('returns null for an invalid stat', () => {
    expect(condenseStat(sample({ streams: [stream({ nacks: 2 ** 31 })] }))).toBeNull();
  });

  it("keeps Go's zero time when there are no streams", () => {
    expect(condenseStat(sample({ streams: [] }))?.startTime).toEqual(ts(-62135596800));
  });
});
