/**
 * The worker map and flush schedule of LiveKit's telemetryService: workers by
 * (room_id, participant_id), reference-counted by guards, flushed on a
 * schedule and reaped close_wait after they close. Pure: the caller passes
 * the clock and turns the returned outcomes into responses, metrics and logs.
 */
import type { AnalyticsStat, StatSample, StreamType, Timestamp } from './analytics.js';
import { SidecarError } from './errors.js';
import { timestampFromMillis } from './gotime.js';
import type { TrackAggregate } from './coalesce.js';
import { StatRecords } from './stat-records.js';
import { StatsWorker, type WorkerIdentity, type WorkerInfo } from './worker.js';

export interface RegistryLimits {
  /** Closed workers linger this long for late stats; in milliseconds, default 180_000. */
  readonly closeWaitMs: number;
  /** Workers held at once (open and lingering); bounds memory. */
  readonly maxWorkers: number;
  /** (track, direction) aggregates pending per worker; bounds memory per participant. */
  readonly maxTracksPerWorker: number;
  /** Guard ids held or remembered per worker; default DEFAULT_MAX_GUARDS_PER_WORKER. */
  readonly maxGuardsPerWorker?: number;
}

/** LiveKit holds a handful of guards per participant; 256 leaves room for churn and bounds a hostile client. */
export const DEFAULT_MAX_GUARDS_PER_WORKER = 256;

export interface ActivateInput extends WorkerIdentity {
  readonly guardId: string;
  readonly connected: boolean;
}

export interface ActivateOutcome {
  /** An open worker already existed and was reused. */
  found: boolean;
  refCount: number;
  connected: boolean;
  /** The guard was newly counted (false for a retried activate or an empty guard id). */
  counted: boolean;
  worker: StatsWorker;
  /** The closed worker this one replaced in the map (it stays scheduled until reaped). */
  replaced?: StatsWorker;
}

export interface ReleaseInput {
  readonly roomId: string;
  readonly participantId: string;
  readonly guardId: string;
}

export interface ReleaseOutcome {
  closed: boolean;
  found: boolean;
  wasConnected: boolean;
  refCount: number;
  /** The guard held a reference and gave it up. */
  released: boolean;
  worker?: StatsWorker;
}

export interface TrackStatInput {
  readonly roomId: string;
  readonly participantId: string;
  readonly trackId: string;
  readonly kind: StreamType;
  readonly stat: StatSample;
}

/** Partition of a batch of stats, as TrackStatsResponse reports it. */
export interface RecordOutcome {
  accepted: number;
  invalid: number;
  noWorker: number;
  /** One invalid stat of the batch, for a rate-limited log line. */
  sampleInvalid?: TrackStatInput;
}

export interface RegistryCounts {
  active: number;
  closing: number;
  connected: number;
  guards: number;
}

export class WorkerRegistry {
  /**
   * The worker each (room, participant) maps to: open, or closed and not yet
   * replaced or reaped. By room, then participant: a stat's ids are looked up
   * as decoded, where one map keyed by both had to build, flatten and hash a
   * new key string per lookup (bench/README.md, "workers by room").
   */
  private readonly workers = new Map<string, Map<string, StatsWorker>>();
  /** Every worker still to be flushed, including closed ones replaced in the map; insertion-ordered. */
  private readonly schedule = new Set<StatsWorker>();
  private openCount = 0;
  private connectedCount = 0;
  private guardCount = 0;

  constructor(readonly limits: RegistryLimits) {}

  /** The worker stats for this key go to: open or closed, as long as the map holds it. */
  lookup(roomId: string, participantId: string): StatsWorker | undefined {
    return this.workers.get(roomId)?.get(participantId);
  }

  activate(input: ActivateInput): ActivateOutcome {
    const existing = this.lookup(input.roomId, input.participantId);
    if (existing && !existing.isClosed) {
      this.admitGuard(existing, input);
      const counted = existing.activate(input.guardId);
      if (counted) this.guardCount++;
      if (input.connected) this.markConnected(existing);
      return { found: true, refCount: existing.refCount, connected: existing.connected, counted, worker: existing };
    }

    if (this.schedule.size >= this.limits.maxWorkers) {
      throw new SidecarError(
        'RESOURCE_EXHAUSTED',
        `worker limit reached: ${this.schedule.size} workers held (SIDECAR_MAX_WORKERS=${this.limits.maxWorkers})`,
        'worker_limit',
      );
    }
    const worker = new StatsWorker(input);
    const counted = worker.activate(input.guardId);
    if (counted) this.guardCount++;
    this.schedule.add(worker);
    this.openCount++;
    let room = this.workers.get(input.roomId);
    if (!room) this.workers.set(input.roomId, (room = new Map()));
    room.set(input.participantId, worker);
    // a replacement inherits the closed worker's connected flag, as getOrCreateWorker does
    if (existing?.connected || input.connected) this.markConnected(worker);
    const outcome: ActivateOutcome = {
      found: false,
      refCount: worker.refCount,
      connected: worker.connected,
      counted,
      worker,
    };
    if (existing) outcome.replaced = existing;
    return outcome;
  }

