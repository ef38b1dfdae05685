/** Ack latencies of the load generator, kept with their ack times so a window (e.g. a flush) can be read out. */

export interface LatencySummary {
  count: number;
  /** in milliseconds */
  p50: number;
  /** in milliseconds */
  p99: number;
  /** in milliseconds */
  max: number;
}

const INITIAL_CAPACITY = 1024;

export class LatencyRecorder {
  private ackedAt = new Float64Array(INITIAL_CAPACITY);
  private latency = new Float64Array(INITIAL_CAPACITY);
  private size = 0;

  get count(): number {
    return this.size;
  }

  /** Both in milliseconds (performance.now() clock for `ackedAtMs`). */
  record(ackedAtMs: number, latencyMs: number): void {
    if (this.size === this.latency.length) {
      this.ackedAt = grow(this.ackedAt);
      this.latency = grow(this.latency);
    }
    this.ackedAt[this.size] = ackedAtMs;
    this.latency[this.size++] = latencyMs;
  }

  /** Latencies of acks received in [fromMs, toMs] (performance.now() clock); all of them by default. */
  summary(fromMs = -Infinity, toMs = Infinity): LatencySummary {
    const picked: number[] = [];
    for (let i = 0; i < this.size; i++) {
      const at = this.ackedAt[i]!;
      if (at >= fromMs && at <= toMs) picked.push(this.latency[i]!);
    }
    return summarise(picked);
  }
}

/** Nearest-rank percentiles, so p99 is a latency that was actually observed. */
export function summarise(values: number[]): LatencySummary {
  if (values.length === 0) return { count: 0, p50: 0, p99: 0, max: 0 };
  const sorted = Float64Array.from(values).sort();
  const rank = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
  return { count: sorted.length, p50: rank(50), p99: rank(99), max: sorted[sorted.length - 1]! };
}

function grow(a: Float64Array<ArrayBuffer>): Float64Array<ArrayBuffer> {
  const bigger = new Float64Array(a.length * 2);
  bigger.set(a);
  return bigger;
}
