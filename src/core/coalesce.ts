/**
 * Incremental port of the reference's `coalesce`: stats are folded in on
 * arrival, so memory per (track, direction) is constant plus 8 bytes per
 * counted score (kept for the median). `result()` equals what `coalesce`
 * returns for the same stats in the same order, bit for bit.
 */
import { emptyStream, StreamType, type AnalyticsStat, type AnalyticsVideoLayer, type StatSample } from './analytics.js';
import { compareTime, GO_ZERO_SECONDS, isGoZero, nanosCarry, NANOS_PER_SECOND } from './gotime.js';
import { isValid } from './validity.js';

export class TrackAggregate {
  /** Stats folded in, valid or not: an all-invalid track is still emitted. */
  received = 0;
  /** Stats that failed the validity check. */
  invalid = 0;
  private mime = '';

  private startSeconds = GO_ZERO_SECONDS;
  private startNanos = 0;
  private endSeconds = GO_ZERO_SECONDS;
  private endNanos = 0;
  private rtt = 0;
  private jitter = 0;

  // uint32 counters wrap mod 2^32 as Go's do; uint64 ones are exact up to 2^53.
  private primaryPackets = 0;
  private primaryBytes = 0;
  private retransmitPackets = 0;
  private retransmitBytes = 0;
  private paddingPackets = 0;
  private paddingBytes = 0;
  private packetsLost = 0;
  private packetsOutOfOrder = 0;
  private frames = 0;
  private nacks = 0;
  private plis = 0;
  private firs = 0;

  /** Per-layer sums; a short array beats a Map for the usual one to three layers. */
  private layers: AnalyticsVideoLayer[] | null = null;

  private scoreSum = 0;
  private minScore = 0;
  private scoreCount = 0;
  /**
   * Counted scores (float32 values, held as doubles) for the median. A plain
   * array grows inside the V8 heap; a Float32Array cost an ArrayBuffer per
   * track and per growth step, which showed in ingest profiles (bench/README.md).
   */
  private scores: number[] | null = null;

  /** Folds one stat in, in arrival order; returns false for an invalid stat (which adds nothing). */
  add(stat: StatSample): boolean {
    this.received++;
    this.mime = stat.mime;
    if (!isValid(stat)) {
      this.invalid++;
      return false;
    }

    const score = Math.fround(stat.score);
    if (score > 0) {
      this.minScore = this.minScore === 0 ? score : Math.min(this.minScore, score);
      this.scoreSum = Math.fround(this.scoreSum + score);
      this.pushScore(score);
    }

    for (const s of stat.streams) {
      // A missing timestamp is the Unix epoch (AsTime of nil); nanos carry as time.Unix does.
      let seconds = 0;
      let nanos = 0;
      if (s.startTime) {
        const carry = nanosCarry(s.startTime.nanos);
        seconds = s.startTime.seconds + carry;
        nanos = s.startTime.nanos - carry * NANOS_PER_SECOND;
      }
      if (
        isGoZero(this.startSeconds, this.startNanos) ||
        compareTime(this.startSeconds, this.startNanos, seconds, nanos) > 0
      ) {
        this.startSeconds = seconds;
        this.startNanos = nanos;
      }

      seconds = 0;
      nanos = 0;
      if (s.endTime) {
        const carry = nanosCarry(s.endTime.nanos);
        seconds = s.endTime.seconds + carry;
        nanos = s.endTime.nanos - carry * NANOS_PER_SECOND;
      }
      if (isGoZero(this.endSeconds, this.endNanos) || compareTime(this.endSeconds, this.endNanos, seconds, nanos) < 0) {
        this.endSeconds = seconds;
        this.endNanos = nanos;
      }

      this.rtt = Math.max(this.rtt, s.rtt);
      this.jitter = Math.max(this.jitter, s.jitter);

      this.primaryPackets = (this.primaryPackets + s.primaryPackets) >>> 0;
      this.primaryBytes += s.primaryBytes;
      this.retransmitPackets = (this.retransmitPackets + s.retransmitPackets) >>> 0;
      this.retransmitBytes += s.retransmitBytes;
      this.paddingPackets = (this.paddingPackets + s.paddingPackets) >>> 0;
      this.paddingBytes += s.paddingBytes;
      this.packetsLost = (this.packetsLost + s.packetsLost) >>> 0;
      this.packetsOutOfOrder = (this.packetsOutOfOrder + s.packetsOutOfOrder) >>> 0;
      this.frames = (this.frames + s.frames) >>> 0;
      this.nacks = (this.nacks + s.nacks) >>> 0;
      this.plis = (this.plis + s.plis) >>> 0;
      this.firs = (this.firs + s.firs) >>> 0;

      for (const l of s.videoLayers) this.addLayer(l);
    }
    return true;
  }

