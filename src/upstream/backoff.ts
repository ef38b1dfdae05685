/** Exponential backoff with full jitter between `initialMs` and a cap, as gRPC's connection backoff. */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly initialMs = 1000,
    private readonly maxMs = 30_000,
    private readonly random: () => number = Math.random,
  ) {}

  /** The next delay: initial·2^attempt capped, then jittered to ±50%. */
  next(): number {
    const base = Math.min(this.maxMs, this.initialMs * 2 ** this.attempt);
    this.attempt++;
    return Math.round(base * (0.5 + this.random()));
  }

  reset(): void {
    this.attempt = 0;
  }
}
