/**
 * One participant's stats worker: the reference's StatsWorker without the
 * lock (the event loop serialises access) and with incremental aggregates.
 */
import { StreamType, type AnalyticsStat, type StatSample, type Timestamp } from './analytics.js';
import { TrackAggregate } from './coalesce.js';
import { GuardSet } from './guard.js';

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
  /** Milliseconds since the epoch; null while open. */
  closedAt: number | null = null;

  private readonly guards = new GuardSet();
  private upstream = new Map<string, TrackAggregate>();
  private downstream = new Map<string, TrackAggregate>();

  constructor(identity: WorkerIdentity) {
    this.roomId = identity.roomId;
    this.roomName = identity.roomName;
    this.participantId = identity.participantId;
    this.participantIdentity = identity.participantIdentity;
  }

  get refCount(): number {
    return this.guards.refCount;
  }

  get isClosed(): boolean {
    return this.closedAt !== null;
  }

  /** (track, direction) aggregates waiting for the next flush. */
  get pendingTracks(): number {
    return this.upstream.size + this.downstream.size;
  }

  /** Takes a reference for the guard; false when it was already taken (or the id is empty). */
  activate(guardId: string): boolean {
    return this.guards.activate(guardId);
  }

  /** Drops the guard's reference; false when the guard held none. */
  release(guardId: string): boolean {
    return this.guards.release(guardId);
  }

  holds(guardId: string): boolean {
    return this.guards.holds(guardId);
  }

  hasTrack(trackId: string, kind: StreamType): boolean {
    return this.pending(kind).has(trackId);
  }

  /** Folds the stat into its track's aggregate; returns whether it was valid. */
  record(trackId: string, kind: StreamType, stat: StatSample): boolean {
    const pending = this.pending(kind);
    let aggregate = pending.get(trackId);
    if (!aggregate) {
      aggregate = new TrackAggregate();
      pending.set(trackId, aggregate);
    }
    return aggregate.add(stat);
  }

  /** Swaps out the pending aggregates and returns one stamped stat per (track, direction), upstream first. */
  flush(timeStamp: Timestamp): AnalyticsStat[] {
    const upstream = this.upstream;
    const downstream = this.downstream;
    if (upstream.size + downstream.size === 0) return [];
    this.upstream = new Map();
    this.downstream = new Map();
    const out: AnalyticsStat[] = [];
    this.collect(out, timeStamp, StreamType.UPSTREAM, upstream);
    this.collect(out, timeStamp, StreamType.DOWNSTREAM, downstream);
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

  private pending(kind: StreamType): Map<string, TrackAggregate> {
    return kind === StreamType.DOWNSTREAM ? this.downstream : this.upstream;
  }

  private collect(
    out: AnalyticsStat[],
    timeStamp: Timestamp,
    kind: StreamType,
    perTrack: Map<string, TrackAggregate>,
  ): void {
    for (const [trackId, aggregate] of perTrack) {
      const stat = aggregate.result();
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
