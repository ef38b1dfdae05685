/**
 * Both hand encoders (binary for IngestStats, NDJSON for the default sink)
 * against @livekit/protocol on every field set, one at a time and all
 * together, to each value where the encoding changes: varint byte counts,
 * the 32-bit and 53-bit edges, negative int32, lengths that need a second
 * length byte, UTF-8 of 1 to 4 bytes, bodies larger than the scratch buffer,
 * each Timestamp fraction width. The property tests beside this file reach
 * these only by chance; here each is reached on every run.
 */
import { AnalyticsStats as LkStats } from '@livekit/protocol';
import { describe, expect, it } from 'vitest';
import type { AnalyticsStat, AnalyticsStream, AnalyticsVideoLayer, Timestamp } from '../../src/core/analytics.js';
import { GO_ZERO_SECONDS } from '../../src/core/gotime.js';
import { encodeAnalyticsStatsEntryInto } from '../../src/wire/analytics-encoder.js';
import { encodeNdjsonLineInto } from '../../src/wire/ndjson-encoder.js';
import { encodeChecked } from '../helpers/encode.js';
import { NO_ROOM } from '../../src/upstream/sink.js';
import { toJsonLine, toLivekitStat } from '../../src/wire/to-livekit.js';
import { stream as blankStream, blankStat } from '../helpers/stats.js';

const U32 = [
  1,
  127,
  128,
  16_383,
  16_384,
  2_097_151,
  2_097_152,
  268_435_455,
  268_435_456,
  2 ** 31 - 1,
  2 ** 31,
  2 ** 32 - 1,
];
const U64 = [
  ...U32,
  2 ** 32,
  2 ** 35,
  2 ** 42,
  2 ** 49,
  2 ** 53 - 1,
  2 ** 53,
  2 ** 56,
  2 ** 63,
  2 ** 64 - 2048,
  2 ** 64,
];
const I32 = [1, -1, 127, 128, -128, 2 ** 31 - 1, -(2 ** 31)];
const FLOATS = [1, -1, 0.5, Math.fround(0.1), 1e21, 1e-7, -1e-7, 3.4e38, NaN, Infinity, -Infinity];
const STRINGS = [
  'a',
  'x'.repeat(42),
  'x'.repeat(43),
  // a stat body of 127, 128 and 129 bytes: its length takes one byte, then two
  ...[123, 124, 125, 126, 127, 128, 129, 130].map((n) => 'x'.repeat(n)),
  'é'.repeat(21),
  'é'.repeat(22),
  'é'.repeat(64),
  '€'.repeat(42),
  '€'.repeat(43),
  '😀'.repeat(21),
  '😀'.repeat(22),
  '"\\\n\t\u0000\u001f\u007f\u2028</',
  '\ud800',
  'x'.repeat(5_000),
  'y'.repeat(70_000),
];
const TIMESTAMPS: Timestamp[] = [
  { seconds: 0, nanos: 0 },
  { seconds: 1, nanos: 0 },
  { seconds: -1, nanos: 0 },
  { seconds: 0, nanos: 1 },
  { seconds: 0, nanos: 10 },
  { seconds: 0, nanos: 1000 },
  { seconds: 0, nanos: 100_000 },
  { seconds: 0, nanos: 1_000_000 },
  { seconds: 0, nanos: 120_000_000 },
  { seconds: 0, nanos: 999_999_999 },
  { seconds: 0, nanos: 999_999_000 },
  { seconds: 0, nanos: 999_000_000 },
  { seconds: 59, nanos: 0 },
  { seconds: 60, nanos: 0 },
  { seconds: 3599, nanos: 0 },
  { seconds: 3600, nanos: 0 },
  { seconds: 86_399, nanos: 0 },
  { seconds: 86_400, nanos: 0 },
  { seconds: 1_700_000_000, nanos: 123_456_789 },
  ...[
    '2000-02-29',
    '2000-03-01',
    '2100-02-28',
    '2100-03-01',
    '1900-01-01',
    '1969-12-31',
    '0001-12-31',
    '0009-12-31',
    '0010-06-15',
    '0099-12-31',
    '0100-01-01',
    '0999-12-31',
    '1000-01-01',
    '9999-12-31',
  ].map((day) => ({ seconds: Date.parse(`${day}T00:00:00Z`) / 1000, nanos: 0 })),
  { seconds: GO_ZERO_SECONDS, nanos: 0 },
  { seconds: 253_402_300_799, nanos: 999_999_999 },
  { seconds: 2 ** 31, nanos: 2 ** 31 - 1 },
  { seconds: 2 ** 32, nanos: 0 },
  { seconds: -(2 ** 31) - 1, nanos: -1 },
];

