/** Realistic-looking AnalyticsStat contents for the example client and the load generator. */
import type { AnalyticsStat } from '../generated/livekit/AnalyticsStat.js';

export interface SampleTrack {
  trackId: string;
  video: boolean;
}

/** One interval's stat for a track, as an SFU would report it every few seconds. */
export function sampleStat(
  track: SampleTrack,
  intervalSeconds: number,
  nowMs: number,
  random: () => number = Math.random,
): AnalyticsStat {
  const packets = Math.round((track.video ? 90 : 50) * intervalSeconds * (0.8 + 0.4 * random()));
  const bytes = packets * (track.video ? 1100 : 120);
  const endSeconds = Math.floor(nowMs / 1000);
  return {
    score: 3.5 + random(),
    mime: track.video ? 'video/VP8' : 'audio/opus',
    streams: [
      {
        ssrc: 1000 + Math.floor(random() * 1e6),
        primaryPackets: packets,
        primaryBytes: bytes,
        retransmitPackets: Math.floor(packets * 0.01),
        retransmitBytes: Math.floor(bytes * 0.01),
        paddingPackets: track.video ? Math.floor(packets * 0.02) : 0,
        paddingBytes: track.video ? Math.floor(bytes * 0.005) : 0,
        packetsLost: Math.floor(random() * 3),
        packetsOutOfOrder: Math.floor(random() * 2),
        frames: track.video ? Math.round(30 * intervalSeconds) : 0,
        rtt: 20 + Math.floor(random() * 60),
        jitter: 5 + Math.floor(random() * 20),
        nacks: Math.floor(random() * 4),
        plis: track.video ? Math.floor(random() * 2) : 0,
        firs: 0,
        videoLayers: track.video
          ? [0, 1, 2].map((layer) => ({
              layer,
              packets: Math.floor(packets / 3),
              bytes: Math.floor(bytes / 3),
              frames: Math.round(10 * intervalSeconds),
            }))
          : [],
        startTime: { seconds: endSeconds - intervalSeconds, nanos: 0 },
        endTime: { seconds: endSeconds, nanos: 0 },
      },
    ],
  };
}
