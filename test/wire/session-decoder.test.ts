/**
 * The hand-written request decoders against proto-loader (LOADER_OPTIONS),
 * the path they replace. The schema is proto/ itself, loaded with protobufjs
 * and widened with fields the real messages do not have (unknown fields at
 * every level); the generators are derived from it, so a field added to the
 * proto is generated, decoded by proto-loader and compared here.
 *
 * Precisely:
 * - within the limits and with valid UTF-8, the decoder gives proto-loader's
 *   result (Longs as numbers, stats in the core's shape);
 * - it refuses for a limit exactly when proto-loader's result is over one;
 * - it refuses for UTF-8 only where proto-loader's strings hold U+FFFD;
 * - wherever proto-loader throws, the decoder refuses.
 * The limits are made small here so that generated requests land on both sides of each.
 */
import type { ServiceDefinition } from '@grpc/grpc-js';
import fc from 'fast-check';
import protobuf from 'protobufjs';
import { afterAll, describe, expect, it } from 'vitest';
import { SidecarError } from '../../src/core/errors.js';
import type { SessionRequest__Output } from '../../src/generated/telemetry/sidecar/v1/SessionRequest.js';
import type { TrackStatsRequest__Output } from '../../src/generated/telemetry/sidecar/v1/TrackStatsRequest.js';
import { toTrackStatInputs } from '../../src/service/requests.js';
import { loadPackageDefinition } from '../../src/wire/protos.js';
import { countSessionStats, countTrackStats, peekSessionRequest } from '../../src/wire/request-scan.js';
import type { RequestLimits } from '../../src/wire/request-limits.js';
import {
  decodeActivateRequest,
  decodeFlushRequest,
  decodeListWorkersRequest,
  decodeReleaseRequest,
  decodeSessionRequest,
  decodeTrackStatsRequest,
  MALFORMED_REASON,
  REQUEST_LIMIT_REASON,
  u64Seq,
} from '../../src/wire/session-decoder.js';
import { toNumbers, toStatSample } from '../helpers/from-wire.js';
import { loadProtoRoot } from '../helpers/proto-schema.js';
import { runs, UNDER_MUTATION } from './runs.js';

const service = loadPackageDefinition()['telemetry.sidecar.v1.TelemetrySidecar'] as ServiceDefinition;
const referenceOf = (method: string) => service[method]!.requestDeserialize as (b: Buffer) => unknown;

/** Small enough that generated requests fall on both sides of every limit. */
const LIMITS: RequestLimits = {
  messageBytes: 1500,
  statsPerRequest: 4,
  streamsPerStat: 2,
  layersPerStream: 2,
  messagesPerRequest: 16,
};

// ---- schema: proto/, plus unknown fields at every level ----

const root = loadProtoRoot();
const NOISE: Record<string, [name: string, id: number, type: string, rule?: 'repeated', packed?: boolean][]> = {
  'google.protobuf.Timestamp': [
    ['x0', 40, 'sfixed64'],
    ['x1', 41, 'string'],
  ],
  'livekit.AnalyticsVideoLayer': [
    ['x0', 40, 'uint32', 'repeated', true],
    ['x1', 41, 'uint32', 'repeated', false],
  ],
  // 16 is a gap among the known fields: unknown bytes in the middle of a message
  'livekit.AnalyticsStream': [
    ['x0', 16, 'double'],
    ['x1', 40, 'bytes'],
    ['x2', 41, 'sint64', 'repeated'],
  ],
  'livekit.AnalyticsStat': [
    ['x0', 30, 'fixed64'],
    ['x1', 31, 'google.protobuf.Timestamp'],
  ],
  'telemetry.sidecar.v1.TrackStat': [
    ['x0', 20, 'int64', 'repeated'],
    ['x1', 21, 'fixed32'],
  ],
  'telemetry.sidecar.v1.TrackStatsRequest': [['x0', 2, 'uint64']],
  'telemetry.sidecar.v1.Hello': [['x0', 9, 'bool']],
  'telemetry.sidecar.v1.ActivateRequest': [['x0', 7, 'string']],
  'telemetry.sidecar.v1.ReleaseRequest': [['x0', 4, 'float']],
  'telemetry.sidecar.v1.FlushRequest': [['x0', 2, 'uint64']],
  'telemetry.sidecar.v1.ListWorkersRequest': [['x0', 2, 'string']],
  'telemetry.sidecar.v1.SessionRequest': [
    ['x0', 7, 'uint32', 'repeated'],
    ['x1', 8, 'string'],
  ],
};
for (const [typeName, fields] of Object.entries(NOISE)) {
  const type = root.lookupType(typeName);
  for (const [name, id, fieldType, rule, packed] of fields) {
    const field = new protobuf.Field(
      name,
      id,
      fieldType,
      rule,
      undefined,
      packed === undefined ? undefined : { packed },
    );
    type.add(field);
    field.resolve();
  }
}
const typeOf = (name: string) => root.lookupType(name);

