/** Delivery-time stamps: a unique `AS_` id per emitted stat (fixed before the first send, so retries keep it), node and analytics key. */
import type { AnalyticsStat } from '../core/analytics.js';
import { randomBase62 } from '../upstream/batch-id.js';

/** 12 random base-62 characters: 71 bits, so ids from different processes do not collide. */
const randomPrefix = (): string => randomBase62(12);

export class StatStamper {
  private counter = 0;
  private readonly prefix: string;

  constructor(
    private readonly nodeId: string,
    private readonly analyticsKey: string,
    prefix: string = randomPrefix(),
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
