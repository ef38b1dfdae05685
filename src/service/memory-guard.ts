/**
 * Refuses new stats while RSS is above the limit, instead of letting the
 * kernel kill the pod. RSS is sampled on a timer: reading it per request
 * would cost more than the check is worth.
 */
import { SidecarError } from '../core/errors.js';

const SAMPLE_INTERVAL_MS = 1000;

export class MemoryGuard {
  private over = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly limitBytes: number | undefined,
    private readonly rss: () => number = () => process.memoryUsage.rss(),
  ) {}

  start(): void {
    if (this.limitBytes === undefined || this.timer) return;
    this.sample();
    this.timer = setInterval(() => this.sample(), SAMPLE_INTERVAL_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Throws UNAVAILABLE (retryable) while over the limit. */
  check(): void {
    if (this.over) {
      throw new SidecarError(
        'UNAVAILABLE',
        `memory limit reached (SIDECAR_MEMORY_LIMIT_MB=${Math.round((this.limitBytes ?? 0) / 2 ** 20)}): stats refused, retry later`,
        'memory_limit',
      );
    }
  }

  sample(): void {
    if (this.limitBytes !== undefined) this.over = this.rss() > this.limitBytes;
  }
}