// ---- generators, derived from the schema ----

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const i32 = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
const u64 = fc
  .oneof(
    fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
    fc.constantFrom(0n, 2n ** 53n + 1n, 2n ** 63n - 1n, 2n ** 63n, 2n ** 64n - 1n),
  )
  .map(String);
const i64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String);
/** A lone surrogate: protobufjs writes it as bytes that are not UTF-8. */
const notUtf8 = fc
  .tuple(fc.string({ maxLength: 3 }), fc.integer({ min: 0xd800, max: 0xdfff }))
  .map(([s, c]) => s + String.fromCharCode(c));
const text = fc.oneof(
  { weight: 12, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 4, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ minLength: 250, maxLength: 300 }) },
  { weight: 1, arbitrary: notUtf8 },
);
/** An id: usually valid, sometimes empty, too long or not UTF-8 (every refusal must match too). */
const id = fc.oneof(
  { weight: 24, arbitrary: fc.string({ minLength: 1, maxLength: 10 }) },
  { weight: 2, arbitrary: text },
  { weight: 1, arbitrary: notUtf8 },
);
const opt = <T>(a: fc.Arbitrary<T>, freq = 3) => fc.option(a, { nil: undefined, freq });

/** Field values worth more than their type's generic values, by `Message.field`. */
const OVERRIDES: Record<string, fc.Arbitrary<unknown>> = {
  'telemetry.sidecar.v1.TrackStat.roomId': fc.oneof(fc.constantFrom('RM_a', 'RM_b'), id),
  'telemetry.sidecar.v1.TrackStat.participantId': fc.oneof(fc.constantFrom('PA_1', 'PA_2'), id),
  'telemetry.sidecar.v1.TrackStat.trackId': fc.oneof(fc.constant(''), id),
  'telemetry.sidecar.v1.TrackStat.kind': fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom(0, 1) },
    { weight: 1, arbitrary: i32 },
  ),
  'telemetry.sidecar.v1.TrackStat.country': fc.oneof(fc.constantFrom('US', 'DE'), text),
  'telemetry.sidecar.v1.ActivateRequest.roomId': id,
  'telemetry.sidecar.v1.ActivateRequest.participantId': id,
  'telemetry.sidecar.v1.ActivateRequest.guardId': id,
  'telemetry.sidecar.v1.ReleaseRequest.roomId': id,
  'telemetry.sidecar.v1.ReleaseRequest.participantId': id,
  'telemetry.sidecar.v1.ReleaseRequest.guardId': id,
  'livekit.AnalyticsStat.mime': fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom('audio/opus', 'video/VP8', '') },
    { weight: 1, arbitrary: text },
  ),
  'livekit.AnalyticsStream.primaryPackets': fc.oneof(u32, fc.constant(2 ** 31)),
};
/** How often a message field (or oneof member) is set, out of freq + 1. */
const PRESENCE: Record<string, number> = {
  'telemetry.sidecar.v1.TrackStat.stat': 10,
  'telemetry.sidecar.v1.SessionRequest.stats': 2,
};
/** Up to this many of a repeated field: one past the test limit, so both sides are reached. */
const REPEATS: Record<string, number> = {
  'telemetry.sidecar.v1.TrackStatsRequest.stats': LIMITS.statsPerRequest + 1,
  'livekit.AnalyticsStat.streams': LIMITS.streamsPerStat + 1,
  'livekit.AnalyticsStream.videoLayers': LIMITS.layersPerStream + 1,
};