type Variant = [name: string, stat: AnalyticsStat];

function streamVariants(): [string, Partial<AnalyticsStream>][] {
  const out: [string, Partial<AnalyticsStream>][] = [];
  const u32Fields = [
    'ssrc',
    'primaryPackets',
    'retransmitPackets',
    'paddingPackets',
    'packetsLost',
    'frames',
    'rtt',
    'jitter',
    'nacks',
    'plis',
    'firs',
    'packetsOutOfOrder',
  ] as const;
  for (const f of u32Fields) for (const v of U32) out.push([`${f}=${v}`, { [f]: v }]);
  for (const f of ['primaryBytes', 'retransmitBytes', 'paddingBytes'] as const)
    for (const v of U64) out.push([`${f}=${v}`, { [f]: v }]);
  for (const f of ['startTime', 'endTime'] as const)
    for (const t of TIMESTAMPS) out.push([`${f}=${JSON.stringify(t)}`, { [f]: t }]);
  const layerOf = (l: Partial<AnalyticsVideoLayer>): AnalyticsVideoLayer => ({
    layer: 0,
    packets: 0,
    bytes: 0,
    frames: 0,
    ...l,
  });
  out.push(['empty layer', { videoLayers: [layerOf({})] }]);
  for (const v of I32) out.push([`layer=${v}`, { videoLayers: [layerOf({ layer: v })] }]);
  for (const v of U32) out.push([`layer packets/frames=${v}`, { videoLayers: [layerOf({ packets: v, frames: v })] }]);
  // each field of a layer first in its object, once alone
  out.push(['layer packets alone', { videoLayers: [layerOf({ packets: 3 })] }]);
  out.push(['layer frames alone', { videoLayers: [layerOf({ frames: 3 })] }]);
  for (const v of U64) out.push([`layer bytes=${v}`, { videoLayers: [layerOf({ bytes: v })] }]);
  out.push([
    'three layers',
    {
      videoLayers: [
        layerOf({ layer: 0, packets: 1 }),
        layerOf({ layer: 1, bytes: 2 }),
        layerOf({ layer: 2, frames: 3 }),
      ],
    },
  ]);
  return out;
}

function variants(): Variant[] {
  const out: Variant[] = [['blank', blankStat()]];
  const put = (name: string, fields: Partial<AnalyticsStat>) => out.push([name, { ...blankStat(), ...fields }]);
  for (const f of ['id', 'analyticsKey', 'node', 'roomId', 'roomName', 'participantId', 'trackId', 'mime'] as const)
    for (const s of STRINGS) put(`${f}=${s.slice(0, 8)}… (${s.length})`, { [f]: s });
  for (const f of ['score', 'minScore', 'medianScore'] as const) for (const v of FLOATS) put(`${f}=${v}`, { [f]: v });
  put('kind=1', { kind: 1 });
  for (const t of TIMESTAMPS) put(`timeStamp=${JSON.stringify(t)}`, { timeStamp: t });
  put('empty stream', { streams: [blankStream()] });
  for (const [name, fields] of streamVariants()) put(`stream ${name}`, { streams: [blankStream(fields)] });
  // everything at once, and a second stream: separators between fields and list items
  const full = streamVariants()
    .filter(([name]) => !name.endsWith(`=${2 ** 64}`))
    .reduce<Partial<AnalyticsStream>>((acc, [, fields]) => ({ ...acc, ...fields }), {});
  put('every field', {
    id: 'AS_1',
    analyticsKey: 'k',
    kind: 1,
    timeStamp: { seconds: 1_700_000_000, nanos: 5 },
    node: 'n',
    roomId: 'RM',
    roomName: 'r',
    participantId: 'PA',
    trackId: 'TR',
    score: 4.5,
    streams: [blankStream(full), blankStream({ ssrc: 9 }), blankStream()],
    mime: 'video/VP8',
    minScore: 3.5,
    medianScore: 4,
  });
  put('three scores, all different', { score: 1.25, minScore: 2.5, medianScore: 3.75 });
  put('three scores, score and median equal', { score: 1.25, minScore: 0.5, medianScore: 1.25 });
  return out;
}

