/** Delivery-time stamps: a unique `AS_` id per emitted stat (fixed before the first send, so retries keep it), node and analytics key. */
import type { AnalyticsStat } from '../core/analytics.js';

export class StatStamper {
  private counter = 0;
  private readonly prefix: string;

  constructor(
    private readonly nodeId: string,
    private readonly analyticsKey: string,
    /** Random per process (the composition root passes 12 base-62 characters: 71 bits), so ids of different processes do not collide. */
    prefix: string,
  ) {
    this.prefix = `AS_${prefix}`;
  }

  stamp(stats: readonly AnalyticsStat[]): void {
    for (const stat of stats) {
      stat.id = this.prefix + (this.counter++).toString(36);
      stat.node = this.nodeId;
      stat.analyticsKey = this.analyticsKey;
    }
  }
}
