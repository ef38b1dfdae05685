/**
 * The records a flush hands its stats out in. A flush run fills the same
 * records again from one step to the next, as the step's stats are encoded
 * before the next step: building ~10 fresh objects per flushed stat made the
 * flush's garbage, and V8 took to allocating those objects in the old
 * generation (bench/README.md, "flush records filled again").
 */
import {
  emptyStream,
  StreamType,
  type AnalyticsStat,
  type AnalyticsStream,
  type AnalyticsVideoLayer,
  type Timestamp,
} from './analytics.js';

/** One flushed stat and the objects it is made of, each written again by every fill. */
export class StatRecord {
  readonly stat: AnalyticsStat;
  readonly stream: AnalyticsStream;
  readonly startTime: Timestamp = { seconds: 0, nanos: 0 };
  readonly endTime: Timestamp = { seconds: 0, nanos: 0 };
  /** The stream's one layer, when the track has any (the reference keeps the top one). */
  readonly topLayer: AnalyticsVideoLayer = { layer: 0, packets: 0, bytes: 0, frames: 0 };
  /** What `stream.videoLayers` shows: one of these two, never written by a consumer. */
  readonly withTopLayer: AnalyticsVideoLayer[] = [this.topLayer];
  readonly noLayers: AnalyticsVideoLayer[] = [];

  constructor() {
    this.stream = emptyStream();
    this.stream.startTime = this.startTime;
    this.stream.endTime = this.endTime;
    this.stat = {
      id: '',
      analyticsKey: '',
      kind: StreamType.UPSTREAM,
      timeStamp: null,
      node: '',
      roomId: '',
      roomName: '',
      participantId: '',
      trackId: '',
      score: 0,
      streams: [this.stream],
      mime: '',
      minScore: 0,
      medianScore: 0,
    };
  }
}

/**
 * Records handed out in turn: `next()` gives one handed out before the last
 * `rewind()`, or a new one. Without a rewind every record is new.
 */
export class StatRecords {
  private readonly records: StatRecord[] = [];
  private used = 0;

  /** @internal records made so far (tests check that a rewind makes them serve again). */
  get size(): number {
    return this.records.length;
  }

  next(): StatRecord {
    if (this.used === this.records.length) this.records.push(new StatRecord());
    return this.records[this.used++]!;
  }

  /** The records handed out so far may be filled again: their last stats were consumed. */
  rewind(): void {
    this.used = 0;
  }
}
