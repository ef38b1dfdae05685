import { AnalyticsStat as LkStat, StreamType as LkStreamType } from '@livekit/protocol';
import type protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { isValid } from '../../src/core/validity.js';
import { toStatSample } from '../helpers/from-wire.js';
import { LOADER_OPTIONS } from '../../src/wire/protos.js';
import { loadProtoRoot } from '../helpers/proto-schema.js';
import { toJsonLine, toLivekitStat } from '../../src/wire/to-livekit.js';
import type { AnalyticsStat as CoreStat } from '../../src/core/analytics.js';
import type { AnalyticsStat__Output } from '../../src/generated/livekit/AnalyticsStat.js';

function loadOurs(): protobuf.Type {
  return loadProtoRoot().lookupType('livekit.AnalyticsStat');
}

/** Every field set, with values that catch swapped numbers, 64-bit truncation and sign handling. */
const full = {
  id: 'AS_abc',
  analyticsKey: 'key',
  kind: 1,
  timeStamp: { seconds: '1700000000', nanos: 123456789 },
  node: 'ND_1',
  roomId: 'RM_1',
  roomName: 'room',
  participantId: 'PA_1',
  trackId: 'TR_1',
  score: 4.25,
  mime: 'video/VP8',
  minScore: 3.5,
  medianScore: 4.5,
  streams: [
    {
      ssrc: 4294967295,
      primaryPackets: 2,
      primaryBytes: '9007199254740993',
      retransmitPackets: 4,
      retransmitBytes: '5',
      paddingPackets: 6,
      paddingBytes: '7',
      packetsLost: 8,
      frames: 9,
      rtt: 10,
      jitter: 11,
      nacks: 12,
      plis: 13,
      firs: 14,
      videoLayers: [{ layer: -2, packets: 15, bytes: '18446744073709551615', frames: 17 }],
      startTime: { seconds: '-62135596800', nanos: 1 },
      endTime: { seconds: '1', nanos: 999999999 },
      packetsOutOfOrder: 19,
    },
  ],
};

describe('wire compatibility with @livekit/protocol', () => {
  const Ours = loadOurs();

  it('decodes with @livekit/protocol what our proto encodes', () => {
    const bytes = Ours.encode(Ours.fromObject(full)).finish();
    const lk = LkStat.fromBinary(bytes);
    expect(lk.toJson()).toEqual({
      ...full,
      kind: 'DOWNSTREAM',
      timeStamp: '2023-11-14T22:13:20.123456789Z',
      streams: [
        { ...full.streams[0], startTime: '0001-01-01T00:00:00.000000001Z', endTime: '1970-01-01T00:00:01.999999999Z' },
      ],
    });
    expect(lk.kind).toBe(LkStreamType.DOWNSTREAM);
  });

  it('decodes with our proto what @livekit/protocol encodes', () => {
    const bytes = LkStat.fromJson({
      ...full,
      kind: 'DOWNSTREAM',
      timeStamp: '2023-11-14T22:13:20.123456789Z',
      streams: [
        { ...full.streams[0], startTime: '0001-01-01T00:00:00.000000001Z', endTime: '1970-01-01T00:00:01.999999999Z' },
      ],
    }).toBinary();
    const ours = Ours.toObject(Ours.decode(bytes), { longs: String, enums: Number, defaults: false });
    expect(ours).toEqual(full);
  });

  it('reads uint64 counters exactly at the validity boundary', () => {
    const at = (bytes: string) => {
      const encoded = Ours.encode(Ours.fromObject({ streams: [{ primaryBytes: bytes }] })).finish();
      const decoded = Ours.toObject(Ours.decode(encoded), { ...LOADER_OPTIONS, longs: undefined });
      return isValid(toStatSample(decoded as AnalyticsStat__Output));
    };
    expect(at('9223372036854775807')).toBe(true);
    expect(at('9223372036854775808')).toBe(false);
  });

  it('writes the protobuf JSON mapping of a coalesced stat', () => {
    const stat: CoreStat = {
      id: 'AS_1',
      analyticsKey: '',
      kind: 0,
      timeStamp: { seconds: 1700000000, nanos: 0 },
      node: 'n',
      roomId: 'RM',
      roomName: 'r',
      participantId: 'PA',
      trackId: 'TR',
      score: 3.5,
      mime: 'audio/opus',
      minScore: 0,
      medianScore: 3.5,
      streams: [
        {
          ssrc: 0,
          primaryPackets: 3,
          primaryBytes: 2 ** 40,
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
          startTime: { seconds: -62135596800, nanos: 0 },
          endTime: { seconds: 0, nanos: 5 },
          packetsOutOfOrder: 0,
        },
      ],
    };
    const line = toJsonLine(stat);
    expect(line.endsWith('\n')).toBe(true);
    expect(LkStat.fromJsonString(line).equals(toLivekitStat(stat))).toBe(true);
    expect(JSON.parse(line)).toEqual({
      id: 'AS_1',
      timeStamp: '2023-11-14T22:13:20Z',
      node: 'n',
      roomId: 'RM',
      roomName: 'r',
      participantId: 'PA',
      trackId: 'TR',
      score: 3.5,
      mime: 'audio/opus',
      medianScore: 3.5,
      streams: [
        {
          primaryPackets: 3,
          primaryBytes: '1099511627776',
          startTime: '0001-01-01T00:00:00Z',
          endTime: '1970-01-01T00:00:00.000000005Z',
        },
      ],
    });
  });
});