  release(input: ReleaseInput, now: number): ReleaseOutcome {
    const worker = this.lookup(input.roomId, input.participantId);
    if (!worker) return { closed: false, found: false, wasConnected: false, refCount: 0, released: false };
    const released = worker.release(input.guardId, now);
    let closed = false;
    if (released) {
      this.guardCount--;
      if (worker.refCount === 0 && !worker.isClosed) {
        worker.close(now);
        closed = true;
        this.openCount--;
        if (worker.connected) this.connectedCount--;
      }
    }
    return { closed, found: true, wasConnected: worker.connected, refCount: worker.refCount, released, worker };
  }

  /**
   * Records a batch of stats. All or nothing on the track limit: a batch that
   * would push a worker past it is refused whole, so a retry never double-counts.
   */
  record(stats: readonly TrackStatInput[]): RecordOutcome {
    const aggregates = this.admitTracks(stats, this.resolve(stats));
    const outcome: RecordOutcome = { accepted: 0, invalid: 0, noWorker: 0 };
    for (let i = 0; i < stats.length; i++) {
      const s = stats[i]!;
      const aggregate = aggregates[i];
      if (!aggregate) outcome.noWorker++;
      else if (aggregate.add(s.stat)) outcome.accepted++;
      else {
        outcome.invalid++;
        outcome.sampleInvalid ??= s;
      }
    }
    return outcome;
  }

  /** Lets every worker go of its spare aggregates (kept from the last flush for reuse). */
  dropSpares(): void {
    for (const worker of this.schedule) worker.dropSpares();
  }

  /** Starts a flush of every scheduled worker at `now` (milliseconds since the epoch). */
  beginFlush(now: number): FlushRun {
    return new FlushRun(this, now);
  }

  /** Workers still scheduled (open and lingering), optionally of one room. */
  list(roomId = ''): WorkerInfo[] {
    const out: WorkerInfo[] = [];
    for (const w of this.schedule) if (roomId === '' || w.roomId === roomId) out.push(w.info());
    return out;
  }

  counts(): RegistryCounts {
    return {
      active: this.openCount,
      closing: this.schedule.size - this.openCount,
      connected: this.connectedCount,
      guards: this.guardCount,
    };
  }

  /** @internal rooms with a worker in the map (a room's map goes with its last worker). */
  get roomsHeld(): number {
    return this.workers.size;
  }

  /** @internal the schedule, live: a flush run iterates it while workers come and go. */
  scheduled(): IterableIterator<StatsWorker> {
    return this.schedule.values();
  }

  /** @internal drops a reapable worker; the map entry goes only if it still points at it. */
  reap(worker: StatsWorker): void {
    this.schedule.delete(worker);
    const room = this.workers.get(worker.roomId);
    if (room?.get(worker.participantId) !== worker) return;
    room.delete(worker.participantId);
    if (room.size === 0) this.workers.delete(worker.roomId);
  }

  /** A new guard id on a worker that holds or remembers the maximum is refused; known ids always pass (retries stay harmless). */
  private admitGuard(worker: StatsWorker, input: ActivateInput): void {
    const max = this.limits.maxGuardsPerWorker ?? DEFAULT_MAX_GUARDS_PER_WORKER;
    if (worker.guardIds < max || !worker.isNewGuard(input.guardId)) return;
    throw new SidecarError(
      'RESOURCE_EXHAUSTED',
      `guard limit reached for participant ${input.participantId} in room ${input.roomId}: ${worker.guardIds} guard ids held or recently released (SIDECAR_MAX_GUARDS_PER_WORKER=${max})`,
      'guard_limit',
    );
  }

  /** Only open workers are marked (activate never reuses a closed one), so each counts as connected. */
  private markConnected(worker: StatsWorker): void {
    if (worker.connected) return;
    worker.connected = true;
    this.connectedCount++;
  }