const SCALARS: Record<string, fc.Arbitrary<unknown>> = {
  uint32: u32,
  fixed32: u32,
  int32: i32,
  sint32: i32,
  sfixed32: i32,
  uint64: u64,
  fixed64: u64,
  int64: i64,
  sint64: i64,
  sfixed64: i64,
  float: fc.float(),
  double: fc.double(),
  bool: fc.boolean(),
  string: text,
  bytes: fc.uint8Array({ maxLength: 8 }),
};

const messages = new Map<string, fc.Arbitrary<Record<string, unknown>>>();

/** Any value of the message, every field optional, generated from its descriptor. */
function messageOf(type: protobuf.Type): fc.Arbitrary<Record<string, unknown>> {
  const name = type.fullName.slice(1);
  let arbitrary = messages.get(name);
  if (arbitrary) return arbitrary;
  const fields: Record<string, fc.Arbitrary<unknown>> = {};
  for (const field of type.fieldsArray) {
    const key = `${name}.${field.name}`;
    const resolved = field.resolvedType;
    const value =
      OVERRIDES[key] ??
      SCALARS[field.type] ??
      (resolved instanceof protobuf.Type
        ? messageOf(resolved)
        : fc.oneof(
            { weight: 4, arbitrary: fc.constantFrom(...Object.values((resolved as protobuf.Enum).values)) },
            { weight: 1, arbitrary: i32 },
          ));
    fields[field.name] = field.repeated
      ? opt(fc.array(value, { maxLength: REPEATS[key] ?? 3 }))
      : opt(value, PRESENCE[key] ?? (resolved instanceof protobuf.Type ? 4 : 3));
  }
  arbitrary = fc.record(fields, { requiredKeys: [] });
  messages.set(name, arbitrary);
  return arbitrary;
}

const encode = (type: protobuf.Type, value: object): Buffer =>
  Buffer.from(type.encode(type.fromObject(value)).finish());
const bytesOf = (typeName: string) => messageOf(typeOf(typeName)).map((v) => encode(typeOf(typeName), v));

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

// ---- the oracle ----

type Verdict = 'ok' | 'limit' | 'utf8' | 'malformed';
const verdicts = new Map<string, Record<Verdict, number>>();
/** Limit refusals by limit, over all tests. */
const limitsHit: Record<string, number> = {};
const LIMIT_KINDS: [string, RegExp][] = [
  ['message size', /message size limit/],
  ['stats per request', /more than \d+ stats/],
  ['streams per stat', /more than \d+ streams/],
  ['layers per stream', /more than \d+ video layers/],
  ['nested messages', /more than \d+ nested messages/],
];

afterAll(() => {
  // what share of the generated cases reached each path (the generators must reach all of them)
  console.log('decoder verdicts per test:', Object.fromEntries(verdicts), 'limits hit:', limitsHit);
});

/** Nested messages of a proto-loader result, counted as the decoder counts them (the root excluded). */
function nestedMessages(value: unknown): number {
  if (Array.isArray(value)) return value.reduce((n: number, v) => n + nestedMessages(v), 0);
  if (value === null || typeof value !== 'object' || 'unsigned' in value) return 0;
  return Object.values(value).reduce((n: number, v) => {
    if (Array.isArray(v)) return n + v.reduce((m: number, e) => m + (isMessage(e) ? 1 : 0) + nestedMessages(e), 0);
    return n + (isMessage(v) ? 1 : 0) + nestedMessages(v);
  }, 0);
}
const isMessage = (v: unknown) => v !== null && typeof v === 'object' && !('unsigned' in v) && !Buffer.isBuffer(v);