  /** The coalesced stat, unstamped (id, time, track and worker fields are empty). */
  result(): AnalyticsStat {
    const stream = emptyStream();
    stream.primaryPackets = this.primaryPackets;
    stream.primaryBytes = this.primaryBytes;
    stream.retransmitPackets = this.retransmitPackets;
    stream.retransmitBytes = this.retransmitBytes;
    stream.paddingPackets = this.paddingPackets;
    stream.paddingBytes = this.paddingBytes;
    stream.packetsLost = this.packetsLost;
    stream.packetsOutOfOrder = this.packetsOutOfOrder;
    stream.frames = this.frames;
    stream.nacks = this.nacks;
    stream.plis = this.plis;
    stream.firs = this.firs;
    stream.rtt = this.rtt;
    stream.jitter = this.jitter;
    stream.startTime = { seconds: this.startSeconds, nanos: this.startNanos };
    stream.endTime = { seconds: this.endSeconds, nanos: this.endNanos };
    const top = this.topLayer();
    if (top) stream.videoLayers = [top];

    return {
      id: '',
      analyticsKey: '',
      kind: StreamType.UPSTREAM,
      timeStamp: null,
      node: '',
      roomId: '',
      roomName: '',
      participantId: '',
      trackId: '',
      score: this.scoreCount > 0 ? Math.fround(this.scoreSum / Math.fround(this.scoreCount)) : 0,
      streams: [stream],
      mime: this.mime,
      minScore: this.minScore,
      medianScore: this.median(),
    };
  }

  private pushScore(score: number): void {
    // a one-element literal first: most tracks count a few scores, many just one
    if (this.scores) this.scores.push(score);
    else this.scores = [score];
    this.scoreCount++;
  }

  /** utils.Median[float32]: the middle value, or left + (right-left)/2 in float32 for an even count. */
  private median(): number {
    const n = this.scoreCount;
    // no array: no counted score
    const sorted = this.scores;
    if (!sorted) return 0;
    if (n === 1) return sorted[0] ?? 0;
    sortScores(sorted, n);
    if (n % 2 !== 0) return sorted[n >> 1] ?? 0;
    const left = sorted[n / 2 - 1] ?? 0;
    const right = sorted[n / 2] ?? 0;
    return Math.fround(left + Math.fround(Math.fround(right - left) / 2));
  }

  private addLayer(l: Readonly<AnalyticsVideoLayer>): void {
    const layers = (this.layers ??= []);
    for (const sum of layers) {
      if (sum.layer === l.layer) {
        sum.packets = (sum.packets + l.packets) >>> 0;
        sum.bytes += l.bytes;
        sum.frames = (sum.frames + l.frames) >>> 0;
        return;
      }
    }
    layers.push({ layer: l.layer, packets: l.packets, bytes: l.bytes, frames: l.frames });
  }

  /**
   * The highest layer. Differs from the reference only for negative layer
   * numbers, where Go's random map order makes the reference's pick arbitrary.
   */
  private topLayer(): AnalyticsVideoLayer | undefined {
    let top: AnalyticsVideoLayer | undefined;
    for (const l of this.layers ?? []) if (!top || l.layer > top.layer) top = l;
    return top && { ...top };
  }
}

/** Up to this many scores sort by insertion; more go to the builtin sort. */
const INSERTION_SORT_MAX = 32;

/**
 * Sorts the first n scores in place, ascending (their order means nothing
 * else). A track has a few scores per interval: insertion sort on the array
 * itself beats a subarray view plus the builtin sort (the median showed in
 * flush profiles, see bench/README.md). Scores are positive, never NaN.
 */
function sortScores(scores: number[], n: number): void {
  if (n > INSERTION_SORT_MAX) {
    scores.sort((a, b) => a - b);
    return;
  }
  for (let i = 1; i < n; i++) {
    const v = scores[i]!;
    let j = i - 1;
    while (j >= 0 && scores[j]! > v) {
      scores[j + 1] = scores[j]!;
      j--;
    }
    scores[j + 1] = v;
  }
}

/** The reference's `coalesce` over a whole batch; null for no stats. */
export function coalesce(stats: readonly StatSample[]): AnalyticsStat | null {
  if (stats.length === 0) return null;
  const aggregate = new TrackAggregate();
  for (const stat of stats) aggregate.add(stat);
  return aggregate.result();
}
