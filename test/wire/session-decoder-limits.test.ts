/**
 * The request decoders at their edges, by example: each limit at its value
 * and one past it, the status each refusal gives (the code, the reason
 * counted in stats_dropped_total, the message the SFU sees), the field named
 * when a string is not UTF-8, the nesting depth at which protobufjs gives up,
 * and the seq on either side of 2^53. The property tests in
 * session-decoder.test.ts compare the decoders with proto-loader on
 * generated requests; these pin what generated requests reach only by chance.
 */
import type { ServiceDefinition } from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { SidecarError } from '../../src/core/errors.js';
import { loadPackageDefinition } from '../../src/wire/protos.js';
import type { RequestLimits } from '../../src/wire/request-limits.js';
import { REQUEST_LIMITS } from '../../src/wire/request-limits.js';
import { countSessionStats, countTrackStats, peekSessionRequest } from '../../src/wire/request-scan.js';
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
import { loadProtoRoot } from '../helpers/proto-schema.js';

const root = loadProtoRoot();
const encode = (typeName: string, value: object): Buffer => {
  const type = root.lookupType(typeName);
  return Buffer.from(type.encode(type.fromObject(value)).finish());
};
const session = (value: object) => encode('telemetry.sidecar.v1.SessionRequest', value);

const LIMITS: RequestLimits = {
  messageBytes: 1000,
  statsPerRequest: 3,
  streamsPerStat: 2,
  layersPerStream: 2,
  messagesPerRequest: 12,
};

function refusal(decode: () => unknown): SidecarError {
  try {
    decode();
  } catch (err) {
    expect(err).toBeInstanceOf(SidecarError);
    return err as SidecarError;
  }
  throw new Error('not refused');
}

const overLimit = (message: string) => ({ code: 'RESOURCE_EXHAUSTED', reason: REQUEST_LIMIT_REASON, message });

