/**
 * Every Prometheus metric of the sidecar, on our own registry (docs/metrics.md).
 * Split by concern as LiveKit's pkg/telemetry/prometheus is: the sidecar's own
 * families (pipeline-metrics.ts), the LiveKit-style traffic metrics
 * (traffic-metrics.ts, with their cell histograms) and the scrape rendering
 * (exposition.ts). This facade is what the rest of the program holds.
 */
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { RegistryCounts, TrackStatInput } from '../core/registry.js';
import { DeliveryHealthMetrics } from './delivery-metrics.js';
import { registerLogDrops } from './log-output.js';
import type { DropReason } from './drop-reasons.js';
import { MemoryMetrics, type MemoryGauges } from './memory-metrics.js';
import { Expositor, type Exposition } from './exposition.js';
import { PipelineMetrics, type GuardOp, type GuardOpResult, type UpstreamResult } from './pipeline-metrics.js';
import { TrafficMetrics } from './traffic-metrics.js';

export { prefersOpenMetrics } from './exposition.js';
export { normaliseCountry } from './traffic-metrics.js';
export { DROP_REASONS, type DropReason } from './drop-reasons.js';
export { GUARD_OP_RESULTS, type GuardOpResult, type UpstreamResult } from './pipeline-metrics.js';

export interface SidecarMetricsOptions {
  /** Register prom-client's process and Node.js metrics (event-loop lag, RSS, GC, ...); default true. */
  defaultMetrics?: boolean;
}

export class SidecarMetrics {
  readonly registry = new Registry();
  private readonly pipeline: PipelineMetrics;
  private readonly traffic: TrafficMetrics;
  private readonly deliveryHealth: DeliveryHealthMetrics;
  private readonly memory: MemoryMetrics;
  private readonly expositor: Expositor;

  constructor(opts: SidecarMetricsOptions = {}) {
    if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    this.pipeline = new PipelineMetrics(this.registry);
    this.traffic = new TrafficMetrics(this.registry);
    this.deliveryHealth = new DeliveryHealthMetrics(this.registry);
    this.memory = new MemoryMetrics(this.registry);
    registerLogDrops(this.registry);
    this.expositor = new Expositor(this.registry);
  }

  /** Worker, connected and guard gauges read `provider` at every scrape (it must be cheap). */
  bindWorkers(provider: () => RegistryCounts): void {
    this.pipeline.providers.workers = provider;
  }

  bindSessions(provider: () => number): void {
    this.pipeline.providers.sessions = provider;
  }

  /** `telemetry_sidecar_upstream_queue_stats` reads `provider` at every scrape. */
  bindQueue(provider: () => number): void {
    this.pipeline.providers.queuedStats = provider;
  }

  /** The memory guard gauges read `provider` at every scrape. */
  bindMemory(provider: () => MemoryGauges): void {
    this.memory.provider = provider;
  }

  guardOp(op: GuardOp, result: GuardOpResult): void {
    this.pipeline.guardOp(op, result);
  }

  /** Counts one TrackStats batch; a RecordOutcome fits as is. */
  trackStats(outcome: { readonly accepted: number; readonly invalid: number; readonly noWorker: number }): void {
    this.pipeline.trackStats(outcome);
  }

  /** One completed flush: its duration in seconds, stats emitted and workers reaped. */
  observeFlush(seconds: number, emitted: number, reaped: number): void {
    this.pipeline.observeFlush(seconds, emitted, reaped);
  }

  upstreamStats(result: UpstreamResult, n: number): void {
    this.pipeline.upstreamStats(result, n);
  }

  /** `reason` is one of DROP_REASONS (drop-reasons.ts), never from input. */
  statsDropped(reason: DropReason, n: number): void {
    this.pipeline.statsDropped(reason, n);
  }

  /** Whether the last delivery attempt succeeded. */
  upstreamUp(up: boolean): void {
    this.deliveryHealth.upstreamUp(up);
  }

  spoolWriteError(): void {
    this.deliveryHealth.spoolWriteError();
  }

  spoolUnreadableRecords(n: number): void {
    this.deliveryHealth.spoolUnreadableRecords(n);
  }

  natsConnected(connected: boolean): void {
    this.deliveryHealth.natsConnected(connected);
  }

  natsDuplicates(n: number): void {
    this.deliveryHealth.natsDuplicates(n);
  }

  /** Guards released by lease expiry (not the clients that held them). */
  leaseExpired(guards: number): void {
    this.pipeline.leasesExpiredBy(guards);
  }

  /** Feeds the traffic metrics from one received stat (see TrafficMetrics.observe). */
  observeTraffic(input: Pick<TrackStatInput, 'kind' | 'stat'>, country: string, validated = false): void {
    this.traffic.observe(input, country, validated);
  }

  /**
   * The scrape body: OpenMetrics 1.0 when `accept` (an HTTP Accept header)
   * prefers `application/openmetrics-text`, else Prometheus text 0.0.4.
   */
  metricsText(accept?: string): Promise<Exposition> {
    return this.expositor.render(accept);
  }
}
