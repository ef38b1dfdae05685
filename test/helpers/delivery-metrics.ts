/** A DeliveryMetrics that records what delivery reports: counts by result and `dropped:<reason>`, and the up/down transitions. */
import type { DeliveryMetrics } from '../../src/upstream/delivery.js';

export function recordingDeliveryMetrics() {
  const counts: Record<string, number> = {};
  const add = (key: string, n: number) => void (counts[key] = (counts[key] ?? 0) + n);
  const up: boolean[] = [];
  const metrics: DeliveryMetrics = {
    upstreamStats: (result, n) => add(result, n),
    statsDropped: (reason, n) => add(`dropped:${reason}`, n),
    upstreamUp: (value) => void up.push(value),
    spoolWriteError: () => add('spool_write_errors', 1),
    spoolUnreadableRecords: (n) => add('spool_unreadable', n),
  };
  return { counts, metrics, up };
}
