/**
 * Incremental port of the reference's `coalesce`: stats are folded in on
 * arrival, so memory per (track, direction) is constant plus 4.5 bytes per
 * counted score (kept for the median in the score arena). `result()` equals
 * what `coalesce` returns for the same stats in the same order, bit for bit.
 * It hands the scores back to the arena: a later call answers the same, and
 * nothing is added until reset() empties the aggregate for the next interval.
 */
import { StreamType, type AnalyticsStat, type AnalyticsVideoLayer, type StatSample } from './analytics.js';
import { compareTime, GO_ZERO_SECONDS, isGoZero, nanosCarry, NANOS_PER_SECOND } from './gotime.js';
import { NO_BLOCK, ScoreArena } from './score-arena.js';
import { StatRecord } from './stat-records.js';
import { isValid } from './validity.js';

/** The counted scores of every pending aggregate in the process (the event loop serialises access). */
const scores = new ScoreArena();

/** Blocks of the score arena held by aggregates not yet flushed: tests check that flushing frees them all. */
export function scoreBlocksInUse(): number {
  return scores.blocksInUse;
}

/** Layer sums an aggregate keeps for its next interval: a simulcast ladder's three, with room to spare. */
const KEPT_LAYERS = 4;

export class TrackAggregate {
  /**
   * The owning worker's flush interval in which this aggregate last became
   * pending (worker.ts); reset() leaves it, as the worker decides.
   */
  interval = 0;
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

  /**
   * Per-layer sums; a short array beats a Map for the usual one to three
   * layers. The first `layerCount` are this interval's; those after them are
   * kept from earlier intervals and written again when a layer comes back:
   * new sums every interval were young objects hung off an old aggregate,
   * which the flush's minor collections then had to copy and promote
   * (bench/README.md, "layer sums kept").
   */
  private layers: AnalyticsVideoLayer[] | null = null;
  private layerCount = 0;

  private scoreSum = 0;
  private minScore = 0;
  private scoreCount = 0;
  /** The chain holding the counted scores (float32) in the score arena; NO_BLOCK while none. */
  private scoreHead = NO_BLOCK;
  private scoreTail = NO_BLOCK;
  /** The median, once result() has handed the scores back to the arena. */
  private takenMedian = 0;

  /** @internal layer sums held, this interval's and those kept from the last (tests check the bound). */
  get heldLayers(): number {
    return this.layers?.length ?? 0;
  }

  /** Folds one stat in, in arrival order; returns false for an invalid stat (which adds nothing). */
  add(stat: StatSample): boolean {
    this.received++;
    // Each request decodes its own copy of the mime string: storing the equal
    // copy anyway pointed every (old) aggregate at a young string, which every
    // minor collection then had to visit and copy (bench/README.md, "the mime
    // string kept").
    if (stat.mime !== this.mime) this.mime = stat.mime;
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
    return this.fill(new StatRecord());
  }

  /**
   * result() written into a record: every field of the stat and of its
   * stream, so a record filled before holds nothing of its last stat.
   */
  fill(record: StatRecord): AnalyticsStat {
    const stream = record.stream;
    stream.ssrc = 0;
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
    record.startTime.seconds = this.startSeconds;
    record.startTime.nanos = this.startNanos;
    record.endTime.seconds = this.endSeconds;
    record.endTime.nanos = this.endNanos;
    const top = this.topLayer();
    if (top) {
      const layer = record.topLayer;
      layer.layer = top.layer;
      layer.packets = top.packets;
      layer.bytes = top.bytes;
      layer.frames = top.frames;
      stream.videoLayers = record.withTopLayer;
    } else {
      stream.videoLayers = record.noLayers;
    }

    const stat = record.stat;
    stat.id = '';
    stat.analyticsKey = '';
    stat.kind = StreamType.UPSTREAM;
    stat.timeStamp = null;
    stat.node = '';
    stat.roomId = '';
    stat.roomName = '';
    stat.participantId = '';
    stat.trackId = '';
    stat.score = this.scoreCount > 0 ? Math.fround(this.scoreSum / Math.fround(this.scoreCount)) : 0;
    stat.mime = this.mime;
    stat.minScore = this.minScore;
    stat.medianScore = this.median();
    return stat;
  }

