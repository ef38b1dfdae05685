/**
 * The health of the way out (docs/metrics.md): whether the upstream is
 * answering, the spool's write failures and unreadable records, and the NATS
 * upstream's connection and de-duplicated re-sends. The
 * counts of stats themselves (delivered, retried, dropped) are pipeline
 * families; these say why they move.
 */
import { Counter, Gauge, type Registry } from 'prom-client';

const PREFIX = 'telemetry_sidecar_';

export class DeliveryHealthMetrics {
  private readonly upstreamUpGauge: Gauge;
  private readonly spoolWriteErrors: Counter;
  private readonly spoolUnreadable: Counter;
  /** Registered on first use: the series exist only with a NATS upstream. */
  private nats: { connected: Gauge; duplicates: Counter } | undefined;

  constructor(private readonly registry: Registry) {
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

  /** The NATS upstream's connection (docs/jetstream.md). */
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
}