interface Shape {
  stats?: { stat: { streams: { videoLayers: unknown[] }[] } | null }[];
}

/** Whether proto-loader's result, from `bytes`, is over any of the limits. */
function overLimits(result: unknown, stats: Shape['stats'] | undefined, bytes: Buffer): boolean {
  if (bytes.length > LIMITS.messageBytes) return true;
  if (nestedMessages(result) > LIMITS.messagesPerRequest) return true;
  return (
    (stats ?? []).length > LIMITS.statsPerRequest ||
    (stats ?? []).some(
      (s) =>
        (s.stat?.streams.length ?? 0) > LIMITS.streamsPerStat ||
        (s.stat?.streams ?? []).some((st) => st.videoLayers.length > LIMITS.layersPerStream),
    )
  );
}

/** The strings the decoder reads, as proto-loader decoded them (U+FFFD where the bytes were not UTF-8). */
function readStrings(result: Record<string, unknown>, stats: TrackStatsRequest__Output | null | undefined): string[] {
  const strings = (m: unknown) =>
    m && typeof m === 'object' ? Object.values(m).filter((v): v is string => typeof v === 'string') : [];
  const out = [...strings(result), ...strings(result.hello), ...strings(result.activate), ...strings(result.release)];
  for (const s of stats?.stats ?? []) out.push(s.roomId, s.participantId, s.trackId, s.country, s.stat?.mime ?? '');
  return out;
}

/**
 * Runs both decoders on `bytes` and checks the decoder against proto-loader:
 * `expected` maps proto-loader's result to the decoder's shapes.
 */
function judge(
  test: string,
  /** The bytes hold each singular field once (generated, or a prefix of generated): the limit counts are exact. */
  exact: boolean,
  bytes: Buffer,
  reference: (b: Buffer) => unknown,
  decode: (b: Buffer, limits: RequestLimits) => unknown,
  statsOf: (result: Record<string, unknown>) => TrackStatsRequest__Output | null | undefined,
  expected: (result: Record<string, unknown>) => unknown,
): Verdict {
  const tally = verdicts.get(test) ?? { ok: 0, limit: 0, utf8: 0, malformed: 0 };
  verdicts.set(test, tally);
  let a: Record<string, unknown> | undefined;
  try {
    a = reference(bytes) as Record<string, unknown>;
  } catch {
    a = undefined;
  }
  let b: unknown;
  let refusal: SidecarError | undefined;
  try {
    b = decode(bytes, LIMITS);
  } catch (err) {
    // the decoder only ever throws our typed refusals
    expect(err).toBeInstanceOf(SidecarError);
    refusal = err as SidecarError;
  }
  let verdict: Verdict;
  if (!a) {
    expect(refusal, 'the decoder accepted what proto-loader refuses').toBeDefined();
    verdict = 'malformed';
  } else {
    const stats = statsOf(a);
    const over = overLimits(a, stats?.stats as Shape['stats'], bytes);
    const replaced = readStrings(a, stats).some((s) => s.includes('\uFFFD'));
    if (!refusal) {
      expect(over, 'accepted a request over a limit').toBe(false);
      expect(b).toEqual(expected(a));
      verdict = 'ok';
    } else if (refusal.reason === REQUEST_LIMIT_REASON) {
      expect(refusal.code).toBe('RESOURCE_EXHAUSTED');
      // a repeated singular sub-message counts once per occurrence, but proto-loader keeps only the last
      if (exact) expect(over, `refused a request within the limits: ${refusal.message}`).toBe(true);
      const kind = LIMIT_KINDS.find(([, re]) => re.test(refusal.message))?.[0];
      expect(kind, refusal.message).toBeDefined();
      limitsHit[kind!] = (limitsHit[kind!] ?? 0) + 1;
      verdict = 'limit';
    } else {
      expect(refusal.reason, `refused what proto-loader accepts: ${refusal.message}`).not.toBe(MALFORMED_REASON);
      expect(refusal).toMatchObject({
        code: 'INVALID_ARGUMENT',
        message: expect.stringMatching(/ is not valid UTF-8$/),
      });
      // (an earlier occurrence of a singular string may have been replaced by proto-loader)
      if (exact) expect(replaced, 'refused valid UTF-8').toBe(true);
      verdict = 'utf8';
    }
  }
  tally[verdict]++;
  return verdict;
}

