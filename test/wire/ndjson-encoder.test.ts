/**
 * The hand-written NDJSON encoder against LiveKit's own generated code: for
 * any stat the core can produce (and wider), the line equals
 * `toLivekitStat(stat).toJsonString() + '\n'` byte for byte, and where the
 * library cannot map a stat to JSON (a Timestamp outside years 1–9999 or
 * with negative nanos) the encoder refuses it too.
 */
import { AnalyticsStat as LkStat } from '@livekit/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AnalyticsStat, Timestamp } from '../../src/core/analytics.js';
import { GO_ZERO_SECONDS } from '../../src/core/gotime.js';
import { encodeNdjsonLineInto } from '../../src/wire/ndjson-encoder.js';
import { encodeChecked } from '../helpers/encode.js';
import { toJsonLine } from '../../src/wire/to-livekit.js';
import { analyticsStream } from '../helpers/arbitraries.js';
import { runs, UNDER_MUTATION } from './runs.js';
import { blankStat } from '../helpers/stats.js';

/** 9999-12-31T23:59:59Z, the last second protobuf JSON can write. */
const MAX_SECONDS = 253402300799;

type Outcome = { line: Buffer } | { threw: true };

function attempt(encode: () => Uint8Array | string): Outcome {
  try {
    return { line: Buffer.from(encode()) };
  } catch {
    return { threw: true };
  }
}

const library = (s: AnalyticsStat) => attempt(() => toJsonLine(s));
const ours = (s: AnalyticsStat) => attempt(() => encodeChecked(encodeNdjsonLineInto, s));

const u32 = fc.oneof(fc.nat({ max: 300 }), fc.constantFrom(0, 1, 127, 128, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1));
/**
 * The core holds uint64 sums as doubles: exact below 2^53, multiples of a
 * power of two above, and (summing values just under 2^63) past 2^64.
 */
const u64 = fc.oneof(
  { weight: 4, arbitrary: fc.nat({ max: 10_000_000 }) },
  fc.constantFrom(
    2 ** 32,
    2 ** 53 - 1,
    2 ** 53,
    2 ** 53 + 2,
    2 ** 63 - 1024,
    2 ** 63,
    2 ** 64 - 2048,
    3 * (2 ** 63 - 1024),
  ),
  fc.bigInt({ min: 0n, max: 2n ** 53n }).map(Number),
  fc.bigInt({ min: 2n ** 53n, max: 2n ** 66n }).map(Number),
);
const i32 = fc.oneof(fc.integer({ min: -3, max: 3 }), fc.constantFrom(-(2 ** 31), 2 ** 31 - 1));
// a stat has up to seven timestamps: keep the ones the library refuses rare, so most stats are written
const nanos = fc.oneof(
  { weight: 10, arbitrary: fc.constantFrom(0, 1, 10, 100, 999_999_999, 1_000_000, 120_000_000, 123_456_000) },
  { weight: 10, arbitrary: fc.integer({ min: 0, max: 999 }).map((ms) => ms * 1_000_000) },
  { weight: 10, arbitrary: fc.integer({ min: 0, max: 999_999 }).map((us) => us * 1000) },
  { weight: 10, arbitrary: fc.integer({ min: 0, max: 999_999_999 }) },
  // not normalised (the core never emits these, the library still writes them)
  { weight: 1, arbitrary: fc.constantFrom(1_000_000_000, 1_500_000_000, 2 ** 31 - 1) },
  // the library has no JSON for these
  { weight: 1, arbitrary: fc.integer({ min: -(2 ** 31), max: -1 }) },
);
const seconds = fc.oneof(
  { weight: 10, arbitrary: fc.integer({ min: -5, max: 5 }) },
  {
    weight: 10,
    arbitrary: fc.constantFrom(GO_ZERO_SECONDS, MAX_SECONDS, 1_700_000_000, 951_782_400, 4_107_542_400, -2_208_988_800),
  },
  { weight: 20, arbitrary: fc.integer({ min: GO_ZERO_SECONDS, max: MAX_SECONDS }) },
  // just outside the range, and far outside (an SFU's garbage start_time): no JSON for these
  { weight: 1, arbitrary: fc.constantFrom(GO_ZERO_SECONDS - 1, MAX_SECONDS + 1, 10 ** 15, -(10 ** 15)) },
);
const timestamp: fc.Arbitrary<Timestamp | null> = fc.option(
  fc.oneof(
    { weight: 6, arbitrary: fc.record({ seconds, nanos }) },
    // what coalescing emits for a track that never reported a start time: Go's zero time
    fc.constant({ seconds: GO_ZERO_SECONDS, nanos: 0 }),
  ),
  { freq: 8 },
);
const float32 = fc.oneof(
  fc.constantFrom(0, -0, 1, 4.5, 0.1, Math.fround(0.1), 1e21, 1e-7, NaN, Infinity, -Infinity),
  fc.float(),
  fc.double(),
);
const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));
const awkward = fc.constantFrom(
  '"',
  '\\',
  '\n',
  '\t',
  '\u0000',
  '\u001f',
  '\u007f',
  '\u2028',
  '\u2029',
  '</',
  'é',
  '😀',
);
const text = fc.oneof(
  { weight: 8, arbitrary: fc.string({ maxLength: 12 }) },
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc.string({ unit: fc.oneof(awkward, loneSurrogate, fc.constantFrom('a', 'B', '0')), maxLength: 40 }),
  fc.constantFrom('', 'TR_VCxyz', 'video/VP8', 'video/H264'),
  { weight: 1, arbitrary: fc.constantFrom('x'.repeat(20_000), '€'.repeat(6_000)) },
);

const stream = analyticsStream({ u32, u64, timestamp, layer: i32 });

