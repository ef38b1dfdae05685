/**
 * What one request may hold (docs/api.md, "Limits"). The decoder refuses a
 * request as soon as it passes one of these, so a hostile message costs a
 * bounded read and a bounded allocation whatever its size, and what is
 * decoded stays proportional to what an SFU would really send.
 */
export interface RequestLimits {
  /** Largest request, in bytes. */
  readonly messageBytes: number;
  readonly statsPerRequest: number;
  readonly streamsPerStat: number;
  readonly layersPerStream: number;
  /**
   * Sub-messages decoded per request, of every kind (stats, streams, layers,
   * timestamps, and repeats of a singular one), so that many tiny ones cannot
   * multiply into a large heap.
   */
  readonly messagesPerRequest: number;
}

export const REQUEST_LIMITS: RequestLimits = Object.freeze({
  /** gRPC's customary default; a 100-stat request is 15–30 KB. */
  messageBytes: 4 * 1024 * 1024,
  /** An SFU sends about 100 per request. */
  statsPerRequest: 5_000,
  /** LiveKit sends one stream per stat. */
  streamsPerStat: 16,
  /** LiveKit simulcasts at most three spatial layers. */
  layersPerStream: 16,
  /** A 100-stat request of video tracks has about 900 (stat, AnalyticsStat, stream, two timestamps, four layers each). */
  messagesPerRequest: 50_000,
});
