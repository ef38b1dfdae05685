/**
 * Core stats as @livekit/protocol messages: LiveKit's own generated code gives
 * the canonical protobuf JSON mapping (RFC 3339 times, uint64 as strings) and
 * binary encoding, so we do not hand-write either.
 */
import { AnalyticsStat, AnalyticsStream, AnalyticsVideoLayer, Timestamp as LkTimestamp } from '@livekit/protocol';
import type { AnalyticsStat as CoreStat, Timestamp } from '../core/analytics.js';

const u64 = (n: number): bigint => BigInt(Math.trunc(n));

function toLkTimestamp(ts: Timestamp | null): LkTimestamp | undefined {
  return ts ? new LkTimestamp({ seconds: BigInt(ts.seconds), nanos: ts.nanos }) : undefined;
}

export function toLivekitStat(stat: CoreStat): AnalyticsStat {
  return new AnalyticsStat({
    id: stat.id,
    analyticsKey: stat.analyticsKey,
    kind: stat.kind,
    timeStamp: toLkTimestamp(stat.timeStamp),
    node: stat.node,
    roomId: stat.roomId,
    roomName: stat.roomName,
    participantId: stat.participantId,
    trackId: stat.trackId,
    score: stat.score,
    mime: stat.mime,
    minScore: stat.minScore,
    medianScore: stat.medianScore,
    streams: stat.streams.map(
      (s) =>
        new AnalyticsStream({
          ssrc: s.ssrc,
          primaryPackets: s.primaryPackets,
          primaryBytes: u64(s.primaryBytes),
          retransmitPackets: s.retransmitPackets,
          retransmitBytes: u64(s.retransmitBytes),
          paddingPackets: s.paddingPackets,
          paddingBytes: u64(s.paddingBytes),
          packetsLost: s.packetsLost,
          frames: s.frames,
          rtt: s.rtt,
          jitter: s.jitter,
          nacks: s.nacks,
          plis: s.plis,
          firs: s.firs,
          videoLayers: s.videoLayers.map(
            (l) =>
              new AnalyticsVideoLayer({ layer: l.layer, packets: l.packets, bytes: u64(l.bytes), frames: l.frames }),
          ),
          startTime: toLkTimestamp(s.startTime),
          endTime: toLkTimestamp(s.endTime),
          packetsOutOfOrder: s.packetsOutOfOrder,
        }),
    ),
  });
}

/** One NDJSON line: the protobuf JSON mapping of the stat. */
export function toJsonLine(stat: CoreStat): string {
  return toLivekitStat(stat).toJsonString() + '\n';
}
