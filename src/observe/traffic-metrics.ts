/**
 * LiveKit-style traffic metrics (as LiveKit's pkg/telemetry/prometheus
 * packets.go), fed once per received stat on the ingest hot path: they
 * accumulate in plain numbers per (direction, country) cell and are published at scrape.
 */
import { Counter, type Registry } from 'prom-client';
import { StreamType } from '../core/analytics.js';
import type { TrackStatInput } from '../core/registry.js';
import { isValid } from '../core/validity.js';
import { BucketCounts, CellHistogram } from './cell-histogram.js';

const PREFIX = 'telemetry_sidecar_';

/** LiveKit's livekit_rtt_ms buckets (50 ms .. 10 s), in seconds. */
const RTT_BUCKETS = [0.05, 0.1, 0.15, 0.2, 0.25, 0.5, 0.75, 1, 5, 10];
/** LiveKit's livekit_jitter_us buckets (1 ms .. 1 s), in seconds. */
const JITTER_BUCKETS = [0.001, 0.01, 0.03, 0.05, 0.07, 0.1, 0.3, 0.6, 1];

/** Country label for stats without one, and for anything that is not a 2-letter code. */
const NO_COUNTRY = '';
const OTHER_COUNTRY = 'other';

/** LiveKit's direction values (packets.go): UPSTREAM is incoming to the SFU. */
type Direction = 'incoming' | 'outgoing';
type TrafficLabels = { direction: Direction; country: string };

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

export class TrafficMetrics {
  /** One accumulator per (direction, normalised country); bounded by normaliseCountry. */
  private readonly cells = { incoming: new Map<string, TrafficCell>(), outgoing: new Map<string, TrafficCell>() };

  constructor(registry: Registry) {
    const registers = [registry];
    const cells = (): IterableIterator<TrafficCell> => this.all();
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
    const histogram = (
      name: string,
      help: string,
      buckets: readonly number[],
      pick: (c: TrafficCell) => BucketCounts,
    ) =>
      new CellHistogram(
        { name: `${PREFIX}${name}`, help, buckets, labelNames: ['direction', 'country'], registers },
        () => [...cells()].map((c) => ({ labels: c.labels, counts: pick(c) })),
      );
    histogram(
      'rtt_seconds',
      'Round-trip time per stream of each received stat with a nonzero rtt.',
      RTT_BUCKETS,
      (c) => c.rtt,
    );
    histogram(
      'jitter_seconds',
      'Jitter per stream of each received stat with a nonzero jitter.',
      JITTER_BUCKETS,
      (c) => c.jitter,
    );
  }

  /**
   * Feeds the traffic metrics from one received stat, as LiveKit's
   * telemetryService.TrackStats does. Invalid stats (core isValid) are skipped;
   * `validated` says the caller already checked (the ingest path's registry
   * does, and a second isValid per stat showed in ingest profiles).
   * `country` is the TrackStat's optional country: a 2-letter code (any case)
   * becomes upper case, empty stays empty, anything else is `other`.
   */
  observe(input: Pick<TrackStatInput, 'kind' | 'stat'>, country: string, validated = false): void {
    const stat = input.stat;
    if (stat.streams.length === 0 || (!validated && !isValid(stat))) return;
    const outgoing = input.kind === StreamType.DOWNSTREAM;
    const cells = outgoing ? this.cells.outgoing : this.cells.incoming;
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

  private *all(): IterableIterator<TrafficCell> {
    yield* this.cells.incoming.values();
    yield* this.cells.outgoing.values();
  }
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