describe('request limits, at the limit and one past it', () => {
  const stats = (n: number) => ({ stats: Array.from({ length: n }, () => ({ roomId: 'RM', participantId: 'PA' })) });

  it('stats per request', () => {
    expect(decodeSessionRequest(session({ stats: stats(3) }), LIMITS).stats!.stats).toHaveLength(3);
    expect(refusal(() => decodeSessionRequest(session({ stats: stats(4) }), LIMITS))).toMatchObject(
      overLimit('request holds more than 3 stats: split the request'),
    );
    const unary = (n: number) => encode('telemetry.sidecar.v1.TrackStatsRequest', stats(n));
    expect(decodeTrackStatsRequest(unary(3), LIMITS).stats).toHaveLength(3);
    expect(refusal(() => decodeTrackStatsRequest(unary(4), LIMITS))).toMatchObject(
      overLimit('request holds more than 3 stats: split the request'),
    );
  });

  it('streams per stat', () => {
    const request = (n: number) =>
      session({ stats: { stats: [{ stat: { streams: Array.from({ length: n }, () => ({ ssrc: 1 })) } }] } });
    expect(decodeSessionRequest(request(2), LIMITS).stats!.stats[0]!.stat!.streams).toHaveLength(2);
    expect(refusal(() => decodeSessionRequest(request(3), LIMITS))).toMatchObject(
      overLimit('a stat holds more than 2 streams: split the request'),
    );
  });

  it('video layers per stream', () => {
    const request = (n: number) =>
      session({
        stats: {
          stats: [{ stat: { streams: [{ videoLayers: Array.from({ length: n }, (_, layer) => ({ layer })) }] } }],
        },
      });
    expect(decodeSessionRequest(request(2), LIMITS).stats!.stats[0]!.stat!.streams[0]!.videoLayers).toHaveLength(2);
    expect(refusal(() => decodeSessionRequest(request(3), LIMITS))).toMatchObject(
      overLimit('a stream holds more than 2 video layers: split the request'),
    );
  });

  it('nested messages, of every kind, repeats of a singular member included', () => {
    // stats member 1, TrackStat 1, AnalyticsStat 1, its timeStamp 1, two streams with two layers and two times: 2 x 5
    const full = {
      stats: {
        stats: [
          {
            stat: {
              timeStamp: { seconds: 1 },
              streams: [0, 1].map(() => ({
                videoLayers: [{ layer: 0 }, { layer: 1 }],
                startTime: { seconds: 1 },
                endTime: { seconds: 2 },
              })),
            },
          },
        ],
      },
    };
    const at12 = Buffer.concat([session(full)]);
    expect(decodeSessionRequest(at12, { ...LIMITS, messagesPerRequest: 14 }).request).toBe('stats');
    expect(refusal(() => decodeSessionRequest(at12, { ...LIMITS, messagesPerRequest: 13 }))).toMatchObject(
      overLimit('request holds more than 13 nested messages: split the request'),
    );
    // singular members, each occurrence counted though only the last is kept
    const flushes = (n: number) => Buffer.concat(Array.from({ length: n }, () => session({ flush: {} })));
    expect(decodeSessionRequest(flushes(12), LIMITS).request).toBe('flush');
    expect(refusal(() => decodeSessionRequest(flushes(13), LIMITS))).toMatchObject(
      overLimit('request holds more than 12 nested messages: split the request'),
    );
    const members = session({ hello: {}, activate: {}, release: {}, flush: {} });
    expect(decodeSessionRequest(members, { ...LIMITS, messagesPerRequest: 4 }).request).toBe('flush');
    expect(refusal(() => decodeSessionRequest(members, { ...LIMITS, messagesPerRequest: 3 }))).toMatchObject(
      overLimit('request holds more than 3 nested messages: split the request'),
    );
  });

  it('message size, for every request type', () => {
    const padded = (typeName: string, field: string, size: number) => {
      // a string field grown until the message has exactly `size` bytes
      for (let n = 0; ; n++) {
        const bytes = encode(typeName, { [field]: 'x'.repeat(n) });
        if (bytes.length === size) return bytes;
        if (bytes.length > size) throw new Error(`no ${typeName} of ${size} bytes`);
      }
    };
    const cases = [
      ['SessionRequest', 'telemetry.sidecar.v1.SessionRequest', 'x1', decodeSessionRequest],
      ['TrackStatsRequest', 'telemetry.sidecar.v1.TrackStatsRequest', 'x9', decodeTrackStatsRequest],
      ['ActivateRequest', 'telemetry.sidecar.v1.ActivateRequest', 'roomName', decodeActivateRequest],
      ['ReleaseRequest', 'telemetry.sidecar.v1.ReleaseRequest', 'roomId', decodeReleaseRequest],
      ['FlushRequest', 'telemetry.sidecar.v1.FlushRequest', 'x9', decodeFlushRequest],
      ['ListWorkersRequest', 'telemetry.sidecar.v1.ListWorkersRequest', 'roomId', decodeListWorkersRequest],
    ] as const;
    for (const [what, typeName, field, decode] of cases) {
      const type = root.lookupType(typeName);
      if (!type.fields[field]) type.add(new protobuf.Field(field, 99, 'string'));
      expect(() => decode(padded(typeName, field, 1000), LIMITS), what).not.toThrow();
      expect(
        refusal(() => decode(padded(typeName, field, 1001), LIMITS)),
        what,
      ).toMatchObject(overLimit(`${what} of 1001 bytes is over the 1000-byte message size limit`));
    }
  });

  it('the defaults are the documented ones', () => {
    expect(REQUEST_LIMITS).toEqual({
      messageBytes: 4 * 1024 * 1024,
      statsPerRequest: 5000,
      streamsPerStat: 16,
      layersPerStream: 16,
      messagesPerRequest: 50_000,
    });
    expect(Object.isFrozen(REQUEST_LIMITS)).toBe(true);
    // and the decoders apply them when given no limits
    const many = session({ stats: { stats: [{ stat: { streams: Array.from({ length: 17 }, () => ({})) } }] } });
    expect(refusal(() => decodeSessionRequest(many))).toMatchObject(
      overLimit('a stat holds more than 16 streams: split the request'),
    );
    const big = Buffer.alloc(4 * 1024 * 1024 + 1);
    for (const decode of [
      decodeSessionRequest,
      decodeTrackStatsRequest,
      decodeActivateRequest,
      decodeReleaseRequest,
      decodeFlushRequest,
      decodeListWorkersRequest,
    ]) {
      expect(refusal(() => decode(big)).reason).toBe(REQUEST_LIMIT_REASON);
    }
  });
});

