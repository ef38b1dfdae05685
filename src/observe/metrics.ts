/**
 * Every Prometheus metric of the sidecar (SPEC §8), on our own registry:
 * names, label values and bucket choices live here and nowhere else.
 *
 * Gauges that mirror state (workers, guards, sessions, queue) are read from
 * providers at scrape time, so they can never drift from the registry. The
 * LiveKit-style traffic metrics are fed once per received stat on the ingest
 * hot path, so they accumulate in plain numbers and are published at scrape.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics, type Metric } from 'prom-client';
import { StreamType } from '../core/analytics.js';
import type { RegistryCounts, TrackStatInput } from '../core/registry.js';
import { isValid } from '../core/validity.js';

const PREFIX = 'telemetry_sidecar_';

/** Results of a guard operation, a closed set so the label stays bounded. */
export type GuardOpResult =
  /** activate: a new worker was created for the guard */
  | 'created'
  /** activate: an open worker was reused and the guard newly counted */
  | 'reused'
  /** release: the guard's reference was dropped, the worker stays open */
  | 'released'
  /** release: the last reference was dropped and the worker closed */
  | 'closed'
  /** a retried or empty-guard request that changed no reference count */
  | 'noop'
  /** release: no worker for the key */
  | 'not_found'
  /** refused (bad argument, worker limit, shutting down) */
  | 'error';

export type UpstreamResult = 'delivered' | 'retried' | 'dropped';

/** LiveKit's direction values (`pkg/telemetry/prometheus/packets.go`): UPSTREAM is incoming to the SFU. */
type Direction = 'incoming' | 'outgoing';
type TrafficLabels = { direction: Direction; country: string };

/** Flushes range from microseconds (idle) to seconds (100k pending tracks, sliced). */
const FLUSH_DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** LiveKit's livekit_rtt_ms buckets (50 ms .. 10 s), in seconds. */
const RTT_BUCKETS = [0.05, 0.1, 0.15, 0.2, 0.25, 0.5, 0.75, 1, 5, 10];
/** LiveKit's livekit_jitter_us buckets (1 ms .. 1 s), in seconds. */
const JITTER_BUCKETS = [0.001, 0.01, 0.03, 0.05, 0.07, 0.1, 0.3, 0.6, 1];

/** Country label for stats without one, and for anything that is not a 2-letter code. */
const NO_COUNTRY = '';
const OTHER_COUNTRY = 'other';

export interface SidecarMetricsOptions {
  /** Register prom-client's process and Node.js metrics (event-loop lag, RSS, GC, ...); default true. */
  defaultMetrics?: boolean;
}

export class SidecarMetrics {
  readonly registry = new Registry();

  private workerCounts: () => RegistryCounts = () => ({ active: 0, closing: 0, connected: 0, guards: 0 });
  private sessionCount: () => number = () => 0;
  private queueDepth: () => number = () => 0;

  private readonly guardOps: Counter<'op' | 'result'>;
  private readonly trackStatsTotal: Counter<'result'>;
  private readonly flushDuration: Histogram;
  private readonly statsEmitted: Counter;
  private readonly upstreamStatsTotal: Counter<'result'>;
  private readonly statsDroppedTotal: Counter<'reason'>;
  private readonly workersReaped: Counter;
  private readonly leasesExpired: Counter;
  private nats: { connected: Gauge; duplicates: Counter } | undefined;

  /** One accumulator per (direction, normalised country); bounded by normaliseCountry. */
  private readonly traffic = { incoming: new Map<string, TrafficCell>(), outgoing: new Map<string, TrafficCell>() };
  /** Scrapes run one at a time: an OpenMetrics render renames counters while it runs (see render). */
  private rendering: Promise<unknown> = Promise.resolve();