  /**
   * Empties the aggregate after result(), for the same track's next interval:
   * the worker keeps it rather than allocating a new one, so an aggregate is
   * not created and promoted again every flush (bench/README.md, "aggregates
   * kept across flushes").
   */
  reset(): void {
    this.received = 0;
    this.invalid = 0;
    this.mime = '';
    this.startSeconds = GO_ZERO_SECONDS;
    this.startNanos = 0;
    this.endSeconds = GO_ZERO_SECONDS;
    this.endNanos = 0;
    this.rtt = 0;
    this.jitter = 0;
    this.primaryPackets = 0;
    this.primaryBytes = 0;
    this.retransmitPackets = 0;
    this.retransmitBytes = 0;
    this.paddingPackets = 0;
    this.paddingBytes = 0;
    this.packetsLost = 0;
    this.packetsOutOfOrder = 0;
    this.frames = 0;
    this.nacks = 0;
    this.plis = 0;
    this.firs = 0;
    // a track with more layers than a simulcast ladder has does not hold them past its interval
    if (this.layers && this.layers.length > KEPT_LAYERS) this.layers = null;
    this.layerCount = 0;
    this.scoreSum = 0;
    this.minScore = 0;
    // scores still chained (result() not called) go back to the arena
    if (this.scoreHead !== NO_BLOCK) scores.takeSorted(this.scoreHead, this.scoreCount);
    this.scoreHead = this.scoreTail = NO_BLOCK;
    this.scoreCount = 0;
  }

  private pushScore(score: number): void {
    this.scoreTail = scores.push(this.scoreTail, this.scoreCount, score);
    if (this.scoreHead === NO_BLOCK) this.scoreHead = this.scoreTail;
    this.scoreCount++;
  }

  /**
   * utils.Median[float32]: the middle value, or left + (right-left)/2 in
   * float32 for an even count. The first call hands the scores back to the
   * arena (the flush then resets the aggregate) and remembers the answer.
   */
  private median(): number {
    const n = this.scoreCount;
    if (n === 0) return 0;
    // no chain behind counted scores: an earlier call took them (the median of two infinities is NaN, so no sentinel)
    if (this.scoreHead === NO_BLOCK) return this.takenMedian;
    const sorted = scores.takeSorted(this.scoreHead, n);
    this.scoreHead = this.scoreTail = NO_BLOCK;
    if (n % 2 !== 0) return (this.takenMedian = sorted[n >> 1]!);
    const left = sorted[n / 2 - 1]!;
    const right = sorted[n / 2]!;
    return (this.takenMedian = Math.fround(left + Math.fround(Math.fround(right - left) / 2)));
  }

  private addLayer(l: Readonly<AnalyticsVideoLayer>): void {
    const layers = (this.layers ??= []);
    const n = this.layerCount;
    for (let i = 0; i < n; i++) {
      const sum = layers[i]!;
      if (sum.layer === l.layer) {
        sum.packets = (sum.packets + l.packets) >>> 0;
        sum.bytes += l.bytes;
        sum.frames = (sum.frames + l.frames) >>> 0;
        return;
      }
    }
    if (n < layers.length) {
      const kept = layers[n]!;
      kept.layer = l.layer;
      kept.packets = l.packets;
      kept.bytes = l.bytes;
      kept.frames = l.frames;
    } else {
      layers.push({ layer: l.layer, packets: l.packets, bytes: l.bytes, frames: l.frames });
    }
    this.layerCount = n + 1;
  }

  /**
   * The highest layer. Differs from the reference only for negative layer
   * numbers, where Go's random map order makes the reference's pick arbitrary.
   */
  private topLayer(): AnalyticsVideoLayer | undefined {
    const layers = this.layers;
    if (!layers) return undefined;
    let top: AnalyticsVideoLayer | undefined;
    for (let i = 0; i < this.layerCount; i++) {
      const l = layers[i]!;
      if (!top || l.layer > top.layer) top = l;
    }
    return top;
  }
}

/** The reference's `coalesce` over a whole batch; null for no stats. */
export function coalesce(stats: readonly StatSample[]): AnalyticsStat | null {
  if (stats.length === 0) return null;
  const aggregate = new TrackAggregate();
  for (const stat of stats) aggregate.add(stat);
  return aggregate.result();
}
