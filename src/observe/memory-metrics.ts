/**
 * The memory guard's gauges (docs/memory.md): its state, the share of new
 * stats it refuses, its signal and its limit, read at scrape time.
 */
import { Gauge, type Registry } from 'prom-client';

const PREFIX = 'telemetry_sidecar_';

/** What the guard reports (src/service/memory-guard.ts `status()`); observe reads it, never the guard itself. */
export interface MemoryGauges {
  state: 'normal' | 'shedding';
  /** V8 heap used plus external memory at the last sample, in bytes. */
  heldBytes: number;
  /** Share of new TrackStats requests refused now, 0 to 1. */
  refuseShare: number;
  limitBytes: number;
}

export class MemoryMetrics {
  provider: () => MemoryGauges = () => ({ state: 'normal', heldBytes: 0, refuseShare: 0, limitBytes: 0 });

  constructor(registry: Registry) {
    const gauge = (name: string, help: string, read: (m: MemoryGauges) => number): void => {
      const g: Gauge = new Gauge({
        name: `${PREFIX}${name}`,
        help,
        registers: [registry],
        collect: () => g.set(read(this.provider())),
      });
    };
    gauge(
      'memory_shedding',
      'Memory guard state: 1 while it sheds load (oldest queued batches, then a share of new stats), else 0.',
      (m) => (m.state === 'shedding' ? 1 : 0),
    );
    gauge(
      'memory_refused_ratio',
      'Share of new TrackStats requests the memory guard refuses now (0 to 1).',
      (m) => m.refuseShare,
    );
    gauge(
      'memory_held_bytes',
      "The memory guard's signal: V8 heap used plus external memory, at its last sample.",
      (m) => m.heldBytes,
    );
    gauge(
      'memory_limit_bytes',
      'The memory guard limit (SIDECAR_MEMORY_LIMIT_MB): shedding starts at 85% of it, every new stat is refused at 100%.',
      (m) => m.limitBytes,
    );
  }
}
