/**
 * One participant's stats worker: the reference's StatsWorker without the
 * lock (the event loop serialises access) and with incremental aggregates.
 */
import { StreamType, type AnalyticsStat, type Timestamp } from './analytics.js';
import { TrackAggregate } from './coalesce.js';
import { GuardSet } from './guard.js';
import { StatRecords } from './stat-records.js';

export interface WorkerIdentity {
  readonly roomId: string;
  readonly roomName: string;
  readonly participantId: string;
  readonly participantIdentity: string;
}

/** What ListWorkers and the lifecycle log lines show. */
export interface WorkerInfo extends WorkerIdentity {
  connected: boolean;
  refCount: number;
  /** Milliseconds since the epoch; null while open. */
  closedAt: number | null;
  pendingTracks: number;
}

export class StatsWorker implements WorkerIdentity {
  readonly roomId: string;
  readonly roomName: string;
  readonly participantId: string;
  readonly participantIdentity: string;
  connected = false;
  private closedAtMs: number | null = null;

  private readonly guards = new GuardSet();
  /**
   * Every aggregate by track: those with stats this interval (pending) and
   * those the last flush emptied and kept, which the track's next stat takes
   * back instead of allocating one; a kept one whose track stays silent for a
   * whole interval is dropped at the next flush. The maps keep their entries
   * across flushes: emptying and refilling them allocated new tables (and new
   * key strings) that every scavenge then promoted (bench/README.md, "maps
   * kept across flushes").
   */
  private readonly upstream = new Map<string, TrackAggregate>();
  private readonly downstream = new Map<string, TrackAggregate>();
  /** The flush interval under way: an aggregate whose `interval` equals it is pending. */
  private interval = 1;
  private pendingCount = 0;

  constructor(identity: WorkerIdentity) {
    this.roomId = identity.roomId;
    this.roomName = identity.roomName;
    this.participantId = identity.participantId;
    this.participantIdentity = identity.participantIdentity;
  }

  get refCount(): number {
    return this.guards.refCount;
  }

  /** Milliseconds since the epoch; null while open. */
  get closedAt(): number | null {
    return this.closedAtMs;
  }

  get isClosed(): boolean {
    return this.closedAtMs !== null;
  }

  /** (track, direction) aggregates waiting for the next flush. */
  get pendingTracks(): number {
    return this.pendingCount;
  }

  /** Guard ids held or remembered as released (bounded per worker). */
  get guardIds(): number {
    return this.guards.size;
  }

  /** Whether activating this guard id would take a new reference. */
  isNewGuard(guardId: string): boolean {
    return this.guards.isNew(guardId);
  }

  /** Takes a reference for the guard; false when it was already taken (or the id is empty). */
  activate(guardId: string): boolean {
    return this.guards.activate(guardId);
  }

  /** Drops the guard's reference at `now` (milliseconds); false when the guard held none. */
  release(guardId: string, now: number): boolean {
    return this.guards.release(guardId, now);
  }

  /** Closes the worker at `now`; its released guards are forgotten, as none can be activated again. */
  close(now: number): void {
    this.closedAtMs = now;
    this.guards.forgetAllReleased();
  }

  /** Forgets guards released more than `retainMs` ago: a retried Activate can no longer arrive. */
  forgetReleasedGuards(now: number, retainMs: number): void {
    this.guards.forgetReleased(now, retainMs);
  }

  holds(guardId: string): boolean {
    return this.guards.holds(guardId);
  }

  /** The aggregate the (track, direction)'s stats are folded into until the next flush, if it has one. */
  pendingAggregate(trackId: string, kind: StreamType): TrackAggregate | undefined {
    const aggregate = this.tracks(kind).get(trackId);
    return aggregate?.interval === this.interval ? aggregate : undefined;
  }

  /** The (track, direction)'s pending aggregate: the one kept from the last interval, or a new one. */
  aggregate(trackId: string, kind: StreamType): TrackAggregate {
    const tracks = this.tracks(kind);
    let aggregate = tracks.get(trackId);
    if (!aggregate) tracks.set(trackId, (aggregate = new TrackAggregate()));
    if (aggregate.interval !== this.interval) {
      aggregate.interval = this.interval;
      this.pendingCount++;
    }
    return aggregate;
  }

  /** Lets go of the kept aggregates (under memory pressure): the next interval allocates anew. */
  dropSpares(): void {
    this.dropKept(this.upstream);
    this.dropKept(this.downstream);
  }

  /**
   * Empties the pending aggregates into one stamped stat per (track,
   * direction), upstream first, each in a record from `records`.
   */
  flush(timeStamp: Timestamp, records = new StatRecords()): AnalyticsStat[] {
    const out: AnalyticsStat[] = [];
    this.collect(out, records, timeStamp, StreamType.UPSTREAM, this.upstream);
    this.collect(out, records, timeStamp, StreamType.DOWNSTREAM, this.downstream);
    this.interval++;
    this.pendingCount = 0;
    return out;
  }

  /** Closed more than closeWait ago (strictly), as the reference's Flush decides. */
  isReapable(now: number, closeWaitMs: number): boolean {
    return this.closedAt !== null && now - this.closedAt > closeWaitMs;
  }

  info(): WorkerInfo {
    return {
      roomId: this.roomId,
      roomName: this.roomName,
      participantId: this.participantId,
      participantIdentity: this.participantIdentity,
      connected: this.connected,
      refCount: this.refCount,
      closedAt: this.closedAt,
      pendingTracks: this.pendingTracks,
    };
  }

  private tracks(kind: StreamType): Map<string, TrackAggregate> {
    return kind === StreamType.DOWNSTREAM ? this.downstream : this.upstream;
  }

  private dropKept(tracks: Map<string, TrackAggregate>): void {
    for (const [trackId, aggregate] of tracks) if (aggregate.interval !== this.interval) tracks.delete(trackId);
  }

  private collect(
    out: AnalyticsStat[],
    records: StatRecords,
    timeStamp: Timestamp,
    kind: StreamType,
    perTrack: Map<string, TrackAggregate>,
  ): void {
    for (const [trackId, aggregate] of perTrack) {
      if (aggregate.interval !== this.interval) {
        // kept from the last flush and silent since
        perTrack.delete(trackId);
        continue;
      }
      const stat = aggregate.fill(records.next());
      aggregate.reset();
      stat.timeStamp = timeStamp;
      stat.trackId = trackId;
      stat.kind = kind;
      stat.roomId = this.roomId;
      stat.participantId = this.participantId;
      stat.roomName = this.roomName;
      out.push(stat);
    }
  }
}
