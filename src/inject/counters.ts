/**
 * How many reviews ended which way, by reason. Plain counters so the webhook
 * needs no metrics library; `render()` gives the Prometheus text the webhook
 * serves on /metrics, and the lead's metrics module can read `snapshot()`.
 */

/** injected: patched; skipped: nothing to do; failed: wanted the sidecar but admitted unchanged; malformed: no review answered. */
export type ReviewResult = 'injected' | 'skipped' | 'failed' | 'malformed';

export interface CounterSample {
  result: ReviewResult;
  reason: string;
  count: number;
}

export const REVIEWS_METRIC = 'telemetry_sidecar_inject_reviews_total';

export class InjectCounters {
  private readonly counts = new Map<string, CounterSample>();

  /** `reason` is a small fixed vocabulary (label cardinality); details belong in the log line. */
  add(result: ReviewResult, reason: string): void {
    const key = `${result}\u0000${reason}`;
    const sample = this.counts.get(key);
    if (sample) sample.count += 1;
    else this.counts.set(key, { result, reason, count: 1 });
  }

  get(result: ReviewResult, reason: string): number {
    return this.counts.get(`${result}\u0000${reason}`)?.count ?? 0;
  }

  snapshot(): CounterSample[] {
    return [...this.counts.values()].map((s) => ({ ...s }));
  }

  render(): string {
    const lines = [
      `# HELP ${REVIEWS_METRIC} Admission reviews answered by the injection webhook, by result and reason.`,
      `# TYPE ${REVIEWS_METRIC} counter`,
    ];
    for (const s of this.counts.values()) {
      lines.push(`${REVIEWS_METRIC}{result="${s.result}",reason="${s.reason}"} ${s.count}`);
    }
    return `${lines.join('\n')}\n`;
  }
}