describe('refusals name what is wrong', () => {
  /** `value` with its string bytes replaced: a field whose bytes are 'P' and 0xFF. */
  function withBadString(typeName: string, value: object): Buffer {
    const bytes = encode(typeName, value);
    const marker = Buffer.from('P\u00ff'); // 0x50 0xc3 0xbf
    const at = bytes.indexOf(marker);
    expect(at).toBeGreaterThanOrEqual(0);
    // 'P', 0xFF, 0xFF: same length, not UTF-8
    return Buffer.concat([bytes.subarray(0, at + 1), Buffer.from([0xff, 0xff]), bytes.subarray(at + 3)]);
  }
  const B = 'P\u00ff';

  it('a string that is not UTF-8, by field', () => {
    const ok = { roomId: 'RM', participantId: 'PA', trackId: 'TR', country: 'US', stat: { mime: 'audio/opus' } };
    const track = (fields: object) => ({ stats: { stats: [ok, { ...ok, ...fields }] } });
    const cases: [object, string][] = [
      [{ hello: { clientId: B } }, 'hello.client_id'],
      [{ activate: { roomId: B } }, 'room_id'],
      [{ activate: { roomName: B } }, 'room_name'],
      [{ activate: { participantId: B } }, 'participant_id'],
      [{ activate: { participantIdentity: B } }, 'participant_identity'],
      [{ activate: { guardId: B } }, 'guard_id'],
      [{ release: { roomId: B } }, 'room_id'],
      [{ release: { participantId: B } }, 'participant_id'],
      [{ release: { guardId: B } }, 'guard_id'],
      [track({ roomId: B }), 'stats[1].room_id'],
      [track({ participantId: B }), 'stats[1].participant_id'],
      [track({ trackId: B }), 'stats[1].track_id'],
      [track({ country: B }), 'stats[1].country'],
      [track({ stat: { mime: B } }), 'stats[1].stat.mime'],
    ];
    for (const [value, field] of cases) {
      expect(
        refusal(() => decodeSessionRequest(withBadString('telemetry.sidecar.v1.SessionRequest', value))),
        field,
      ).toEqual(new SidecarError('INVALID_ARGUMENT', `${field} is not valid UTF-8`));
    }
    expect(
      refusal(() => decodeListWorkersRequest(withBadString('telemetry.sidecar.v1.ListWorkersRequest', { roomId: B }))),
    ).toEqual(new SidecarError('INVALID_ARGUMENT', 'room_id is not valid UTF-8'));
    // the same string, valid, is read; and each refusal is a plain INVALID_ARGUMENT, not a drop reason
    expect(decodeSessionRequest(session(track({ country: B }))).stats!.stats[1]!.country).toBe(B);
  });

  it('bytes that are not protobuf, with the request type and protobufjs message', () => {
    const service = loadPackageDefinition()['telemetry.sidecar.v1.TelemetrySidecar'] as ServiceDefinition;
    const cases = [
      ['SessionRequest', 'Session', decodeSessionRequest],
      ['TrackStatsRequest', 'TrackStats', decodeTrackStatsRequest],
      ['ActivateRequest', 'Activate', decodeActivateRequest],
      ['ReleaseRequest', 'Release', decodeReleaseRequest],
      ['FlushRequest', 'Flush', decodeFlushRequest],
      ['ListWorkersRequest', 'ListWorkers', decodeListWorkersRequest],
    ] as const;
    // a varint cut short; an unknown field of wire type 7; a fixed64 running past the end
    const inputs = [[0x08], [0x4f], [0x49, 1, 2, 3]];
    for (const [what, method, decode] of cases) {
      const reference = service[method]!.requestDeserialize as (b: Buffer) => unknown;
      for (const input of inputs) {
        const bytes = Buffer.from(input);
        expect(() => reference(bytes)).toThrow();
        let expected = '';
        try {
          reference(bytes);
        } catch (err) {
          expected = (err as Error).message;
        }
        expect(
          refusal(() => decode(bytes)),
          what,
        ).toMatchObject({
          code: 'INVALID_ARGUMENT',
          reason: MALFORMED_REASON,
          message: `malformed ${what}: ${expected}`,
        });
      }
    }
    expect(REQUEST_LIMIT_REASON).toBe('request_limit');
    expect(MALFORMED_REASON).toBe('malformed');
  });

  it('a sub-message that does not end where its length says', () => {
    // stats{ stats[0]{ stat{ streams[0]{ ssrc: a varint running past the stream's end } } } }
    const stream = Buffer.from([0x08, 0x96, 0x01]);
    const wrap = (field: number, body: Buffer) => Buffer.concat([Buffer.from([(field << 3) | 2, body.length]), body]);
    const good = wrap(5, wrap(1, wrap(5, wrap(10, stream))));
    expect(decodeSessionRequest(good).stats!.stats[0]!.stat!.streams[0]!.ssrc).toBe(150);
    const cut = Buffer.from(good);
    cut[7] = 0x02; // the stream says 2 bytes: its varint runs on
    expect(refusal(() => decodeSessionRequest(cut))).toMatchObject({
      code: 'INVALID_ARGUMENT',
      reason: MALFORMED_REASON,
    });
  });
});

