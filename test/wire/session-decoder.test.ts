/**
 * The hand-written Session/TrackStats decoders against the path they replace
 * (proto-loader with LOADER_OPTIONS, then from-wire.ts and requests.ts): the
 * same bytes must give the same request, the same core inputs or the same
 * validation error, and MalformedMessage exactly when proto-loader throws.
 */
import type { ServiceDefinition } from '@grpc/grpc-js';
import fc from 'fast-check';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { SidecarError } from '../../src/core/errors.js';
import type { SessionRequest__Output } from '../../src/generated/telemetry/sidecar/v1/SessionRequest.js';
import type { TrackStat__Output } from '../../src/generated/telemetry/sidecar/v1/TrackStat.js';
import type { TrackStatsRequest__Output } from '../../src/generated/telemetry/sidecar/v1/TrackStatsRequest.js';
import { MalformedMessage, tolerant } from '../../src/service/malformed.js';
import { toDecodedTrackStatInputs, validateTrackStats } from '../../src/service/requests.js';
import { toStatSample } from '../helpers/from-wire.js';
import { loadPackageDefinition } from '../../src/wire/protos.js';
import {
  decodeSessionRequest,
  decodeTrackStatsRequest,
  type DecodedSessionRequest,
  type DecodedTrackStat,
  type DecodedTrackStats,
} from '../../src/wire/session-decoder.js';

const service = loadPackageDefinition()['telemetry.sidecar.v1.TelemetrySidecar'] as ServiceDefinition;
const reference = tolerant(service.Session!.requestDeserialize as (b: Buffer) => SessionRequest__Output);
const fast = tolerant(decodeSessionRequest);
const referenceTrackStats = tolerant(
  service.TrackStats!.requestDeserialize as (b: Buffer) => TrackStatsRequest__Output,
);
const fastTrackStats = tolerant(decodeTrackStatsRequest);

/**
 * Wire-compatible with sidecar.proto and livekit_analytics.proto, plus fields
 * the real messages do not have (x*: scalar, fixed, length-delimited, packed
 * and unpacked repeated, nested), declared first and last so unknown fields
 * come before and after the known ones at every level. No oneof: several
 * request members may be set at once, which the decoders must also agree on.
 */
const SCHEMA = `
syntax = "proto3";
package t;
message Ts { sfixed64 x0 = 40; int64 seconds = 1; int32 nanos = 2; string x1 = 41; }
message Layer {
  repeated uint32 x0 = 40 [packed = true];
  int32 layer = 1; uint32 packets = 2; uint64 bytes = 3; uint32 frames = 4;
  repeated uint32 x1 = 41 [packed = false];
}
message Stream {
  double x0 = 16;
  uint32 ssrc = 1; uint32 primary_packets = 2; uint64 primary_bytes = 3; uint32 retransmit_packets = 4;
  uint64 retransmit_bytes = 5; uint32 padding_packets = 6; uint64 padding_bytes = 7; uint32 packets_lost = 8;
  uint32 frames = 9; uint32 rtt = 10; uint32 jitter = 11; uint32 nacks = 12; uint32 plis = 13; uint32 firs = 14;
  repeated Layer video_layers = 15; Ts start_time = 17; Ts end_time = 18; uint32 packets_out_of_order = 19;
  bytes x1 = 40; repeated sint64 x2 = 41;
}
message Stat {
  fixed64 x0 = 30;
  string id = 14; string analytics_key = 1; int32 kind = 2; Ts time_stamp = 3; string node = 4;
  string room_id = 5; string room_name = 6; string participant_id = 7; string track_id = 8;
  float score = 9; repeated Stream streams = 10; string mime = 11; float min_score = 12; float median_score = 13;
  Ts x1 = 31;
}
message TrackStat {
  repeated int64 x0 = 20;
  string room_id = 1; string participant_id = 2; string track_id = 3; int32 kind = 4; Stat stat = 5;
  string country = 6; int32 track_source = 7; int32 track_type = 8;
  fixed32 x1 = 21;
}
message TrackStats { uint64 x0 = 2; repeated TrackStat stats = 1; }
message Hello { bool x0 = 9; string client_id = 1; }
message Activate {
  string room_id = 1; string room_name = 2; string participant_id = 3; string participant_identity = 4;
  string guard_id = 5; bool connected = 6; string x0 = 7;
}
message Release { string room_id = 1; string participant_id = 2; string guard_id = 3; float x0 = 4; }
message Flush { bool wait_delivered = 1; uint64 x0 = 2; }
message Req {
  repeated uint32 x0 = 7;
  uint64 seq = 1; Hello hello = 2; Activate activate = 3; Release release = 4; TrackStats stats = 5; Flush flush = 6;
  string x1 = 8;
}
`;
const root = protobuf.parse(SCHEMA, { keepCase: false }).root;
const Req = root.lookupType('t.Req');
const TrackStatsType = root.lookupType('t.TrackStats');