const decodedStats = (s: TrackStatsRequest__Output) => ({
  ...s,
  stats: s.stats.map((t) => ({ ...t, stat: t.stat ? toStatSample(t.stat) : null })),
});

function judgeSession(test: string, bytes: Buffer, exact = true): Verdict {
  return judge(
    test,
    exact,
    bytes,
    referenceOf('Session'),
    decodeSessionRequest,
    (r) => (r as unknown as SessionRequest__Output).stats,
    (r) => {
      const a = r as unknown as SessionRequest__Output;
      return { ...a, seq: u64Seq(a.seq.low >>> 0, a.seq.high >>> 0), stats: a.stats ? decodedStats(a.stats) : a.stats };
    },
  );
}

function judgeTrackStats(test: string, bytes: Buffer, exact = true): Verdict {
  return judge(
    test,
    exact,
    bytes,
    referenceOf('TrackStats'),
    decodeTrackStatsRequest,
    (r) => r as unknown as TrackStatsRequest__Output,
    (r) => decodedStats(r as unknown as TrackStatsRequest__Output),
  );
}

const sessionBytes = bytesOf('telemetry.sidecar.v1.SessionRequest');
const trackStatsBytes = bytesOf('telemetry.sidecar.v1.TrackStatsRequest');

describe('hand-written SessionRequest decoder', () => {
  it('decodes generated requests (unknown fields, packed and unpacked, several members) as proto-loader does', () => {
    fc.assert(
      fc.property(sessionBytes, (bytes) => void judgeSession('generated', bytes)),
      { numRuns: runs(600) },
    );
    // the generators' reach is npm test's concern: under mutation the properties try a tenth of the cases
    if (UNDER_MUTATION) return;
    const { ok, limit, utf8 } = verdicts.get('generated')!;
    expect(Math.min(ok, limit, utf8)).toBeGreaterThan(20);
  });

  it('agrees on every truncation of a request: same value, or refused where proto-loader refuses', () => {
    fc.assert(
      fc.property(sessionBytes, fc.double({ min: 0, max: 1, noNaN: true }), (bytes, at) => {
        judgeSession('truncated', bytes.subarray(0, Math.floor(bytes.length * at)));
      }),
      { numRuns: runs(400) },
    );
    if (!UNDER_MUTATION) expect(verdicts.get('truncated')!.malformed).toBeGreaterThan(0);
  });

  it('agrees on requests with a byte changed', () => {
    fc.assert(
      fc.property(sessionBytes, fc.nat(), fc.integer({ min: 0, max: 255 }), (bytes, at, byte) => {
        const copy = Buffer.from(bytes);
        if (copy.length > 0) copy[at % copy.length] = byte;
        judgeSession('byte changed', copy, false);
      }),
      { numRuns: runs(400) },
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
        judgeSession('noise', bytes, false);
      }),
      { numRuns: runs(600) },
    );
  });

  it('agrees on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (a) => void judgeSession('random', Buffer.from(a), false)),
      { numRuns: runs(600) },
    );
  });

  it('keeps protobufjs leniencies: a string running past the end is cut, a short trailing 64-bit varint is read', () => {
    // seq, then hello{client_id: length 9 but only 3 bytes}: protobufjs cuts the string at the message end
    const cut = Buffer.from([0x08, 0x05, 0x12, 0x05, 0x0a, 0x09, 0x61, 0x62, 0x63]);
    expect(judgeSession('leniencies', cut)).toBe('ok');
    expect(decodeSessionRequest(cut).hello).toEqual({ clientId: 'abc' });
    expect(judgeSession('leniencies', Buffer.from([0x08, 0x80, 0x80, 0x80]))).toBe('ok');
    expect(judgeSession('leniencies', Buffer.from([0x2a, 0x05, 0x0a]))).toBe('malformed');
    expect(() => decodeSessionRequest(Buffer.from([0x08, 0x2a, 0x2a, 0x7f]))).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', reason: MALFORMED_REASON }),
    );
  });

  it('reads the seq, the member and the stats count of a request without decoding it, as the decoder does', () => {
    const unlimited: RequestLimits = {
      messageBytes: Infinity,
      statsPerRequest: Infinity,
      streamsPerStat: Infinity,
      layersPerStream: Infinity,
      messagesPerRequest: Infinity,
    };
    const members = ['hello', 'activate', 'release', 'stats', 'flush'];
    let checked = 0;
    fc.assert(
      fc.property(sessionBytes, (bytes) => {
        let decoded;
        try {
          decoded = decodeSessionRequest(bytes, unlimited);
        } catch {
          return; // a string that is not UTF-8
        }
        checked++;
        const peek = peekSessionRequest(bytes);
        expect(peek.seq).toBe(decoded.seq);
        expect(peek.member).toBe(decoded.request ? members.indexOf(decoded.request) + 2 : 0);
        expect(countSessionStats(bytes)).toBe(decoded.stats?.stats.length ?? 0);
      }),
      { numRuns: runs(300) },
    );
    if (!UNDER_MUTATION) expect(checked).toBeGreaterThan(200);
    // a member sent with the wrong wire type is read by its number, as the decoder (and protobufjs) read it:
    // stats (field 5 as fixed64, but read as a length of 0), flush, seq 5, seq 133
    const crafted = Buffer.from([0x29, 0x00, 0x32, 0x00, 0x08, 0x05, 0x08, 0x85, 0x01]);
    expect(judgeSession('leniencies', crafted)).toBe('ok');
    expect(decodeSessionRequest(crafted)).toMatchObject({ seq: 133, request: 'flush', stats: { stats: [] } });
    expect(peekSessionRequest(crafted)).toEqual({ seq: 133, member: 6 });
    // and on whatever else the decoder accepts: noise, changed bytes
    const changed = fc.tuple(sessionBytes, fc.nat(), fc.integer({ min: 0, max: 255 })).map(([bytes, at, byte]) => {
      const copy = Buffer.from(bytes);
      if (copy.length > 0) copy[at % copy.length] = byte;
      return copy;
    });
    fc.assert(
      fc.property(fc.oneof(soup, changed), (bytes) => {
        let decoded;
        try {
          decoded = decodeSessionRequest(bytes, unlimited);
        } catch {
          return;
        }
        expect(peekSessionRequest(bytes)).toEqual({
          seq: decoded.seq,
          member: decoded.request ? members.indexOf(decoded.request) + 2 : 0,
        });
        expect(countSessionStats(bytes)).toBe(decoded.stats?.stats.length ?? 0);
      }),
      { numRuns: runs(600) },
    );
  });

  it('gives the validation errors of the request, stat by stat', () => {
    const Req = typeOf('telemetry.sidecar.v1.SessionRequest');
    const bytes = encode(Req, {
      seq: 3,
      stats: {
        stats: [
          { roomId: 'RM', participantId: 'PA', trackId: 'TR', kind: 1, stat: {} },
          { roomId: 'RM', participantId: '', trackId: 'T', stat: {} },
        ],
      },
    });
    expect(() => toTrackStatInputs(decodeSessionRequest(bytes).stats!.stats)).toThrow(
      new SidecarError('INVALID_ARGUMENT', 'stats[1].participant_id must be 1-256 bytes, got 0'),
    );
  });
});