describe('nesting depth, as protobufjs', () => {
  const reference = (loadPackageDefinition()['telemetry.sidecar.v1.TelemetrySidecar'] as ServiceDefinition).Session!
    .requestDeserialize as (b: Buffer) => unknown;
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
  /** `depth` groups of an unknown field, one inside the other. */
  const groups = (depth: number) =>
    Buffer.concat([
      Buffer.alloc(depth * 2, Buffer.from([0xc3, 0x02])),
      Buffer.alloc(depth * 2, Buffer.from([0xc4, 0x02])),
    ]);
  /** The groups placed inside each message the decoder reads, with its depth as protobufjs counts it. */
  const places: [string, number, (g: Buffer) => Buffer][] = [
    ['SessionRequest', 0, (g) => g],
    ['TrackStatsRequest', 1, (g) => len(5, g)],
    ['TrackStat', 2, (g) => len(5, len(1, g))],
    ['AnalyticsStat', 3, (g) => len(5, len(1, len(5, g)))],
    ['AnalyticsStream', 4, (g) => len(5, len(1, len(5, len(10, g))))],
    ['AnalyticsStat.timeStamp', 4, (g) => len(5, len(1, len(5, len(3, g))))],
    ['AnalyticsVideoLayer', 5, (g) => len(5, len(1, len(5, len(10, len(15, g)))))],
    ['AnalyticsStream.startTime', 5, (g) => len(5, len(1, len(5, len(10, len(17, g)))))],
    ['AnalyticsStream.endTime', 5, (g) => len(5, len(1, len(5, len(10, len(18, g)))))],
    ['Hello', 1, (g) => len(2, g)],
    ['ActivateRequest', 1, (g) => len(3, g)],
    ['ReleaseRequest', 1, (g) => len(4, g)],
    ['FlushRequest', 1, (g) => len(6, g)],
  ];
  it('accepts the deepest groups protobufjs accepts in each message, and refuses one more', () => {
    for (const [where, depth, place] of places) {
      // the outermost group is skipped at the message's depth, each inner one a level deeper
      const deepest = 101 - depth;
      const ok = place(groups(deepest));
      expect(() => reference(ok), where).not.toThrow();
      expect(() => decodeSessionRequest(ok), where).not.toThrow();
      const over = place(groups(deepest + 1));
      expect(() => reference(over), where).toThrow('maximum nesting depth exceeded');
      expect(
        refusal(() => decodeSessionRequest(over)),
        where,
      ).toMatchObject({
        reason: MALFORMED_REASON,
        message: 'malformed SessionRequest: maximum nesting depth exceeded',
      });
    }
  });
  it('the same in the unary requests', () => {
    const unary: [string, (b: Buffer) => unknown, number, (g: Buffer) => Buffer][] = [
      ['TrackStatsRequest', decodeTrackStatsRequest, 0, (g) => g],
      ['TrackStat', decodeTrackStatsRequest, 1, (g) => len(1, g)],
      ['ActivateRequest', decodeActivateRequest, 0, (g) => g],
      ['ReleaseRequest', decodeReleaseRequest, 0, (g) => g],
      ['FlushRequest', decodeFlushRequest, 0, (g) => g],
      ['ListWorkersRequest', decodeListWorkersRequest, 0, (g) => g],
    ];
    for (const [where, decode, depth, place] of unary) {
      expect(() => decode(place(groups(101 - depth))), where).not.toThrow();
      expect(refusal(() => decode(place(groups(102 - depth)))).message, where).toMatch(
        /maximum nesting depth exceeded$/,
      );
    }
  });
});

