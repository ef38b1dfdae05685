import { describe, expect, it } from 'vitest';
import { condenseStat } from '../../src/core/condense.js';
import { GO_ZERO_SECONDS } from '../../src/core/gotime.js';
import { layer, sample, stream, ts } from '../helpers/stats.js';

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

  it('takes the earliest start and latest end from unsorted streams', () => {
    const out = condenseStat(
      sample({
        streams: [
          stream({ startTime: ts(50), endTime: ts(80) }),
          stream({ startTime: ts(30, 2), endTime: ts(90, 5) }),
          stream({ startTime: ts(45), endTime: ts(85) }),
        ],
      }),
    );
    expect(out).toMatchObject({ startTime: ts(30, 2), endTime: ts(90, 5) });
  });

  it('treats a nil timestamp as the Unix epoch', () => {
    const out = condenseStat(
      sample({ streams: [stream({ startTime: ts(50), endTime: null }), stream({ startTime: null, endTime: ts(-3) })] }),
    );
    expect(out).toMatchObject({ startTime: ts(0), endTime: ts(0) });
  });

  it('carries out-of-range nanos into seconds before comparing', () => {
    const out = condenseStat(
      sample({
        streams: [
          stream({ startTime: ts(10, 1), endTime: ts(20) }),
          stream({ startTime: ts(11, -1_000_000_001), endTime: ts(19, 3_000_000_000) }),
        ],
      }),
    );
    expect(out).toMatchObject({ startTime: ts(9, 999_999_999), endTime: ts(22) });
  });

  it("replaces a start that carried into Go's zero time, but keeps Go's zero second with nanos", () => {
    const zero = condenseStat(
      sample({ streams: [stream({ startTime: ts(GO_ZERO_SECONDS - 1, 1e9) }), stream({ startTime: ts(70) })] }),
    );
    expect(zero?.startTime).toEqual(ts(70));
    const nearZero = condenseStat(
      sample({ streams: [stream({ startTime: ts(GO_ZERO_SECONDS, 1) }), stream({ startTime: ts(70) })] }),
    );
    expect(nearZero?.startTime).toEqual(ts(GO_ZERO_SECONDS, 1));
  });

  it("keeps the end at the first instant after Go's zero time", () => {
    expect(condenseStat(sample({ streams: [stream({ endTime: ts(GO_ZERO_SECONDS, 1) })] }))?.endTime).toEqual(
      ts(GO_ZERO_SECONDS, 1),
    );
    expect(condenseStat(sample({ streams: [stream({ endTime: ts(GO_ZERO_SECONDS) })] }))?.endTime).toEqual(
      ts(GO_ZERO_SECONDS),
    );
  });

  it('wraps packets and loss sums past 2^32 and sums bytes exactly', () => {
    const big = stream({ primaryPackets: 2 ** 31 - 1, packetsLost: 2 ** 31 - 1, primaryBytes: 2 ** 40 });
    const out = condenseStat(sample({ streams: [big, big, big, stream({ primaryPackets: 9, packetsLost: 4 })] }));
    expect(out).toMatchObject({
      packets: (3 * (2 ** 31 - 1) + 9) % 2 ** 32,
      packetsLost: (3 * (2 ** 31 - 1) + 4) % 2 ** 32,
      bytes: 3 * 2 ** 40,
    });
  });

  it('keeps the largest frames wherever it is', () => {
    const out = condenseStat(
      sample({ streams: [stream({ frames: 5 }), stream({ frames: 12 }), stream({ frames: 7 })] }),
    );
    expect(out?.frames).toBe(12);
  });

  it('is invalid when a video layer is, and ignores layers otherwise', () => {
    expect(condenseStat(sample({ streams: [stream({ videoLayers: [layer(0, 2 ** 31)] })] }))).toBeNull();
    expect(condenseStat(sample({ streams: [stream({ videoLayers: [layer(0, 5, 5, 5)] })] }))).toMatchObject({
      packets: 0,
      frames: 0,
    });
  });
});