describe('hand-written TrackStatsRequest decoder (unary TrackStats)', () => {
  it('decodes generated requests as proto-loader does', () => {
    fc.assert(
      fc.property(trackStatsBytes, (bytes) => void judgeTrackStats('unary generated', bytes)),
      { numRuns: runs(400) },
    );
    if (UNDER_MUTATION) return;
    const { ok, limit, utf8 } = verdicts.get('unary generated')!;
    // about 5 % of the requests carry bad UTF-8 (12-35 of 400 seen); more than 10 failed about one run in a hundred
    expect(Math.min(ok, limit, utf8)).toBeGreaterThan(3);
  });

  it('agrees on truncations and noise', () => {
    fc.assert(
      fc.property(trackStatsBytes, fc.double({ min: 0, max: 1, noNaN: true }), (bytes, at) => {
        judgeTrackStats('unary truncated', bytes.subarray(0, Math.floor(bytes.length * at)));
      }),
      { numRuns: runs(300) },
    );
    fc.assert(
      fc.property(soup, (noise) => void judgeTrackStats('unary noise', noise, false)),
      { numRuns: runs(300) },
    );
  });

  it('counts the stats of a request without decoding it', () => {
    fc.assert(
      fc.property(trackStatsBytes, (bytes) => {
        const reference = referenceOf('TrackStats')(bytes) as TrackStatsRequest__Output;
        expect(countTrackStats(bytes)).toBe(reference.stats.length);
      }),
      { numRuns: runs(200) },
    );
  });
});