const stat: fc.Arbitrary<AnalyticsStat> = fc.record({
  id: text,
  analyticsKey: text,
  kind: fc.oneof({ weight: 9, arbitrary: fc.constantFrom(0, 1) }, fc.constantFrom(2, 7)) as fc.Arbitrary<0 | 1>,
  timeStamp: timestamp,
  node: text,
  roomId: text,
  roomName: text,
  participantId: text,
  trackId: text,
  score: float32,
  streams: fc.array(stream, { maxLength: 3 }),
  mime: text,
  minScore: float32,
  medianScore: float32,
});

describe('NDJSON encoder', () => {
  it('writes exactly the line @livekit/protocol writes, and refuses what it cannot write', () => {
    // what the generated stats reached, so a generator change cannot quietly skip the edge cases
    const reached = {
      lines: 0,
      refused: 0,
      bigU64: 0,
      nonFinite: 0,
      escaped: 0,
      fraction9: 0,
      goZero: 0,
      downstream: 0,
    };
    fc.assert(
      fc.property(stat, (s) => {
        const expected = library(s);
        const actual = ours(s);
        if ('threw' in expected || 'threw' in actual) {
          expect(actual).toEqual(expected);
          reached.refused++;
          return;
        }
        // Buffer.equals: a deep toEqual over long lines is slow; on a mismatch, show the text
        if (!actual.line.equals(expected.line)) expect(actual.line.toString()).toBe(expected.line.toString());
        reached.lines++;
        const json = expected.line.toString();
        if (/"(primaryBytes|retransmitBytes|paddingBytes|bytes)":"\d{17,}"/.test(json)) reached.bigU64++;
        if (/"(NaN|-?Infinity)"/.test(json)) reached.nonFinite++;
        if (/\\u[0-9a-f]{4}|\\["\\nt]/.test(json)) reached.escaped++;
        if (/\.\d{9}Z/.test(json)) reached.fraction9++;
        if (json.includes('"0001-01-01T00:00:00Z"')) reached.goZero++;
        if (json.includes('"kind":"DOWNSTREAM"')) reached.downstream++;
      }),
      { numRuns: runs(3000) },
    );
    if (!UNDER_MUTATION) for (const [what, n] of Object.entries(reached)) expect(n, what).toBeGreaterThan(20);
  });

  it('writes a coalesced stat as the sink emits it', () => {
    const s: AnalyticsStat = {
      id: 'AS_abc1',
      analyticsKey: 'key',
      kind: 1,
      timeStamp: { seconds: 1_700_000_000, nanos: 123_000_000 },
      node: 'node-a',
      roomId: 'RM_1',
      roomName: 'room',
      participantId: 'PA_1',
      trackId: 'TR_1',
      score: Math.fround(4.2),
      streams: [
        {
          ssrc: 0,
          primaryPackets: 10,
          primaryBytes: 12_000,
          retransmitPackets: 0,
          retransmitBytes: 0,
          paddingPackets: 0,
          paddingBytes: 0,
          packetsLost: 1,
          frames: 30,
          rtt: 0,
          jitter: 5,
          nacks: 0,
          plis: 0,
          firs: 0,
          videoLayers: [{ layer: 2, packets: 10, bytes: 12_000, frames: 30 }],
          startTime: { seconds: GO_ZERO_SECONDS, nanos: 0 },
          endTime: { seconds: 1_700_000_000, nanos: 5 },
          packetsOutOfOrder: 0,
        },
      ],
      mime: 'video/VP8',
      minScore: Math.fround(3.5),
      medianScore: Math.fround(4.2),
    };
    const line = encodeChecked(encodeNdjsonLineInto, s).toString();
    expect(line).toBe(toJsonLine(s));
    expect(line).toBe(
      '{"analyticsKey":"key","kind":"DOWNSTREAM","timeStamp":"2023-11-14T22:13:20.123Z","node":"node-a","roomId":"RM_1",' +
        '"roomName":"room","participantId":"PA_1","trackId":"TR_1","score":4.199999809265137,"streams":[{"primaryPackets":10,' +
        '"primaryBytes":"12000","packetsLost":1,"frames":30,"jitter":5,"videoLayers":[{"layer":2,"packets":10,"bytes":"12000",' +
        '"frames":30}],"startTime":"0001-01-01T00:00:00Z","endTime":"2023-11-14T22:13:20.000000005Z"}],"mime":"video/VP8",' +
        '"minScore":3.5,"medianScore":4.199999809265137,"id":"AS_abc1"}\n',
    );
    // and it reads back as the same message
    expect(LkStat.fromJsonString(line).toJsonString() + '\n').toBe(line);
  });

  it('renders every second of the range as Date does, the leap days and both ends included', () => {
    const days = fc.integer({ min: Math.ceil(GO_ZERO_SECONDS / 86_400), max: Math.floor(MAX_SECONDS / 86_400) });
    fc.assert(
      fc.property(days, fc.integer({ min: 0, max: 86_399 }), (day, second) => {
        const s = { ...blankStat(), timeStamp: { seconds: day * 86_400 + second, nanos: 0 } };
        expect(encodeChecked(encodeNdjsonLineInto, s).toString()).toBe(toJsonLine(s));
      }),
      { numRuns: runs(2000) },
    );
    for (const seconds of [GO_ZERO_SECONDS, MAX_SECONDS, 951_782_400, 4_107_542_400, -2_208_988_800, 0, -1]) {
      const s = { ...blankStat(), timeStamp: { seconds, nanos: 0 } };
      expect(encodeChecked(encodeNdjsonLineInto, s).toString()).toBe(toJsonLine(s));
    }
  });
});
