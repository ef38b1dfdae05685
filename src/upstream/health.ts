/**
 * Up/failing state of something retried (the upstream, spool writes), logged
 * once per transition rather than once per attempt: a warning when it starts
 * failing, an info line with the failure count and duration when it recovers.
 */
import type { Logger } from 'pino';

export class Health {
  private failingSince: number | undefined;
  private failures = 0;

  constructor(
    private readonly logger: Logger,
    /** `upstream`, `spool writes`: starts the log messages. */
    private readonly subject: string,
    private readonly fields: object,
    private readonly changed: (up: boolean) => void = () => undefined,
    private readonly now: () => number = Date.now,
  ) {}

  get up(): boolean {
    return this.failingSince === undefined;
  }

  succeeded(): void {
    if (this.failingSince === undefined) return;
    this.logger.info(
      { ...this.fields, failures: this.failures, failingMs: this.now() - this.failingSince },
      `${this.subject} recovered`,
    );
    this.failingSince = undefined;
    this.failures = 0;
    this.changed(true);
  }

  failed(err: unknown, extra: object = {}): void {
    this.failures++;
    const error = err instanceof Error ? err.message : String(err);
    if (this.failingSince !== undefined) {
      this.logger.debug({ ...this.fields, ...extra, error, failures: this.failures }, `${this.subject} still failing`);
      return;
    }
    this.failingSince = this.now();
    this.logger.warn({ ...this.fields, ...extra, error }, `${this.subject} failing`);
    this.changed(false);
  }
}
