/**
 * A deliberately literal batch port of the reference's `coalesce` (statsworker.go),
 * used only as the oracle for the incremental aggregate. Go time is modelled as
 * [seconds, nanos]; float32 arithmetic via Math.fround; uint32 adds wrap.
 */
import type { AnalyticsStat, AnalyticsVideoLayer, StatSample } from '../../src/core/analytics.js';

const GO_ZERO: [number, number] = [-62135596800, 0];
type GoTime = [number, number];

function asTime(ts: { seconds: number; nanos: number } | null): GoTime {
  if (!ts) return [0, 0];
  let s = ts.seconds;
  let n = ts.nanos;
  while (n < 0) {
    n += 1e9;
    s -= 1;
  }
  while (n >= 1e9) {
    n -= 1e9;
    s += 1;
  }
  return [s, n];
}
const isZero = (t: GoTime) => t[0] === GO_ZERO[0] && t[1] === GO_ZERO[1];
const after = (a: GoTime, b: GoTime) => a[0] > b[0] || (a[0] === b[0] && a[1] > b[1]);
const before = (a: GoTime, b: GoTime) => after(b, a);

export function referenceIsValid(stat: StatSample): boolean {
  const neg32 = (x: number) => (x | 0) < 0;
  const neg64 = (x: number) => x >= 2 ** 63;
  for (const s of stat.streams) {
    if (
      neg32(s.primaryPackets) ||
      neg64(s.primaryBytes) ||
      neg32(s.retransmitPackets) ||
      neg64(s.retransmitBytes) ||
      neg32(s.paddingPackets) ||
      neg64(s.paddingBytes) ||
      neg32(s.packetsLost) ||
      neg32(s.packetsOutOfOrder) ||
      neg32(s.frames) ||
      neg32(s.nacks) ||
      neg32(s.plis) ||
      neg32(s.firs)
    )
      return false;
    for (const l of s.videoLayers) if (neg32(l.packets) || neg64(l.bytes) || neg32(l.frames)) return false;
  }
  return true;
}

/** utils.Median[float32] from livekit-server pkg/utils/math.go. */
function median(input: number[]): number {
  const num = input.length;
  if (num === 0) return 0;
  if (num === 1) return input[0]!;
  const sorted = [...input].sort((a, b) => a - b);
  if (num % 2 !== 0) return sorted[Math.floor(num / 2)]!;
  const left = sorted[num / 2 - 1]!;
  const right = sorted[num / 2]!;
  const f = Math.fround;
  return f(left + f(f(right - left) / f(2)));
}

export function referenceCoalesce(stats: StatSample[]): AnalyticsStat | null {
  if (stats.length === 0) return null;
  const f = Math.fround;
  let startTime: GoTime = GO_ZERO;
  let endTime: GoTime = GO_ZERO;
  let scoreSum = f(0);
  let minScore = f(0);
  const scores: number[] = [];
  let maxRtt = 0;
  let maxJitter = 0;
  const layers = new Map<number, AnalyticsVideoLayer>();
  const c = {
    primaryPackets: 0,
    primaryBytes: 0,
    retransmitPackets: 0,
    retransmitBytes: 0,
    paddingPackets: 0,
    paddingBytes: 0,
    packetsLost: 0,
    packetsOutOfOrder: 0,
    frames: 0,
    nacks: 0,
    plis: 0,
    firs: 0,
  };
  for (const stat of stats) {
    if (!referenceIsValid(stat)) continue;
    const score = f(stat.score);
    if (score > 0) {
      if (minScore === 0) minScore = score;
      else if (score < minScore) minScore = score;
      scoreSum = f(scoreSum + score);
      scores.push(score);
    }
    for (const s of stat.streams) {
      const start = asTime(s.startTime);
      if (isZero(startTime) || after(startTime, start)) startTime = start;
      const end = asTime(s.endTime);
      if (isZero(endTime) || before(endTime, end)) endTime = end;
      if (s.rtt > maxRtt) maxRtt = s.rtt;
      if (s.jitter > maxJitter) maxJitter = s.jitter;
      const u32 = (a: number, b: number) => (a + b) % 2 ** 32;
      c.primaryPackets = u32(c.primaryPackets, s.primaryPackets);
      c.primaryBytes += s.primaryBytes;
      c.retransmitPackets = u32(c.retransmitPackets, s.retransmitPackets);
      c.retransmitBytes += s.retransmitBytes;
      c.paddingPackets = u32(c.paddingPackets, s.paddingPackets);
      c.paddingBytes += s.paddingBytes;
      c.packetsLost = u32(c.packetsLost, s.packetsLost);
      c.packetsOutOfOrder = u32(c.packetsOutOfOrder, s.packetsOutOfOrder);
      c.frames = u32(c.frames, s.frames);
      c.nacks = u32(c.nacks, s.nacks);
      c.plis = u32(c.plis, s.plis);
      c.firs = u32(c.firs, s.firs);
      for (const l of s.videoLayers) {
        const cl = layers.get(l.layer);
        if (!cl) layers.set(l.layer, { ...l });
        else {
          cl.packets = u32(cl.packets, l.packets);
          cl.bytes += l.bytes;
          cl.frames = u32(cl.frames, l.frames);
        }
      }
    }
  }
  let maxLayer = -1;
  let videoLayers: AnalyticsVideoLayer[] = [];
  for (const l of layers.values()) {
    if (maxLayer === -1 || maxLayer < l.layer) {
      maxLayer = l.layer;
      videoLayers = [l];
    }
  }
  return {
    id: '',
    analyticsKey: '',
    kind: 0,
    timeStamp: null,
    node: '',
    roomId: '',
    roomName: '',
    participantId: '',
    trackId: '',
    score: scores.length > 0 ? f(scoreSum / f(scores.length)) : 0,
    minScore,
    medianScore: median(scores),
    mime: stats[stats.length - 1]!.mime,
    streams: [
      {
        ssrc: 0,
        ...c,
        rtt: maxRtt,
        jitter: maxJitter,
        videoLayers,
        startTime: { seconds: startTime[0], nanos: startTime[1] },
        endTime: { seconds: endTime[0], nanos: endTime[1] },
      },
    ],
  };
}
