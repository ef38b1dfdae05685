/**
 * The service the RPCs drive, as LiveKit's telemetryService is to its SFU:
 * validates requests, applies them to the worker registry, and turns the
 * outcomes into responses, metrics and lifecycle log lines. Transport-free:
 * the unary handlers and the Session stream both call it.
 */
import type { Logger } from 'pino';
import { SidecarError } from '../core/errors.js';
import { timestampFromMillis } from '../core/gotime.js';
import type { ReleaseInput, TrackStatInput, WorkerRegistry } from '../core/registry.js';
import type { StatsWorker, WorkerInfo } from '../core/worker.js';
import type { ActivateRequest__Output } from '../generated/telemetry/sidecar/v1/ActivateRequest.js';
import type { ActivateResponse } from '../generated/telemetry/sidecar/v1/ActivateResponse.js';
import type { FlushRequest__Output } from '../generated/telemetry/sidecar/v1/FlushRequest.js';
import type { FlushResponse } from '../generated/telemetry/sidecar/v1/FlushResponse.js';
import type { ListWorkersRequest__Output } from '../generated/telemetry/sidecar/v1/ListWorkersRequest.js';
import type { ListWorkersResponse } from '../generated/telemetry/sidecar/v1/ListWorkersResponse.js';
import type { ReleaseRequest__Output } from '../generated/telemetry/sidecar/v1/ReleaseRequest.js';
import type { ReleaseResponse } from '../generated/telemetry/sidecar/v1/ReleaseResponse.js';
import type { TrackStatsResponse } from '../generated/telemetry/sidecar/v1/TrackStatsResponse.js';
import { trackLogFields, warnLimited, type LogRateLimiter } from '../observe/log.js';
import type { GuardOpResult } from '../observe/metrics.js';
import type { FlushResult } from '../schedule/scheduler.js';
import { LeaseBook } from './leases.js';
import type { MemoryGuard } from './memory-guard.js';
import type { DecodedTrackStats } from '../wire/session-decoder.js';
import { toActivateInput, toReleaseInput, toTrackStatInputs } from './requests.js';
import { isDropReason, type DropReason } from '../observe/drop-reasons.js';

export interface ServiceMetrics {
  guardOp(op: 'activate' | 'release', result: GuardOpResult): void;
  trackStats(outcome: { accepted: number; invalid: number; noWorker: number }): void;
  /** `validated`: the caller vouches that the stat passed the core's isValid, so it is not checked again. */
  observeTraffic(stat: TrackStatInput, country: string, validated: boolean): void;
  statsDropped(reason: DropReason, n: number): void;
  leaseExpired(n: number): void;
}

export interface SidecarServiceDeps {
  registry: WorkerRegistry;
  flush: () => Promise<FlushResult>;
  memory: MemoryGuard;
  metrics: ServiceMetrics;
  logger: Logger;
  invalidStatLog: LogRateLimiter;
  workerFields: (info: WorkerInfo) => object;
  /** in milliseconds */
  leaseGraceMs: number;
  /** How long a Flush with wait_delivered waits for the upstream's acks; in milliseconds. */
  flushWaitMs: number;
  now?: () => number;
}

/** A TrackStats body not decoded yet: it is decoded only once the request is admitted. */
export interface PendingTrackStats {
  /** Decodes the stats; throws a SidecarError when the bytes are refused. */
  decode(): DecodedTrackStats;
  /** The number of stats, counted without decoding them (for the drop counter of a refusal). */
  count(): number;
}

export class SidecarService {
  readonly leases: LeaseBook;
  private serving = true;
  private readonly now: () => number;

  constructor(private readonly deps: SidecarServiceDeps) {
    this.now = deps.now ?? Date.now;
    this.leases = new LeaseBook(deps.leaseGraceMs, (clientId, guards) => this.expireLease(clientId, guards));
  }

  /** From now on every RPC answers UNAVAILABLE; the final flush happens elsewhere. */
  stopServing(): void {
    this.serving = false;
    this.leases.stop();
  }

  activate(req: ActivateRequest__Output, leaseOwner?: string): ActivateResponse {
    this.checkServing();
    const input = toActivateInput(req);
    const { registry, metrics, logger } = this.deps;
    let outcome;
    try {
      outcome = registry.activate(input);
    } catch (err) {
      metrics.guardOp('activate', 'error');
      throw err;
    }
    metrics.guardOp('activate', outcome.found ? (outcome.counted ? 'reused' : 'noop') : 'created');
    if (!outcome.found) logger.info(this.deps.workerFields(outcome.worker.info()), 'worker created');
    if (leaseOwner !== undefined && outcome.worker.holds(input.guardId)) this.leases.hold(leaseOwner, input);
    return { found: outcome.found, refCount: outcome.refCount, connected: outcome.connected };
  }