  /** Each stat's worker, looked up once per run of stats for the same participant (SFUs send them grouped). */
  private resolve(stats: readonly TrackStatInput[]): (StatsWorker | undefined)[] {
    const workers = new Array<StatsWorker | undefined>(stats.length);
    let roomId: string | undefined;
    let participantId: string | undefined;
    let worker: StatsWorker | undefined;
    for (let i = 0; i < stats.length; i++) {
      const s = stats[i]!;
      if (s.roomId !== roomId || s.participantId !== participantId) {
        roomId = s.roomId;
        participantId = s.participantId;
        worker = this.lookup(roomId, participantId);
      }
      workers[i] = worker;
    }
    return workers;
  }

  /**
   * Each stat's aggregate (undefined without a worker), found with one map
   * lookup per stat: the lookup showed in ingest profiles (bench/README.md).
   * Aggregates for new tracks are created only once the whole batch is within
   * the track limit.
   */
  private admitTracks(
    stats: readonly TrackStatInput[],
    workers: readonly (StatsWorker | undefined)[],
  ): (TrackAggregate | undefined)[] {
    const max = this.limits.maxTracksPerWorker;
    const aggregates = new Array<TrackAggregate | undefined>(stats.length);
    const missing: number[] = [];
    let added: Map<StatsWorker, Set<string>> | undefined;
    for (let i = 0; i < stats.length; i++) {
      const s = stats[i]!;
      const worker = workers[i];
      const aggregate = worker?.pendingAggregate(s.trackId, s.kind);
      aggregates[i] = aggregate;
      if (!worker || aggregate) continue;
      missing.push(i);
      added ??= new Map();
      let tracks = added.get(worker);
      if (!tracks) added.set(worker, (tracks = new Set()));
      tracks.add(`${s.kind}:${s.trackId}`);
      if (worker.pendingTracks + tracks.size > max) {
        throw new SidecarError(
          'RESOURCE_EXHAUSTED',
          `track limit reached for participant ${s.participantId} in room ${s.roomId}: more than ${max} tracks pending (SIDECAR_MAX_TRACKS_PER_WORKER)`,
          'track_limit',
        );
      }
    }
    for (const i of missing) aggregates[i] = workers[i]!.aggregate(stats[i]!.trackId, stats[i]!.kind);
    return aggregates;
  }
}

export interface FlushStep {
  /** Filled again by the next step: consume them (encode, copy) before taking it. */
  stats: AnalyticsStat[];
  reaped: StatsWorker[];
  done: boolean;
}

/**
 * One pass of LiveKit's FlushStats, taken in steps so a large flush can yield
 * to the event loop between them. Workers created during the pass are
 * flushed by it too (the schedule is iterated live).
 */
export class FlushRun {
  workersFlushed = 0;
  statsEmitted = 0;
  workersReaped = 0;
  private readonly workers: Iterator<StatsWorker>;
  private readonly timeStamp: Timestamp;
  private readonly records = new StatRecords();

  constructor(
    private readonly registry: WorkerRegistry,
    readonly now: number,
  ) {
    this.workers = registry.scheduled();
    this.timeStamp = timestampFromMillis(now);
  }

  /**
   * Flushes workers until `budget` units of work are done (one per worker
   * visited plus one per stat emitted) or the schedule is exhausted.
   */
  step(budget = Infinity): FlushStep {
    const stats: AnalyticsStat[] = [];
    const reaped: StatsWorker[] = [];
    const closeWaitMs = this.registry.limits.closeWaitMs;
    this.records.rewind();
    let work = 0;
    while (work < budget) {
      const next = this.workers.next();
      if (next.done) return this.finish(stats, reaped, true);
      const worker = next.value;
      const emitted = worker.flush(this.timeStamp, this.records);
      for (const stat of emitted) stats.push(stat);
      work += 1 + emitted.length;
      this.workersFlushed++;
      worker.forgetReleasedGuards(this.now, closeWaitMs);
      if (worker.isReapable(this.now, closeWaitMs)) {
        this.registry.reap(worker);
        reaped.push(worker);
      }
    }
    return this.finish(stats, reaped, false);
  }

  private finish(stats: AnalyticsStat[], reaped: StatsWorker[], done: boolean): FlushStep {
    this.statsEmitted += stats.length;
    this.workersReaped += reaped.length;
    return { stats, reaped, done };
  }
}