  constructor(opts: SidecarMetricsOptions = {}) {
    const registers = [this.registry];
    if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });

    // State gauges are set from the providers at scrape time, never incremented.
    const workers: Gauge<'state'> = new Gauge({
      name: `${PREFIX}workers`,
      help: 'Workers held: active (open) and closing (closed, lingering close_wait for late stats).',
      labelNames: ['state'],
      registers,
      collect: () => {
        const c = this.workerCounts();
        workers.set({ state: 'active' }, c.active);
        workers.set({ state: 'closing' }, c.closing);
      },
    });
    const gauge = (name: string, help: string, read: () => number): void => {
      const g: Gauge = new Gauge({ name: `${PREFIX}${name}`, help, registers, collect: () => g.set(read()) });
    };
    gauge('workers_connected', 'Open workers whose participant is connected.', () => this.workerCounts().connected);
    gauge('guards_active', 'Guard references held across all workers.', () => this.workerCounts().guards);
    gauge('sessions', 'Open Session streams.', () => this.sessionCount());
    gauge('upstream_queue_stats', 'Emitted stats queued for upstream delivery.', () => this.queueDepth());

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
      help: 'Stats lost or refused, by reason.',
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

    // Zeroed up front so rate() sees every series from the first scrape.
    for (const result of ['accepted', 'invalid', 'no_worker']) this.trackStatsTotal.inc({ result }, 0);
    for (const result of ['delivered', 'retried', 'dropped']) this.upstreamStatsTotal.inc({ result }, 0);

    this.registerTraffic(registers);
  }

  /** Worker, connected and guard gauges read `provider` at every scrape (it must be cheap). */
  bindWorkers(provider: () => RegistryCounts): void {
    this.workerCounts = provider;
  }

  bindSessions(provider: () => number): void {
    this.sessionCount = provider;
  }

  /** `telemetry_sidecar_upstream_queue_stats` reads `provider` at every scrape. */
  bindQueue(provider: () => number): void {
    this.queueDepth = provider;
  }

  guardOp(op: 'activate' | 'release', result: GuardOpResult): void {
    this.guardOps.inc({ op, result });
  }

  /** Counts one TrackStats batch; a RecordOutcome fits as is. */
  trackStats(outcome: { readonly accepted: number; readonly invalid: number; readonly noWorker: number }): void {
    if (outcome.accepted > 0) this.trackStatsTotal.inc({ result: 'accepted' }, outcome.accepted);
    if (outcome.invalid > 0) this.trackStatsTotal.inc({ result: 'invalid' }, outcome.invalid);
    if (outcome.noWorker > 0) this.trackStatsTotal.inc({ result: 'no_worker' }, outcome.noWorker);
  }

  /** One completed flush: its duration in seconds, stats emitted and workers reaped. */
  observeFlush(seconds: number, emitted: number, reaped: number): void {
    this.flushDuration.observe(seconds);
    if (emitted > 0) this.statsEmitted.inc(emitted);
    if (reaped > 0) this.workersReaped.inc(reaped);
  }

  upstreamStats(result: UpstreamResult, n: number): void {
    if (n > 0) this.upstreamStatsTotal.inc({ result }, n);
  }

  /** `reason` must come from a fixed set in code (e.g. `queue_full`, `memory_limit`), never from input. */
  statsDropped(reason: string, n: number): void {
    if (n > 0) this.statsDroppedTotal.inc({ reason }, n);
  }

  leaseExpired(n: number): void {
    if (n > 0) this.leasesExpired.inc(n);
  }

  /** The NATS upstream's connection (docs/jetstream.md); the series exists only with a NATS upstream. */
  natsConnected(connected: boolean): void {
    this.nats ??= this.registerNats();
    this.nats.connected.set(connected ? 1 : 0);
  }

  /** JetStream PubAcks marked duplicate: the stream already held the message, so it was stored once. */
  natsDuplicates(n: number): void {
    this.nats ??= this.registerNats();
    if (n > 0) this.nats.duplicates.inc(n);
  }

  private registerNats(): { connected: Gauge; duplicates: Counter } {
    const registers = [this.registry];
    return {
      connected: new Gauge({
        name: `${PREFIX}nats_connected`,
        help: '1 while the NATS upstream connection is up, 0 while connecting or reconnecting.',
        registers,
      }),
      duplicates: new Counter({
        name: `${PREFIX}nats_duplicates_total`,
        help: 'JetStream PubAcks marked duplicate: a re-sent batch the stream already held (stored once, counted delivered).',
        registers,
      }),
    };
  }

  /**
   * Feeds the traffic metrics from one received stat, as LiveKit's
   * telemetryService.TrackStats does. Invalid stats (core isValid) are skipped.
   * `country` is the TrackStat's optional country: a 2-letter code (any case)
   * becomes upper case, empty stays empty, anything else is `other`.
   */
  observeTraffic(input: Pick<TrackStatInput, 'kind' | 'stat'>, country: string): void {
    const stat = input.stat;
    if (stat.streams.length === 0 || !isValid(stat)) return;
    const outgoing = input.kind === StreamType.DOWNSTREAM;
    const cells = outgoing ? this.traffic.outgoing : this.traffic.incoming;
    const key = normaliseCountry(country);
    let cell = cells.get(key);
    if (!cell) {
      cell = new TrafficCell({ direction: outgoing ? 'outgoing' : 'incoming', country: key });
      cells.set(key, cell);
    }
    for (const s of stat.streams) {
      cell.nacks += s.nacks;
      cell.plis += s.plis;
      cell.firs += s.firs;
      cell.packetsLost += s.packetsLost;
      cell.packetsOutOfOrder += s.packetsOutOfOrder;
      cell.packets += s.primaryPackets + s.paddingPackets;
      cell.bytes += s.primaryBytes + s.paddingBytes;
      if (outgoing) {
        cell.retransmitPackets += s.retransmitPackets;
        cell.retransmitBytes += s.retransmitBytes;
      } else {
        // as LiveKit: upstream retransmits are not accounted separately
        cell.packets += s.retransmitPackets;
        cell.bytes += s.retransmitBytes;
      }
      // rtt is in milliseconds and jitter in microseconds on the wire (LiveKit's livekit_rtt_ms, livekit_jitter_us)
      if (s.rtt > 0) cell.rtt.observe(s.rtt / 1e3);
      if (s.jitter > 0) cell.jitter.observe(s.jitter / 1e6);
    }
  }

  /**
   * The scrape body: OpenMetrics 1.0 when `accept` (an HTTP Accept header)
   * prefers `application/openmetrics-text`, else Prometheus text 0.0.4.
   */
  async metricsText(accept?: string): Promise<{ contentType: string; body: string }> {
    const run = this.rendering.then(() => this.render(prefersOpenMetrics(accept)));
    this.rendering = run.catch(() => undefined);
    return run;
  }

  private async render(openMetrics: boolean): Promise<{ contentType: string; body: string }> {
    if (!openMetrics) return { contentType: Registry.PROMETHEUS_CONTENT_TYPE, body: await this.registry.metrics() };
    // prom-client strips `_total` from counter names in place for OpenMetrics and
    // never puts it back; restore the names so the next text scrape keeps them.
    const metrics = this.registry.getMetricsAsArray();
    const names = metrics.map((m) => m.name);
    const openRegistry = this.registry as unknown as Registry<typeof Registry.OPENMETRICS_CONTENT_TYPE>;
    openRegistry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
    try {
      return { contentType: Registry.OPENMETRICS_CONTENT_TYPE, body: await this.registry.metrics() };
    } finally {
      this.registry.setContentType(Registry.PROMETHEUS_CONTENT_TYPE);
      metrics.forEach((m, i) => (m.name = names[i] ?? m.name));
    }
  }

  private registerTraffic(registers: Registry[]): void {
    const cells = (): IterableIterator<TrafficCell> => iterate(this.traffic.incoming, this.traffic.outgoing);
    // Counters are published from the cells at scrape: prom-client has no Counter.set, so reset and add each total.
    const counter = (name: string, help: string, value: (c: TrafficCell) => number): void => {
      new Counter({
        name: `${PREFIX}${name}`,
        help,
        labelNames: ['direction', 'country'],
        registers,
        collect() {
          this.reset();
          for (const c of cells()) this.inc(c.labels, value(c));
        },
      });
    };
    // LiveKit's livekit_packet_total / livekit_packet_bytes, with its `transmission` label
    const perTransmission = (
      name: string,
      help: string,
      initial: (c: TrafficCell) => number,
      retransmit: (c: TrafficCell) => number,
    ): void => {
      new Counter({
        name: `${PREFIX}${name}`,
        help,
        labelNames: ['direction', 'transmission', 'country'],
        registers,
        collect() {
          this.reset();
          for (const c of cells()) {
            this.inc({ ...c.labels, transmission: 'initial' }, initial(c));
            if (c.labels.direction === 'outgoing') this.inc({ ...c.labels, transmission: 'retransmit' }, retransmit(c));
          }
        },
      });
    };
    perTransmission(
      'packets_total',
      'RTP packets in received stats: primary+padding as initial; outgoing retransmits separately (incoming ones count as initial, as LiveKit).',
      (c) => c.packets,
      (c) => c.retransmitPackets,
    );
    perTransmission(
      'packet_bytes_total',
      'RTP bytes in received stats, split like telemetry_sidecar_packets_total.',
      (c) => c.bytes,
      (c) => c.retransmitBytes,
    );
    counter('nacks_total', 'NACKs in received stats.', (c) => c.nacks);
    counter('plis_total', 'PLIs in received stats.', (c) => c.plis);
    counter('firs_total', 'FIRs in received stats.', (c) => c.firs);
    counter('packets_lost_total', 'Packets lost in received stats.', (c) => c.packetsLost);
    counter('packets_out_of_order_total', 'Packets out of order in received stats.', (c) => c.packetsOutOfOrder);
    registerCellHistogram(this.registry, {
      name: `${PREFIX}rtt_seconds`,
      help: 'Round-trip time per stream of each received stat with a nonzero rtt.',
      buckets: RTT_BUCKETS,
      cells,
      pick: (c) => c.rtt,
    });
    registerCellHistogram(this.registry, {
      name: `${PREFIX}jitter_seconds`,
      help: 'Jitter per stream of each received stat with a nonzero jitter.',
      buckets: JITTER_BUCKETS,
      cells,
      pick: (c) => c.jitter,
    });
  }
}