describe('hand-written decoders of the other unary requests', () => {
  const cases = [
    ['Activate', 'telemetry.sidecar.v1.ActivateRequest', decodeActivateRequest],
    ['Release', 'telemetry.sidecar.v1.ReleaseRequest', decodeReleaseRequest],
    ['Flush', 'telemetry.sidecar.v1.FlushRequest', decodeFlushRequest],
    ['ListWorkers', 'telemetry.sidecar.v1.ListWorkersRequest', decodeListWorkersRequest],
  ] as const;
  for (const [method, typeName, decode] of cases) {
    it(`decodes ${method} requests, truncations and noise as proto-loader does`, () => {
      const run = (test: string, bytes: Buffer, exact = true) =>
        judge(test, exact, bytes, referenceOf(method), decode, () => undefined, toNumbers);
      fc.assert(
        fc.property(bytesOf(typeName), fc.double({ min: 0, max: 1, noNaN: true }), (bytes, at) => {
          run(`${method} generated`, bytes);
          run(`${method} truncated`, bytes.subarray(0, Math.floor(bytes.length * at)));
        }),
        { numRuns: runs(200) },
      );
      fc.assert(
        fc.property(soup, (noise) => void run(`${method} noise`, noise, false)),
        { numRuns: runs(200) },
      );
    });
  }
});

describe('the generated requests', () => {
  // last in the file: the tally of every property above
  it('reached every request limit', () => {
    if (UNDER_MUTATION) return;
    for (const [kind] of LIMIT_KINDS) expect(limitsHit[kind] ?? 0, kind).toBeGreaterThan(5);
  });
});

/** The unknown fields added above, by name. */
const NOISE_NAMES = { x0: 0, x1: 1, x2: 2 };