type Outcome = { bytes: Buffer } | { threw: true };
function attempt(encode: () => Uint8Array | string): Outcome {
  try {
    return { bytes: Buffer.from(encode()) };
  } catch {
    return { threw: true };
  }
}

describe('encoders at the boundaries of every field', () => {
  it('IngestStats bytes equal @livekit/protocol toBinary, one stat at a time and several in one batch', () => {
    // protobuf-es has no binary form for 2^64 and above (a sum past uint64); the NDJSON test below covers it
    const all = variants().filter(([name]) => !name.endsWith(`=${2 ** 64}`));
    for (const [name, stat] of all) {
      const ours = encodeChecked(encodeAnalyticsStatsEntryInto, stat);
      const theirs = Buffer.from(new LkStats({ stats: [toLivekitStat(stat)] }).toBinary());
      if (!ours.equals(theirs)) expect(ours.toString('hex'), name).toBe(theirs.toString('hex'));
    }
    // concatenated entries form one AnalyticsStats, each after a large one included
    const batch = all.slice(0, 60);
    const ours = Buffer.concat(batch.map(([, s]) => encodeChecked(encodeAnalyticsStatsEntryInto, s)));
    const theirs = Buffer.from(new LkStats({ stats: batch.map(([, s]) => toLivekitStat(s)) }).toBinary());
    expect(ours.equals(theirs)).toBe(true);
  });

  it('IngestStats: with the buffer ending anywhere around a stat, its bytes are written whole or refused', () => {
    const id = 'é'.repeat(20);
    const stat = { ...blankStat(), mime: 'm'.repeat(150), id };
    const theirs = Buffer.from(new LkStats({ stats: [toLivekitStat(stat)] }).toBinary());
    // the buffer's end falls before, inside and after the id (the last field), from each of a few offsets
    for (const at of [0, 3]) {
      for (let room = theirs.length - 70; room <= theirs.length + 70; room++) {
        const into = Buffer.alloc(at + room, 0xa5);
        const n = encodeAnalyticsStatsEntryInto(stat, into, at);
        if (room < theirs.length) expect(n, `${room} bytes of room`).toBe(NO_ROOM);
        else if (n !== NO_ROOM) expect(into.subarray(at, at + n).equals(theirs), `${room} bytes of room`).toBe(true);
        expect(into.subarray(0, at).every((b) => b === 0xa5)).toBe(true);
      }
      // the most it reserves beyond the bytes: a 3-byte-per-unit string and a 10-byte varint
      const into = Buffer.alloc(at + theirs.length + 3 * id.length + 10);
      const n = encodeAnalyticsStatsEntryInto(stat, into, at);
      expect(into.subarray(at, at + n).equals(theirs)).toBe(true);
    }
  });

  it('IngestStats: an error other than running out of room reaches the caller (delivery would offer room forever)', () => {
    const broken = { ...blankStat(), streams: null } as unknown as AnalyticsStat;
    expect(() => encodeAnalyticsStatsEntryInto(broken, Buffer.alloc(1024), 0)).toThrow(TypeError);
    // and the encoder is not left broken by it
    expect(encodeChecked(encodeAnalyticsStatsEntryInto, { ...blankStat(), id: 'a' })).toEqual(
      Buffer.from(new LkStats({ stats: [toLivekitStat({ ...blankStat(), id: 'a' })] }).toBinary()),
    );
  });

  it('NDJSON: a line is refused exactly when it does not fit, and written whole when it does', () => {
    for (const stat of [
      { ...blankStat(), id: 'a' },
      { ...blankStat(), mime: '€'.repeat(30), id: 'x'.repeat(50) },
      // an escaped string last, where three bytes per character would not fit but its UTF-8 does
      { ...blankStat(), roomId: 'r\u0001"', id: 'é'.repeat(20) },
    ]) {
      const line = Buffer.from(toJsonLine(stat));
      for (const at of [0, 5]) {
        for (let room = 0; room <= line.length + 3; room++) {
          const into = Buffer.alloc(at + room, 0xa5);
          const n = encodeNdjsonLineInto(stat, into, at);
          if (room < line.length) expect(n, `${room} bytes of room`).toBe(NO_ROOM);
          else expect(into.subarray(at, at + n).equals(line), `${room} bytes of room`).toBe(true);
          expect(into.subarray(0, at).every((b) => b === 0xa5)).toBe(true);
        }
      }
    }
  });

  it('NDJSON lines equal @livekit/protocol toJsonString, or both refuse', () => {
    for (const [name, stat] of variants()) {
      const ours = attempt(() => encodeChecked(encodeNdjsonLineInto, stat));
      const theirs = attempt(() => toJsonLine(stat));
      if ('bytes' in ours && 'bytes' in theirs) {
        if (!ours.bytes.equals(theirs.bytes)) expect(ours.bytes.toString(), name).toBe(theirs.bytes.toString());
      } else {
        expect(ours, name).toEqual(theirs);
      }
    }
  });

  it('NDJSON of the same values in a different order (nothing carried over from the previous stat)', () => {
    // each stat's fields against the library after a stat whose values differ: remembered renderings must not leak
    const sequence = [
      { ...blankStat(), score: 1.5, minScore: 1.5, medianScore: 2.5, timeStamp: { seconds: 1, nanos: 0 } },
      { ...blankStat(), score: 2.5, minScore: 1.5, medianScore: 2.5, timeStamp: { seconds: 1, nanos: 7 } },
      { ...blankStat(), score: 2.5, minScore: 3.5, medianScore: 1.5, timeStamp: { seconds: 2, nanos: 7 } },
      { ...blankStat(), score: NaN, minScore: NaN, medianScore: 3.5, timeStamp: { seconds: 2, nanos: 7 } },
      {
        ...blankStat(),
        score: 3.5,
        streams: [
          blankStream({ startTime: { seconds: 5, nanos: 1 }, endTime: { seconds: 6, nanos: 1 } }),
          blankStream({ startTime: { seconds: 5, nanos: 2 }, endTime: { seconds: 7, nanos: 1 } }),
          blankStream({ startTime: { seconds: 4, nanos: 2 }, endTime: { seconds: 7, nanos: 1 } }),
        ],
      },
    ];
    for (let round = 0; round < 2; round++) {
      for (const stat of sequence) expect(encodeChecked(encodeNdjsonLineInto, stat).toString()).toBe(toJsonLine(stat));
    }
  });

  it('NDJSON of a stat far longer than the room first offered, then a short one', () => {
    const long = { ...blankStat(), mime: '€'.repeat(40_000), id: 'x'.repeat(100_000) };
    const ours = encodeChecked(encodeNdjsonLineInto, long);
    expect(ours.equals(Buffer.from(toJsonLine(long)))).toBe(true);
    expect(ours.length).toBe(Buffer.byteLength(toJsonLine(long)));
    const short = { ...blankStat(), id: 'a' };
    expect(encodeChecked(encodeNdjsonLineInto, short).toString()).toBe('{"id":"a"}\n');
  });

  it('refuses the Timestamps that have no JSON, as the library does, naming the reason', () => {
    const cases: [Timestamp, RegExp][] = [
      [{ seconds: GO_ZERO_SECONDS - 1, nanos: 0 }, /from 0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z inclusive/],
      [{ seconds: 253_402_300_800, nanos: 0 }, /from 0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z inclusive/],
      [{ seconds: 0, nanos: -1 }, /nanos must not be negative/],
      [{ seconds: 0.5, nanos: 0 }, /cannot encode Timestamp seconds 0.5/],
    ];
    for (const [timeStamp, message] of cases) {
      const stat = { ...blankStat(), timeStamp };
      expect(() => encodeChecked(encodeNdjsonLineInto, stat), JSON.stringify(timeStamp)).toThrow(message);
    }
    // the edges themselves are written
    for (const seconds of [GO_ZERO_SECONDS, 253_402_300_799]) {
      const stat = { ...blankStat(), timeStamp: { seconds, nanos: 0 } };
      expect(encodeChecked(encodeNdjsonLineInto, stat).toString()).toBe(toJsonLine(stat));
    }
  });
});
