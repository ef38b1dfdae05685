/**
 * The webhook's /metrics: how many reviews ended which way, by reason, plus
 * prom-client's process and Node.js metrics, on its own registry.
 */
import { collectDefaultMetrics, Counter, Registry } from 'prom-client';
import { Expositor, type Exposition } from '../observe/exposition.js';
import { registerLogDrops } from '../observe/log-output.js';

/** injected: patched; skipped: nothing to do; failed: wanted the sidecar but admitted unchanged; malformed: no review answered. */
export type ReviewResult = 'injected' | 'skipped' | 'failed' | 'malformed';

export const REVIEWS_METRIC = 'telemetry_sidecar_inject_reviews_total';

export class InjectMetrics {
  readonly registry = new Registry();
  private readonly reviews: Counter<'result' | 'reason'>;
  private readonly expositor = new Expositor(this.registry);

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    this.reviews = new Counter({
      name: REVIEWS_METRIC,
      help: 'Admission reviews answered by the injection webhook, by result and reason.',
      labelNames: ['result', 'reason'],
      registers: [this.registry],
    });
    registerLogDrops(this.registry);
  }

  /** `reason` is a small fixed vocabulary (label cardinality); details belong in the log line. */
  add(result: ReviewResult, reason: string): void {
    this.reviews.inc({ result, reason });
  }

  async count(result: ReviewResult, reason: string): Promise<number> {
    const { values } = await this.reviews.get();
    return values.find((v) => v.labels.result === result && v.labels.reason === reason)?.value ?? 0;
  }

  metricsText(accept?: string): Promise<Exposition> {
    return this.expositor.render(accept);
  }
}