describe('seq and the request scan', () => {
  it('a seq is a number up to 2^53 and a decimal string from there', () => {
    expect(u64Seq(0xffffffff, 0x1fffff)).toBe(2 ** 53 - 1);
    expect(u64Seq(0, 0x200000)).toBe('9007199254740992');
    expect(u64Seq(1, 0x200000)).toBe('9007199254740993');
    expect(u64Seq(0xffffffff, 0xffffffff)).toBe('18446744073709551615');
    expect(u64Seq(5, 1)).toBe(2 ** 32 + 5);
    for (const seq of ['9007199254740991', '9007199254740993', '18446744073709551615', '7']) {
      const bytes = session({ seq, flush: {} });
      const expected = Number(seq) <= 2 ** 53 - 1 ? Number(seq) : seq;
      expect(decodeSessionRequest(bytes).seq).toBe(expected);
      expect(peekSessionRequest(bytes).seq).toBe(expected);
    }
  });

  it('peeks the member the decoder names: the last present in declaration order, unknown fields ignored', () => {
    const hello = session({ hello: { clientId: 'c' } });
    const flush = session({ flush: {} });
    const stats = session({ stats: { stats: [{}] } });
    const unknown7 = Buffer.from([0x3a, 0x01, 0x00]); // field 7, length-delimited
    const seq = session({ seq: 9 });
    expect(peekSessionRequest(Buffer.concat([flush, hello]))).toEqual({ seq: 0, member: 6 });
    expect(peekSessionRequest(Buffer.concat([hello, seq]))).toEqual({ seq: 9, member: 2 });
    expect(peekSessionRequest(Buffer.concat([seq, unknown7]))).toEqual({ seq: 9, member: 0 });
    expect(peekSessionRequest(Buffer.concat([stats, unknown7, seq]))).toEqual({ seq: 9, member: 5 });
    expect(peekSessionRequest(Buffer.alloc(0))).toEqual({ seq: 0, member: 0 });
    // cut short: what was read until then
    const cut = Buffer.concat([seq, stats]);
    expect(peekSessionRequest(cut.subarray(0, cut.length - 1))).toEqual({ seq: 9, member: 5 });
    expect(peekSessionRequest(cut.subarray(0, seq.length))).toEqual({ seq: 9, member: 0 });
    expect(peekSessionRequest(Buffer.concat([seq, Buffer.from([0x4f]), flush]))).toEqual({ seq: 9, member: 0 });
    // a member sent as a varint is still read by its number
    expect(peekSessionRequest(Buffer.from([0x30, 0x00]))).toEqual({ seq: 0, member: 6 });
  });

  it('counts the stats of the last stats member, or of the part of it that is there', () => {
    const statsOf = (n: number) => session({ stats: { stats: Array.from({ length: n }, () => ({ roomId: 'R' })) } });
    const seq = session({ seq: 4 });
    const noise = Buffer.from([0x3a, 0x01, 0x00, 0x45, 1, 2, 3, 4]);
    expect(countSessionStats(Buffer.concat([statsOf(3), statsOf(1)]))).toBe(1);
    expect(countSessionStats(Buffer.concat([statsOf(2), seq, noise]))).toBe(2);
    expect(countSessionStats(Buffer.concat([seq, session({ flush: {} })]))).toBe(0);
    expect(countSessionStats(Buffer.alloc(0))).toBe(0);
    // a stats member cut in its third entry: the entries begun
    const three = statsOf(3);
    expect(countSessionStats(three.subarray(0, three.length - 1))).toBe(3);
    expect(countSessionStats(three.subarray(0, three.length - 6))).toBe(2);
    // and a stats member followed by garbage keeps its count
    expect(countSessionStats(Buffer.concat([statsOf(2), Buffer.from([0x0f, 0x2a, 0x00])]))).toBe(2);
    // the stats entries only: other fields of the TrackStatsRequest body are not stats
    const body = Buffer.concat([Buffer.from([0x0a, 0x00, 0x10, 0x05, 0x0a, 0x00, 0x1a, 0x00])]);
    expect(countSessionStats(Buffer.concat([Buffer.from([0x2a, body.length]), body]))).toBe(2);
    expect(countTrackStats(body)).toBe(2);
    expect(countTrackStats(Buffer.from([0x0a, 0x00, 0x0a, 0x05]))).toBe(2);
    expect(countTrackStats(Buffer.alloc(0))).toBe(0);
  });

  it('reads each field by its number whatever its wire type, as the decoder does', () => {
    const stats1 = session({ stats: { stats: [{ roomId: 'R' }] } });
    // [bytes, stats counted, member peeked]
    const cases: [Buffer, number, number][] = [
      // hello and flush sent as varints: the varint is their length, and hides a stats member
      [Buffer.from([0x10, 0x04, 0x2a, 0x02, 0x0a, 0x00]), 0, 2],
      [Buffer.from([0x30, 0x04, 0x2a, 0x02, 0x0a, 0x00]), 0, 6],
      // an unknown field 7 sent as a varint is skipped as one: the stats member after it counts
      [Buffer.from([0x38, 0x04, 0x2a, 0x02, 0x0a, 0x00]), 1, 5],
      // field 0, a varint, then seq
      [Buffer.concat([Buffer.from([0x00, 0x05]), session({ seq: 9 }), stats1]), 1, 5],
      // seq sent as length-delimited: read as a varint, so what follows is the next field
      [Buffer.concat([Buffer.from([0x0a, 0x05]), stats1]), 1, 5],
      // an unknown fixed32 whose bytes look like a stats tag
      [Buffer.concat([Buffer.from([0x45, 0x2a, 0x2a, 0x2a, 0x2a]), stats1]), 1, 5],
    ];
    for (const [bytes, count, member] of cases) {
      const decoded = decodeSessionRequest(bytes);
      expect(decoded.stats?.stats.length ?? 0, bytes.toString('hex')).toBe(count);
      expect(countSessionStats(bytes), bytes.toString('hex')).toBe(count);
      expect(peekSessionRequest(bytes).member, bytes.toString('hex')).toBe(member);
    }
    expect(peekSessionRequest(Buffer.concat([Buffer.from([0x00, 0x05]), session({ seq: 9 })]))).toEqual({
      seq: 9,
      member: 0,
    });
  });
});