describe('every field sent with every wire type', () => {
  const len = (field: number, body: Buffer) =>
    Buffer.concat([
      Buffer.from(
        protobuf.Writer.create()
          .uint32((field << 3) | 2)
          .uint32(body.length)
          .finish(),
      ),
      body,
    ]);
  /** Each message the Session decoder reads, and how its body sits in a SessionRequest. */
  const places: [string, (body: Buffer) => Buffer][] = [
    ['telemetry.sidecar.v1.SessionRequest', (b) => b],
    ['telemetry.sidecar.v1.Hello', (b) => len(2, b)],
    ['telemetry.sidecar.v1.ActivateRequest', (b) => len(3, b)],
    ['telemetry.sidecar.v1.ReleaseRequest', (b) => len(4, b)],
    ['telemetry.sidecar.v1.TrackStatsRequest', (b) => len(5, b)],
    ['telemetry.sidecar.v1.FlushRequest', (b) => len(6, b)],
    ['telemetry.sidecar.v1.TrackStat', (b) => len(5, len(1, b))],
    ['livekit.AnalyticsStat', (b) => len(5, len(1, len(5, b)))],
    ['livekit.AnalyticsStream', (b) => len(5, len(1, len(5, len(10, b))))],
    ['livekit.AnalyticsVideoLayer', (b) => len(5, len(1, len(5, len(10, len(15, b)))))],
    ['google.protobuf.Timestamp', (b) => len(5, len(1, len(5, len(10, len(17, b)))))],
  ];
  const payloads: [wireType: number, bytes: number[]][] = [
    [0, [0x05]],
    [0, [0x96, 0x01]],
    // three to six bytes: the decoder reads up to four inline and leaves longer ones to the reader
    [0, [0xff, 0xff, 0x7f]],
    [0, [0xff, 0xff, 0xff, 0x7f]],
    [0, [0xff, 0xff, 0xff, 0xff, 0x0f]],
    [0, [0x80, 0x80, 0x80, 0x80, 0x80, 0x01]],
    [1, [1, 2, 3, 4, 5, 6, 7, 8]],
    [2, [0x02, 0x41, 0x42]],
    [2, [0x00]],
    [5, [0x00, 0x00, 0x80, 0x3f]],
  ];
  // after the field: nothing, or a float in an unknown field, which a misaligned read would take for other fields
  const trailers = [[], [0xc5, 0x02, 0x4d, 0x00, 0x00, 0x80]];

  it('is read as proto-loader reads it (by number, whatever the wire type), or refused where it refuses', () => {
    for (const [typeName, place] of places) {
      for (const field of typeOf(typeName).fieldsArray) {
        for (const [wireType, payload] of payloads) {
          const tag = Buffer.from(
            protobuf.Writer.create()
              .uint32((field.id << 3) | wireType)
              .finish(),
          );
          // or the same field again: a read that ran past the payload's last byte would take its tag
          for (const trailer of [...trailers, [...tag, ...payload]]) {
            const bytes = place(Buffer.concat([tag, Buffer.from(payload), Buffer.from(trailer)]));
            judgeSession('wire types', bytes, false);
          }
        }
      }
    }
  });

  it('decodes every field of a stream and a layer into its own place', () => {
    const Req = typeOf('telemetry.sidecar.v1.SessionRequest');
    const streamFields = typeOf('livekit.AnalyticsStream').fieldsArray.filter(
      (f) => !f.resolvedType && !(f.name in NOISE_NAMES),
    );
    const stream = Object.fromEntries(streamFields.map((f) => [f.name, f.id * 1000 + 1]));
    const layer = { layer: 3, packets: 5, bytes: 7, frames: 11 };
    const bytes = encode(Req, {
      stats: {
        stats: [
          {
            stat: {
              score: 2.5,
              minScore: 1.5,
              medianScore: 0.5,
              mime: 'm',
              streams: [{ ...stream, videoLayers: [layer] }],
            },
          },
        ],
      },
    });
    expect(judgeSession('distinct values', bytes)).toBe('ok');
    const decoded = decodeSessionRequest(bytes).stats!.stats[0]!.stat!;
    expect(decoded.score).toBe(2.5);
    expect(decoded.streams[0]).toMatchObject({ ...stream, videoLayers: [layer] });
  });
});