/** Traffic totals of one (direction, country); plain numbers because this is fed per stat. */
class TrafficCell {
  packets = 0;
  bytes = 0;
  retransmitPackets = 0;
  retransmitBytes = 0;
  nacks = 0;
  plis = 0;
  firs = 0;
  packetsLost = 0;
  packetsOutOfOrder = 0;
  readonly rtt = new BucketCounts(RTT_BUCKETS);
  readonly jitter = new BucketCounts(JITTER_BUCKETS);

  constructor(readonly labels: TrafficLabels) {}
}

/** A histogram's state without labels: per-bucket (non-cumulative) counts, sum and count. */
class BucketCounts {
  /** One slot per upper bound plus one for +Inf. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(private readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    let i = 0;
    while (i < this.bounds.length && value > (this.bounds[i] as number)) i++;
    this.counts[i]!++;
    this.sum += value;
    this.count++;
  }
}

/**
 * A histogram read from the traffic cells at scrape time. prom-client's own
 * Histogram costs ~0.4 µs per observe (label hashing); this costs a few ns.
 * It implements what the Registry reads (name, help, type, get, reset).
 */
function registerCellHistogram(
  registry: Registry,
  spec: {
    name: string;
    help: string;
    buckets: readonly number[];
    cells: () => IterableIterator<TrafficCell>;
    pick: (c: TrafficCell) => BucketCounts;
  },
): void {
  const bucketName = `${spec.name}_bucket`;
  const collector = {
    name: spec.name,
    help: spec.help,
    type: 'histogram',
    aggregator: 'sum',
    reset(): void {},
    async get() {
      const values: { value: number; labels: Record<string, string | number>; metricName: string }[] = [];
      for (const cell of spec.cells()) {
        const h = spec.pick(cell);
        let cumulative = 0;
        spec.buckets.forEach((le, i) => {
          cumulative += h.counts[i] ?? 0;
          values.push({ value: cumulative, labels: { ...cell.labels, le }, metricName: bucketName });
        });
        values.push({ value: h.count, labels: { ...cell.labels, le: '+Inf' }, metricName: bucketName });
        values.push({ value: h.sum, labels: { ...cell.labels }, metricName: `${spec.name}_sum` });
        values.push({ value: h.count, labels: { ...cell.labels }, metricName: `${spec.name}_count` });
      }
      return { name: spec.name, help: spec.help, type: 'histogram', aggregator: 'sum', values };
    },
  };
  // The Registry only reads the fields above; its type admits prom-client's own classes only.
  registry.registerMetric(collector as unknown as Metric);
}

function* iterate<V>(...maps: Map<string, V>[]): IterableIterator<V> {
  for (const m of maps) yield* m.values();
}

/** Keeps the `country` label bounded: '' or one of 26*26 upper-case pairs or `other`. */
export function normaliseCountry(country: string): string {
  if (country.length === 0) return NO_COUNTRY;
  if (country.length !== 2 || !isAsciiLetter(country.charCodeAt(0)) || !isAsciiLetter(country.charCodeAt(1))) {
    return OTHER_COUNTRY;
  }
  return country.toUpperCase();
}

function isAsciiLetter(code: number): boolean {
  const upper = code & ~0x20; // fold a-z onto A-Z
  return upper >= 0x41 && upper <= 0x5a;
}

/**
 * True when the Accept header ranks `application/openmetrics-text` at least as
 * high as any Prometheus text alternative (Prometheus sends it first with q=1).
 */
export function prefersOpenMetrics(accept: string | undefined): boolean {
  if (!accept) return false;
  let openQ = 0;
  let textQ = 0;
  for (const part of accept.split(',')) {
    const [type = '', ...params] = part.split(';').map((p) => p.trim().toLowerCase());
    let q = 1;
    for (const p of params) {
      if (p.startsWith('q=')) q = Number(p.slice(2));
    }
    if (!(q > 0)) continue;
    if (type === 'application/openmetrics-text') openQ = Math.max(openQ, q);
    else if (type === 'text/plain' || type === '*/*' || type === 'text/*') textQ = Math.max(textQ, q);
  }
  return openQ > 0 && openQ >= textQ;
}
