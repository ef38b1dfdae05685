/**
 * One participant's stats worker: the reference's StatsWorker without the
 * lock (the event loop serialises access) and with incremental aggregates.
 */
import { StreamType, type AnalyticsStat, type Timestamp } from './analytics.js';
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
  private closedAtMs: number | null = null;

  private readonly guards = new GuardSet();
  private upstream = new Map<string, TrackAggregate>();
  private downstream = new Map<string, TrackAggregate>();
  /**
   * The last flush's aggregates, emptied, by track: the track's next stat
   * takes its aggregate back instead of allocating one, and those of tracks
   * silent for a whole interval are dropped at the next flush.
   */
  private spareUpstream: Map<string, TrackAggregate> | null = null;
  private spareDownstream: Map<string, TrackAggregate> | null = null;

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
    return this.upstream.size + this.downstream.size;
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
    return this.pending(kind).get(trackId);
  }

  /** The (track, direction)'s pending aggregate, created empty if it has none. */
  aggregate(trackId: string, kind: StreamType): TrackAggregate {
    const pending = this.pending(kind);
    let aggregate = pending.get(trackId);
    if (!aggregate) {
      const spare = kind === StreamType.DOWNSTREAM ? this.spareDownstream : this.spareUpstream;
      // left in the spares too: they are cleared at the next flush, before anything reads them again
      aggregate = spare?.get(trackId) ?? new TrackAggregate();
      pending.set(trackId, aggregate);
    }
    return aggregate;
  }

  /** Lets go of the spare aggregates (under memory pressure): the next interval allocates anew. */
  dropSpares(): void {
    this.spareUpstream = null;
    this.spareDownstream = null;
  }

  /** Empties the pending aggregates into one stamped stat per (track, direction), upstream first. */
  flush(timeStamp: Timestamp): AnalyticsStat[] {
    const out: AnalyticsStat[] = [];
    this.collect(out, timeStamp, StreamType.UPSTREAM, this.upstream);
    this.collect(out, timeStamp, StreamType.DOWNSTREAM, this.downstream);
    [this.upstream, this.spareUpstream] = rotate(this.upstream, this.spareUpstream);
    [this.downstream, this.spareDownstream] = rotate(this.downstream, this.spareDownstream);
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

/**
 * After a flush: the flushed aggregates become the spares, and the spares
 * nobody took back (tracks silent for a whole interval) are dropped. A
 * direction without tracks keeps no spares, so an idle worker holds no more
 * than before.
 */
function rotate(
  flushed: Map<string, TrackAggregate>,
  spare: Map<string, TrackAggregate> | null,
): [pending: Map<string, TrackAggregate>, spare: Map<string, TrackAggregate> | null] {
  if (flushed.size === 0) return [flushed, null];
  if (!spare) return [new Map(), flushed];
  spare.clear();
  return [spare, flushed];
}