// ---- generators ----

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const i32 = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
const u64 = fc
  .oneof(
    fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
    fc.constantFrom(0n, 2n ** 53n + 1n, 2n ** 63n - 1n, 2n ** 63n, 2n ** 64n - 1n),
  )
  .map(String);
const i64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String);
const float = fc.float();
const text = fc.oneof(
  { weight: 6, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ minLength: 250, maxLength: 300 }) },
);
/** An id: usually valid, sometimes empty or too long (validation errors must match too). */
const id = fc.oneof(
  { weight: 8, arbitrary: fc.string({ minLength: 1, maxLength: 10 }) },
  { weight: 1, arbitrary: text },
);
const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined, freq: 3 });
const extra = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined, freq: 2 });

const ts = fc.record({ seconds: opt(i64), nanos: opt(i32), x0: extra(i64), x1: extra(text) }, { requiredKeys: [] });
const layer = fc.record(
  {
    layer: opt(i32),
    packets: opt(u32),
    bytes: opt(u64),
    frames: opt(u32),
    x0: extra(fc.array(u32, { maxLength: 3 })),
    x1: extra(fc.array(u32, { maxLength: 3 })),
  },
  { requiredKeys: [] },
);
const stream = fc.record(
  {
    ssrc: opt(u32),
    primaryPackets: opt(fc.oneof(u32, fc.constant(2 ** 31))),
    primaryBytes: opt(u64),
    retransmitPackets: opt(u32),
    retransmitBytes: opt(u64),
    paddingPackets: opt(u32),
    paddingBytes: opt(u64),
    packetsLost: opt(u32),
    frames: opt(u32),
    rtt: opt(u32),
    jitter: opt(u32),
    nacks: opt(u32),
    plis: opt(u32),
    firs: opt(u32),
    videoLayers: opt(fc.array(layer, { maxLength: 3 })),
    startTime: opt(ts),
    endTime: opt(ts),
    packetsOutOfOrder: opt(u32),
    x0: extra(fc.double()),
    x1: extra(fc.uint8Array({ maxLength: 8 })),
    x2: extra(fc.array(i64, { maxLength: 3 })),
  },
  { requiredKeys: [] },
);
const stat = fc.record(
  {
    id: opt(text),
    analyticsKey: opt(text),
    kind: opt(i32),
    timeStamp: opt(ts),
    node: opt(text),
    roomId: opt(text),
    roomName: opt(text),
    participantId: opt(text),
    trackId: opt(text),
    score: opt(float),
    streams: opt(fc.array(stream, { maxLength: 2 })),
    mime: opt(fc.constantFrom('audio/opus', 'video/VP8', '')),
    minScore: opt(float),
    medianScore: opt(float),
    x0: extra(u64),
    x1: extra(ts),
  },
  { requiredKeys: [] },
);
const trackStat = fc.record(
  {
    roomId: opt(fc.oneof(fc.constantFrom('RM_a', 'RM_b'), id)),
    participantId: opt(fc.oneof(fc.constantFrom('PA_1', 'PA_2'), id)),
    trackId: opt(id),
    kind: opt(fc.oneof({ weight: 8, arbitrary: fc.constantFrom(0, 1) }, { weight: 1, arbitrary: i32 })),
    stat: fc.option(stat, { nil: undefined, freq: 10 }),
    country: opt(fc.oneof(fc.constantFrom('US', 'DE'), text)),
    trackSource: opt(i32),
    trackType: opt(i32),
    x0: extra(fc.array(i64, { maxLength: 2 })),
    x1: extra(u32),
  },
  { requiredKeys: [] },
);
const trackStats = fc.record({ stats: fc.array(trackStat, { maxLength: 5 }), x0: extra(u64) }, { requiredKeys: [] });
const request = fc.record(
  {
    seq: opt(u64),
    hello: fc.option(fc.record({ clientId: opt(text), x0: extra(fc.boolean()) }, { requiredKeys: [] }), {
      nil: undefined,
      freq: 4,
    }),
    activate: fc.option(
      fc.record(
        {
          roomId: opt(id),
          roomName: opt(text),
          participantId: opt(id),
          participantIdentity: opt(text),
          guardId: opt(text),
          connected: opt(fc.boolean()),
          x0: extra(text),
        },
        { requiredKeys: [] },
      ),
      { nil: undefined, freq: 4 },
    ),
    release: fc.option(
      fc.record({ roomId: opt(id), participantId: opt(id), guardId: opt(id), x0: extra(float) }, { requiredKeys: [] }),
      {
        nil: undefined,
        freq: 4,
      },
    ),
    stats: fc.option(trackStats, { nil: undefined, freq: 2 }),
    flush: fc.option(fc.record({ waitDelivered: opt(fc.boolean()), x0: extra(u64) }, { requiredKeys: [] }), {
      nil: undefined,
      freq: 4,
    }),
    x0: extra(fc.array(u32, { maxLength: 3 })),
    x1: extra(text),
  },
  { requiredKeys: [] },
);

