/**
 * The sidecar's own metric families (docs/metrics.md): workers, guards,
 * sessions, track stats, flushes, delivery, drops, reaps and leases. Gauges
 * that mirror state read providers at scrape time, so they never drift from
 * the registry; every documented label combination starts at zero, so
 * `increase()` sees the first event of each.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { RegistryCounts } from '../core/registry.js';
import { DROP_REASONS, type DropReason } from './drop-reasons.js';

const PREFIX = 'telemetry_sidecar_';

/** Guard operation results per op: closed sets, so the label stays bounded and every series starts at 0. */
export const GUARD_OP_RESULTS = {
  /**
   * created: a new worker was made for the guard; reused: an open worker was
   * reused and the guard newly counted; noop: a retried or empty-guard request
   * that changed no count; error: refused (bad argument, worker limit, shutting down).
   */
  activate: ['created', 'reused', 'noop', 'error'],
  /**
   * released: the guard's reference was dropped, the worker stays open;
   * closed: the last reference was dropped and the worker closed; noop: a
   * guard not held (never activated, or already released); not_found: no worker for the key.
   */
  release: ['released', 'closed', 'noop', 'not_found'],
} as const;

export type GuardOp = keyof typeof GUARD_OP_RESULTS;
export type GuardOpResult = (typeof GUARD_OP_RESULTS)[GuardOp][number];

export const TRACK_STAT_RESULTS = ['accepted', 'invalid', 'no_worker'] as const;
export const UPSTREAM_RESULTS = ['delivered', 'retried', 'dropped'] as const;
export type UpstreamResult = (typeof UPSTREAM_RESULTS)[number];

/** Flushes range from microseconds (idle) to seconds (100k pending tracks, sliced). */
const FLUSH_DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export interface StateProviders {
  workers: () => RegistryCounts;
  sessions: () => number;
  queuedStats: () => number;
}

export class PipelineMetrics {
  readonly providers: StateProviders = {
    workers: () => ({ active: 0, closing: 0, connected: 0, guards: 0 }),
    sessions: () => 0,
    queuedStats: () => 0,
  };

  private readonly guardOps: Counter<'op' | 'result'>;
  private readonly trackStatsTotal: Counter<'result'>;
  private readonly flushDuration: Histogram;
  private readonly statsEmitted: Counter;
  private readonly upstreamStatsTotal: Counter<'result'>;
  private readonly statsDroppedTotal: Counter<'reason'>;
  private readonly workersReaped: Counter;
  private readonly leasesExpired: Counter;

  constructor(registry: Registry) {
    const registers = [registry];
    const p = this.providers;
    // State gauges are set from the providers at scrape time, never incremented.
    const workers: Gauge<'state'> = new Gauge({
      name: `${PREFIX}workers`,
      help: 'Workers held: active (open) and closing (closed, lingering close_wait for late stats).',
      labelNames: ['state'],
      registers,
      collect: () => {
        const c = p.workers();
        workers.set({ state: 'active' }, c.active);
        workers.set({ state: 'closing' }, c.closing);
      },
    });
    const gauge = (name: string, help: string, read: () => number): void => {
      const g: Gauge = new Gauge({ name: `${PREFIX}${name}`, help, registers, collect: () => g.set(read()) });
    };
    gauge('workers_connected', 'Open workers whose participant is connected.', () => p.workers().connected);
    gauge('guards_active', 'Guard references held across all workers.', () => p.workers().guards);
    gauge('sessions', 'Open Session streams.', () => p.sessions());
    gauge('upstream_queue_stats', 'Emitted stats queued for upstream delivery.', () => p.queuedStats());

    this.guardOps = new Counter({
      name: `${PREFIX}guard_ops_total`,
      help: 'Guard operations (Activate/Release, unary or Session) by outcome.',
      labelNames: ['op', 'result'],
      registers,
    });
    this.trackStatsTotal = new Counter({
      name: `${PREFIX}track_stats_total`,
      help: 'Track stats received, partitioned as TrackStatsResponse: accepted, invalid, no_worker.',
      labelNames: ['result'],
      registers,
    });
    this.flushDuration = new Histogram({
      name: `${PREFIX}flush_duration_seconds`,
      help: 'Wall time of one flush of every scheduled worker.',
      buckets: FLUSH_DURATION_BUCKETS,
      registers,
    });
    this.statsEmitted = new Counter({
      name: `${PREFIX}stats_emitted_total`,
      help: 'Coalesced stats emitted by flushes (one per track and direction that received stats).',
      registers,
    });
    this.upstreamStatsTotal = new Counter({
      name: `${PREFIX}upstream_stats_total`,
      help: 'Emitted stats by delivery attempt outcome: delivered (acked), retried, dropped.',
      labelNames: ['result'],
      registers,
    });
    this.statsDroppedTotal = new Counter({
      name: `${PREFIX}stats_dropped_total`,
      help: 'Stats lost or refused, by reason (docs/metrics.md lists every reason).',
      labelNames: ['reason'],
      registers,
    });
    this.workersReaped = new Counter({
      name: `${PREFIX}workers_reaped_total`,
      help: 'Closed workers removed after close_wait.',
      registers,
    });
    this.leasesExpired = new Counter({
      name: `${PREFIX}leases_expired_total`,
      help: 'Guards released because their Session stream ended and lease_grace passed without adoption.',
      registers,
    });

    for (const [op, results] of Object.entries(GUARD_OP_RESULTS)) {
      for (const result of results) this.guardOps.inc({ op, result }, 0);
    }
    for (const result of TRACK_STAT_RESULTS) this.trackStatsTotal.inc({ result }, 0);
    for (const result of UPSTREAM_RESULTS) this.upstreamStatsTotal.inc({ result }, 0);
    for (const reason of Object.keys(DROP_REASONS)) this.statsDroppedTotal.inc({ reason }, 0);
  }

  guardOp(op: GuardOp, result: GuardOpResult): void {
    this.guardOps.inc({ op, result });
  }

  trackStats(outcome: { readonly accepted: number; readonly invalid: number; readonly noWorker: number }): void {
    if (outcome.accepted > 0) this.trackStatsTotal.inc({ result: 'accepted' }, outcome.accepted);
    if (outcome.invalid > 0) this.trackStatsTotal.inc({ result: 'invalid' }, outcome.invalid);
    if (outcome.noWorker > 0) this.trackStatsTotal.inc({ result: 'no_worker' }, outcome.noWorker);
  }

  observeFlush(seconds: number, emitted: number, reaped: number): void {
    this.flushDuration.observe(seconds);
    if (emitted > 0) this.statsEmitted.inc(emitted);
    if (reaped > 0) this.workersReaped.inc(reaped);
  }

  upstreamStats(result: UpstreamResult, n: number): void {
    if (n > 0) this.upstreamStatsTotal.inc({ result }, n);
  }

  statsDropped(reason: DropReason, n: number): void {
    if (n > 0) this.statsDroppedTotal.inc({ reason }, n);
  }

  leasesExpiredBy(guards: number): void {
    if (guards > 0) this.leasesExpired.inc(guards);
  }
}
