/**
 * The health of the way out (docs/metrics.md): whether the upstream is
 * answering, and the spool's write failures and unreadable records. The
 * counts of stats themselves (delivered, retried, dropped) are pipeline
 * families; these say why they move.
 */
import { Counter, Gauge, type Registry } from 'prom-client';

const PREFIX = 'telemetry_sidecar_';

export class DeliveryHealthMetrics {
  private readonly upstreamUpGauge: Gauge;
  private readonly spoolWriteErrors: Counter;
  private readonly spoolUnreadable: Counter;

  constructor(registry: Registry) {
    const registers = [registry];
    this.upstreamUpGauge = new Gauge({
      name: `${PREFIX}upstream_up`,
      help: 'Whether the last delivery attempt succeeded (1) or the upstream is failing and batches are retried (0).',
      registers,
    });
    this.upstreamUpGauge.set(1);
    this.spoolWriteErrors = new Counter({
      name: `${PREFIX}spool_write_errors_total`,
      help: 'Failed spool writes (disk full, I/O error); such a batch is held in memory only until a write succeeds.',
      registers,
    });
    this.spoolUnreadable = new Counter({
      name: `${PREFIX}spool_unreadable_records_total`,
      help: 'Spool records found at start whose stat count could not be recovered (deleted; their stats are unknown).',
      registers,
    });
  }

  upstreamUp(up: boolean): void {
    this.upstreamUpGauge.set(up ? 1 : 0);
  }

  spoolWriteError(): void {
    this.spoolWriteErrors.inc();
  }

  spoolUnreadableRecords(n: number): void {
    if (n > 0) this.spoolUnreadable.inc(n);
  }
}
