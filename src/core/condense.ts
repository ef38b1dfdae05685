import type { StatSample, Timestamp } from './analytics.js';
import { asTime, compareTime, GO_ZERO_SECONDS, isGoZero } from './gotime.js';
import { isValid } from './validity.js';

export interface CondensedStat {
  startTime: Timestamp;
  endTime: Timestamp;
  bytes: number;
  packets: number;
  packetsLost: number;
  frames: number;
}

/** The reference's CondenseStat: one summary across a stat's streams; null where the reference returns ok=false. */
export function condenseStat(stat: StatSample): CondensedStat | null {
  if (!isValid(stat)) return null;
  const out: CondensedStat = {
    startTime: { seconds: GO_ZERO_SECONDS, nanos: 0 },
    endTime: { seconds: GO_ZERO_SECONDS, nanos: 0 },
    bytes: 0,
    packets: 0,
    packetsLost: 0,
    frames: 0,
  };
  for (const s of stat.streams) {
    const start = asTime(s.startTime);
    const end = asTime(s.endTime);
    const ps = out.startTime;
    if (isGoZero(ps.seconds, ps.nanos) || compareTime(start.seconds, start.nanos, ps.seconds, ps.nanos) < 0) {
      out.startTime = start;
    }
    if (compareTime(end.seconds, end.nanos, out.endTime.seconds, out.endTime.nanos) > 0) out.endTime = end;
    out.bytes += s.primaryBytes;
    out.packets = (out.packets + s.primaryPackets) >>> 0;
    out.packetsLost = (out.packetsLost + s.packetsLost) >>> 0;
    out.frames = Math.max(out.frames, s.frames);
  }
  return out;
}