  release(req: ReleaseRequest__Output): ReleaseResponse {
    this.checkServing();
    const outcome = this.releaseGuard(toReleaseInput(req));
    return {
      closed: outcome.closed,
      found: outcome.found,
      wasConnected: outcome.wasConnected,
      refCount: outcome.refCount,
    };
  }

  /**
   * TrackStats: admitted (serving, memory limit) before the body is decoded,
   * so a refused request never costs its decoded size. A refusal at any step
   * counts the request's stats as dropped.
   */
  trackStats(body: PendingTrackStats): TrackStatsResponse {
    const { registry, metrics, memory } = this.deps;
    let entries;
    try {
      this.checkServing();
      memory.check();
      entries = toTrackStatInputs(body.decode().stats);
    } catch (err) {
      this.countRefused(err, body.count());
      throw err;
    }
    let outcome;
    try {
      outcome = registry.record(entries);
    } catch (err) {
      this.countRefused(err, entries.length);
      throw err;
    }
    metrics.trackStats(outcome);
    // Every stat the registry accepted passed isValid; a stat without a worker was never checked.
    const validated = outcome.accepted === entries.length;
    for (const entry of entries) metrics.observeTraffic(entry, entry.country, validated);
    if (outcome.sampleInvalid) this.logInvalid(outcome.sampleInvalid, outcome.invalid);
    return { accepted: outcome.accepted, invalid: outcome.invalid, noWorker: outcome.noWorker };
  }

  /**
   * With wait_delivered, waits for the upstream's acks at most flushWaitMs
   * and then answers delivered=false: an outage must not hold the Session
   * that asked (docs/api.md, Flush).
   */
  async flush(req: FlushRequest__Output): Promise<FlushResponse> {
    this.checkServing();
    const result = await this.deps.flush();
    const delivered = req.waitDelivered ? await settledWithin(result.delivered, this.deps.flushWaitMs) : false;
    return {
      workersFlushed: result.workersFlushed,
      statsEmitted: result.statsEmitted,
      workersReaped: result.workersReaped,
      delivered,
    };
  }

  listWorkers(req: ListWorkersRequest__Output): ListWorkersResponse {
    this.checkServing();
    return {
      workers: this.deps.registry.list(req.roomId).map((w) => ({
        roomId: w.roomId,
        roomName: w.roomName,
        participantId: w.participantId,
        participantIdentity: w.participantIdentity,
        connected: w.connected,
        refCount: w.refCount,
        closedAt: w.closedAt === null ? null : timestampFromMillis(w.closedAt),
        pendingTracks: w.pendingTracks,
      })),
    };
  }

  /** Lifecycle line for a worker the flush reaped. */
  workerReaped(worker: StatsWorker): void {
    this.deps.logger.info(this.deps.workerFields(worker.info()), 'worker reaped');
  }

  private releaseGuard(input: ReleaseInput) {
    const { registry, metrics, logger } = this.deps;
    const outcome = registry.release(input, this.now());
    this.leases.forget(input);
    metrics.guardOp(
      'release',
      !outcome.found ? 'not_found' : outcome.closed ? 'closed' : outcome.released ? 'released' : 'noop',
    );
    if (outcome.closed && outcome.worker) logger.info(this.deps.workerFields(outcome.worker.info()), 'worker closed');
    return outcome;
  }

  private expireLease(clientId: string, guards: ReleaseInput[]): void {
    if (!this.serving) return;
    for (const guard of guards) this.releaseGuard(guard);
    this.deps.metrics.leaseExpired(guards.length);
    this.deps.logger.info(
      { clientId, guards: guards.length },
      'lease expired: released the guards of a vanished client',
    );
  }

  private logInvalid(sample: TrackStatInput, count: number): void {
    warnLimited(
      this.deps.logger,
      this.deps.invalidStatLog,
      { ...trackLogFields(sample), invalidInBatch: count },
      'telemetry skipping invalid stat',
    );
  }

  private countRefused(err: unknown, n: number): void {
    if (n === 0) return;
    const named = err instanceof SidecarError ? (err.reason ?? err.code.toLowerCase()) : 'internal';
    this.deps.metrics.statsDropped(isDropReason(named) ? named : 'internal', n);
  }

  private checkServing(): void {
    if (!this.serving) throw new SidecarError('UNAVAILABLE', 'shutting down', 'shutting_down');
  }
}

/** Node fires a longer timer at once (1 ms). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The promise's value, or false once `ms` have passed without it. */
function settledWithin(promise: Promise<boolean>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), Math.min(ms, MAX_TIMER_MS));
    timer.unref();
    void promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      () => {
        clearTimeout(timer);
        resolve(false);
      },
    );
  });
}
