/**
 * Histograms kept as plain per-bucket counts and published at scrape time.
 * prom-client's own Histogram costs ~0.4 µs per observe (label hashing); this
 * costs a few ns, which matters on the per-stat ingest path.
 */
import { Histogram, type Registry } from 'prom-client';

/** A histogram's state for one label set: per-bucket (non-cumulative) counts, sum and count. */
export class BucketCounts {
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
 * A prom-client Histogram whose series are read from `series()` at every
 * scrape instead of being observed through prom-client: a subclass, so the
 * Registry takes it as one of its own metric types (the collector that used
 * to be cast through `unknown` into a Metric).
 */
export class CellHistogram extends Histogram {
  constructor(
    private readonly spec: {
      name: string;
      help: string;
      buckets: readonly number[];
      labelNames: readonly string[];
      registers: Registry[];
    },
    private readonly series: () => Iterable<{ labels: Readonly<Record<string, string>>; counts: BucketCounts }>,
  ) {
    super({ ...spec, buckets: [...spec.buckets] });
  }

  /**
   * What the Registry renders (prom-client's Histogram.get() reads it too, so
   * JSON export works): the series computed from the cells, no cast needed.
   */
  async getForPromString(): Promise<{
    name: string;
    help: string;
    type: 'histogram';
    aggregator: 'sum';
    values: {
      value: number;
      labels: { le?: number | string };
      sharedLabels: Readonly<Record<string, string>>;
      metricName: string;
    }[];
  }> {
    const { name, help, buckets } = this.spec;
    const values = [];
    // prom-client's own shape: `le` in labels, the series' labels as sharedLabels
    for (const { labels: sharedLabels, counts } of this.series()) {
      let cumulative = 0;
      for (const [i, le] of buckets.entries()) {
        cumulative += counts.counts[i] ?? 0;
        values.push({ value: cumulative, labels: { le }, sharedLabels, metricName: `${name}_bucket` });
      }
      values.push({ value: counts.count, labels: { le: '+Inf' }, sharedLabels, metricName: `${name}_bucket` });
      values.push({ value: counts.sum, labels: {}, sharedLabels, metricName: `${name}_sum` });
      values.push({ value: counts.count, labels: {}, sharedLabels, metricName: `${name}_count` });
    }
    return { name, help, type: 'histogram', aggregator: 'sum', values };
  }
}
