// Original file: proto/livekit_analytics.proto

import type { AnalyticsStat as _livekit_AnalyticsStat, AnalyticsStat__Output as _livekit_AnalyticsStat__Output } from '../livekit/AnalyticsStat.js';

export interface AnalyticsStats {
  'stats'?: (_livekit_AnalyticsStat)[];
}

export interface AnalyticsStats__Output {
  'stats': (_livekit_AnalyticsStat__Output)[];
}