const encode = (type: protobuf.Type, value: object): Buffer =>
  Buffer.from(type.encode(type.fromObject(value)).finish());
const requestBytes = request.map((r) => encode(Req, r));

/**
 * Protobuf-shaped noise: fields 0–20 with any wire type (the decoders read a
 * known field by its declared type whatever its wire type, as protobufjs
 * does), nested length-delimited noise, groups, and stray end-group tags.
 */
const soup: fc.Arbitrary<Buffer> = fc.letrec<{ msg: Buffer }>((tie) => ({
  msg: fc
    .array(
      fc.oneof(
        fc
          .tuple(fc.integer({ min: 0, max: 20 }), fc.constantFrom(0, 1, 5), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }))
          .map(([f, w, v]) => {
            const wr = protobuf.Writer.create().uint32((f << 3) | w);
            if (w === 0) wr.uint64(v.toString());
            else if (w === 1) wr.fixed64(v.toString());
            else wr.fixed32(Number(v & 0xffffffffn));
            return Buffer.from(wr.finish());
          }),
        fc
          .tuple(
            fc.integer({ min: 0, max: 20 }),
            fc.oneof(
              tie('msg'),
              fc.uint8Array({ maxLength: 6 }).map((a) => Buffer.from(a)),
            ),
          )
          .map(([f, body]) =>
            Buffer.from(
              protobuf.Writer.create()
                .uint32((f << 3) | 2)
                .bytes(body)
                .finish(),
            ),
          ),
        fc.tuple(fc.integer({ min: 1, max: 20 }), fc.constantFrom(3, 4, 6, 7)).map(([f, w]) =>
          Buffer.from(
            protobuf.Writer.create()
              .uint32((f << 3) | w)
              .finish(),
          ),
        ),
      ),
      { maxLength: 6 },
    )
    .map((parts) => Buffer.concat(parts)),
})).msg;

// ---- comparison ----

function outcome(run: () => unknown): unknown {
  try {
    return { ok: run() };
  } catch (err) {
    if (err instanceof SidecarError) return { code: err.code, message: err.message };
    throw err;
  }
}

function expectSameTrackStats(a: TrackStatsRequest__Output, b: DecodedTrackStats): void {
  expect(b.stats).toHaveLength(a.stats.length);
  a.stats.forEach((s: TrackStat__Output, i) => {
    const d: DecodedTrackStat = b.stats[i]!;
    expect({ ...d, stat: null }).toEqual({
      roomId: s.roomId,
      participantId: s.participantId,
      trackId: s.trackId,
      kind: s.kind,
      stat: null,
      country: s.country,
      trackSource: s.trackSource,
      trackType: s.trackType,
    });
    expect(d.stat).toEqual(s.stat ? toStatSample(s.stat) : null);
  });
  expect(outcome(() => toDecodedTrackStatInputs(b.stats))).toEqual(
    outcome(() => validateTrackStats(a.stats, toStatSample)),
  );
}

function expectSameSession(bytes: Buffer): 'ok' | 'malformed' {
  const a = reference(bytes);
  const b = fast(bytes);
  if (a instanceof MalformedMessage || b instanceof MalformedMessage) {
    expect({ malformed: b instanceof MalformedMessage, seq: b.seq }).toEqual({
      malformed: a instanceof MalformedMessage,
      seq: a.seq,
    });
    return 'malformed';
  }
  const d: DecodedSessionRequest = b;
  expect(String(d.seq)).toBe(a.seq.toString());
  expect(typeof d.seq === 'number' ? Number.isSafeInteger(d.seq) : BigInt(d.seq) >= 2n ** 53n).toBe(true);
  expect(d.request).toBe(a.request);
  expect(d.hello).toEqual(a.hello);
  expect(d.activate).toEqual(a.activate);
  expect(d.release).toEqual(a.release);
  expect(d.flush).toEqual(a.flush);
  expect(d.stats === undefined).toBe(a.stats === undefined);
  if (a.stats && d.stats) expectSameTrackStats(a.stats, d.stats);
  return 'ok';
}

