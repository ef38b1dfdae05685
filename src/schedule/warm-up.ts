/**
 * Stats shaped exactly like the ones a flush emits, for compiling the encode
 * path at start. A fresh process used to meet the encoder for the first time
 * inside its first flush, running it interpreted while V8 compiled it; see
 * bench/README.md ("cold flush").
 */
import type { AnalyticsStat } from '../core/analytics.js';
import { TrackAggregate } from '../core/coalesce.js';
import { timestampFromMillis } from '../core/gotime.js';

/** Synthetic stats encoded at start; enough for V8 to optimise the encoder's functions. */
export const WARM_UP_STATS = 2048;

/**
 * The i-th synthetic stat: TrackAggregate.result() stamped as a flush
 * stamps it, so the encoder sees the same object shapes as in a real flush,
 * with every field set and the numbers varying.
 */
export function warmUpStat(i: number, nowMs: number): AnalyticsStat {
  const stat = new TrackAggregate().result();
  const stream = stat.streams[0]!;
  stream.primaryPackets = 480 + i;
  stream.primaryBytes = 530_000 + i * 1009;
  stream.retransmitPackets = i % 5;
  stream.retransmitBytes = (i % 5) * 1200;
  stream.paddingPackets = i % 3;
  stream.paddingBytes = (i % 3) * 300;
  stream.packetsLost = i % 2;
  stream.packetsOutOfOrder = i % 2;
  stream.frames = 150 + (i % 30);
  stream.nacks = i % 4;
  stream.plis = i % 2;
  stream.firs = i % 2;
  stream.rtt = 20 + (i % 9);
  stream.jitter = 5 + (i % 4);
  stream.startTime = timestampFromMillis(nowMs - 30_000 - i);
  stream.endTime = timestampFromMillis(nowMs - i);
  if (i % 3 !== 0) stream.videoLayers = [{ layer: 2, packets: 160 + i, bytes: 176_000 + i * 31, frames: 50 }];
  stat.score = Math.fround(3 + (i % 97) / 50);
  stat.minScore = Math.fround(2.5 + (i % 89) / 60);
  stat.medianScore = Math.fround(3 + (i % 83) / 45);
  stat.mime = i % 3 === 0 ? 'audio/opus' : 'video/VP8';
  stat.timeStamp = timestampFromMillis(nowMs);
  stat.trackId = `TR_warm_${i}`;
  stat.kind = i % 2 === 0 ? 0 : 1;
  stat.roomId = `RM_warm_${i >> 4}`;
  stat.participantId = `PA_warm_${i >> 3}`;
  stat.roomName = `warm-${i >> 4}`;
  stat.id = `AS_warmup${i.toString(36)}`;
  stat.node = 'warm-up';
  stat.analyticsKey = 'warm-up';
  return stat;
}
