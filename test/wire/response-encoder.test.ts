/**
 * The hand-written SessionResponse encoder against proto-loader's serializer
 * (what grpc-js used before): the same bytes for every response, whether the
 * fast path or the fallback encodes it, and the fast path really taken for
 * the TrackStats answers the Session sends.
 */
import type { ServiceDefinition } from '@grpc/grpc-js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SessionResponse } from '../../src/generated/telemetry/sidecar/v1/SessionResponse.js';
import { loadPackageDefinition } from '../../src/wire/protos.js';
import { sessionResponseSerializer } from '../../src/wire/response-encoder.js';

const definition = loadPackageDefinition()['telemetry.sidecar.v1.TelemetrySidecar'] as ServiceDefinition;
const protoLoader = definition.Session!.responseSerialize as (value: SessionResponse) => Buffer;
const ours = sessionResponseSerializer(protoLoader);
const parse = definition.Session!.responseDeserialize as (buf: Buffer) => unknown;

/** A serializer that refuses to be called: proves the fast path encoded the value. */
const handOnly = sessionResponseSerializer(() => {
  throw new Error('fell back to proto-loader');
});

/** Every varint length of a uint32, and the values around each boundary. */
const u32 = fc.oneof(
  fc.nat({ max: 300 }),
  fc.constantFrom(0, 1, 127, 128, 16_383, 16_384, 2 ** 21 - 1, 2 ** 21, 2 ** 28 - 1, 2 ** 28, 2 ** 31, 2 ** 32 - 1),
  fc.nat({ max: 2 ** 32 - 1 }),
);
/** Seqs as the decoder gives them: numbers up to 2^53, past 2^32 too. */
const seq = fc.oneof(
  fc.nat({ max: 1_000_000 }),
  fc.constantFrom(0, 127, 128, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 35 - 1, 2 ** 35, 2 ** 49, 2 ** 53 - 1),
  fc.maxSafeNat(),
);
/** Anything a caller could put in a count: protobufjs writes `x >>> 0`. */
const anyCount = fc.oneof(u32, fc.integer(), fc.double(), fc.constantFrom(-1, 2 ** 32, 2 ** 40 + 3, NaN, Infinity, -0));
const statsAnswer = fc.record({ accepted: u32, invalid: u32, noWorker: u32 });

/** The responses a Session sends, plus values off the fast path's shape. */
const response: fc.Arbitrary<SessionResponse> = fc.oneof(
  fc.record({ seq, stats: statsAnswer }),
  fc.record({ seq, stats: fc.record({ accepted: anyCount, invalid: anyCount, noWorker: anyCount }) }),
  fc.record(
    { seq: fc.oneof(seq, fc.constantFrom('18446744073709551615', '9007199254740993', '0')), stats: statsAnswer },
    { requiredKeys: ['stats'] },
  ),
  fc.record({ seq, stats: fc.record({ accepted: u32, invalid: u32, noWorker: u32 }, { requiredKeys: [] }) }),
  fc.record({ seq: fc.oneof(seq, fc.constantFrom(-1, 1.5, 2 ** 53, 2 ** 64)), stats: statsAnswer }),
  fc.record({ seq, error: fc.record({ code: fc.integer({ min: -3, max: 16 }), message: fc.string() }) }),
  fc.record({ seq, stats: statsAnswer, error: fc.record({ code: fc.nat(16), message: fc.string() }) }),
  fc.record({ seq, hello: fc.record({ adoptedGuards: u32 }) }),
  fc.record({ seq, activate: fc.record({ found: fc.boolean(), refCount: u32, connected: fc.boolean() }) }),
  fc.record({
    seq,
    release: fc.record({ closed: fc.boolean(), found: fc.boolean(), wasConnected: fc.boolean(), refCount: u32 }),
  }),
  fc.record({
    seq,
    flush: fc.record({ workersFlushed: u32, statsEmitted: u32, workersReaped: u32, delivered: fc.boolean() }),
  }),
  fc.record({ seq, stats: fc.constant(null) }),
);

describe('SessionResponse encoder', () => {
  it('writes the same bytes as proto-loader for every response', () => {
    fc.assert(
      fc.property(response, (value) => {
        expect(ours(value).toString('hex')).toBe(protoLoader(value).toString('hex'));
      }),
      { numRuns: 5_000 },
    );
  });

  it('encodes a TrackStats answer itself, without proto-loader', () => {
    fc.assert(
      fc.property(seq, statsAnswer, (s, stats) => {
        const bytes = handOnly({ seq: s, stats });
        expect(bytes.toString('hex')).toBe(protoLoader({ seq: s, stats }).toString('hex'));
        expect(parse(bytes)).toMatchObject({ stats });
      }),
      { numRuns: 2_000 },
    );
  });

  it('writes zero counts and a zero seq, as protobufjs does for present fields', () => {
    const bytes = handOnly({ seq: 0, stats: { accepted: 0, invalid: 0, noWorker: 0 } });
    expect(bytes.toString('hex')).toBe('08002a06080010001800');
    expect(bytes).toEqual(protoLoader({ seq: 0, stats: { accepted: 0, invalid: 0, noWorker: 0 } }));
  });
});