function expectSameUnary(bytes: Buffer): void {
  const a = referenceTrackStats(bytes);
  const b = fastTrackStats(bytes);
  if (a instanceof MalformedMessage || b instanceof MalformedMessage) {
    expect(b instanceof MalformedMessage).toBe(a instanceof MalformedMessage);
    return;
  }
  expectSameTrackStats(a, b);
}

describe('hand-written SessionRequest decoder', () => {
  it('decodes generated requests (unknown fields, packed and unpacked, several members) as proto-loader does', () => {
    fc.assert(
      fc.property(requestBytes, (bytes) => void expectSameSession(bytes)),
      { numRuns: 400 },
    );
  });

  it('agrees on every truncation of a request: same value or both malformed', () => {
    let malformed = 0;
    fc.assert(
      fc.property(requestBytes, fc.double({ min: 0, max: 1, noNaN: true }), (bytes, at) => {
        if (expectSameSession(bytes.subarray(0, Math.floor(bytes.length * at))) === 'malformed') malformed++;
      }),
      { numRuns: 400 },
    );
    expect(malformed).toBeGreaterThan(0);
  });

  it('agrees on requests with a byte changed', () => {
    fc.assert(
      fc.property(requestBytes, fc.nat(), fc.integer({ min: 0, max: 255 }), (bytes, at, byte) => {
        const copy = Buffer.from(bytes);
        if (copy.length > 0) copy[at % copy.length] = byte;
        expectSameSession(copy);
      }),
      { numRuns: 400 },
    );
  });

  it('agrees on protobuf-shaped noise, wrong wire types and groups included, at the top and inside stats', () => {
    fc.assert(
      fc.property(soup, fc.boolean(), (noise, nested) => {
        const bytes = nested
          ? Buffer.concat([
              Buffer.from([0x08, 0x07, 0x2a]),
              Buffer.from(protobuf.Writer.create().uint32(noise.length).finish()),
              noise,
            ])
          : noise;
        expectSameSession(bytes);
      }),
      { numRuns: 600 },
    );
  });

  it('agrees on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (a) => void expectSameSession(Buffer.from(a))),
      { numRuns: 600 },
    );
  });

  it('keeps protobufjs leniencies: a string running past the end is cut, a short trailing 64-bit varint is read', () => {
    // seq, then hello{client_id: length 9 but only 3 bytes}: protobufjs cuts the string at the message end
    const cut = Buffer.from([0x08, 0x05, 0x12, 0x05, 0x0a, 0x09, 0x61, 0x62, 0x63]);
    expect(expectSameSession(cut)).toBe('ok');
    expect(decodeSessionRequest(cut).hello).toEqual({ clientId: 'abc' });
    const shortVarint = Buffer.from([0x08, 0x80, 0x80, 0x80]);
    expect(expectSameSession(shortVarint)).toBe('ok');
    expect(expectSameSession(Buffer.from([0x2a, 0x05, 0x0a]))).toBe('malformed');
    expect(fast(Buffer.from([0x08, 0x2a, 0x2a, 0x7f]))).toEqual(
      new MalformedMessage(expect.any(String) as string, 42n),
    );
  });

  it('gives the same validation errors', () => {
    const bytes = encode(Req, {
      seq: 3,
      stats: {
        stats: [
          { roomId: 'RM', participantId: 'PA', trackId: 'TR', kind: 1, stat: {} },
          { roomId: 'RM', participantId: '', trackId: 'T', stat: {} },
        ],
      },
    });
    const d = decodeSessionRequest(bytes);
    expect(outcome(() => toDecodedTrackStatInputs(d.stats!.stats))).toEqual({
      code: 'INVALID_ARGUMENT',
      message: 'stats[1].participant_id must be 1-256 bytes, got 0',
    });
    expect(expectSameSession(bytes)).toBe('ok');
  });
});

describe('hand-written TrackStatsRequest decoder (unary TrackStats)', () => {
  it('decodes generated requests as proto-loader does', () => {
    fc.assert(
      fc.property(trackStats, (r) => expectSameUnary(encode(TrackStatsType, r))),
      { numRuns: 300 },
    );
  });

  it('agrees on truncations and noise', () => {
    fc.assert(
      fc.property(trackStats, fc.double({ min: 0, max: 1, noNaN: true }), (r, at) => {
        const bytes = encode(TrackStatsType, r);
        expectSameUnary(bytes.subarray(0, Math.floor(bytes.length * at)));
      }),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(soup, (noise) => expectSameUnary(noise)),
      { numRuns: 300 },
    );
  });
});
