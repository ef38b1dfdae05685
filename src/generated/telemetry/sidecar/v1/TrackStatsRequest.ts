// Original file: proto/telemetry/sidecar/v1/sidecar.proto

import type { TrackStat as _telemetry_sidecar_v1_TrackStat, TrackStat__Output as _telemetry_sidecar_v1_TrackStat__Output } from '../../../telemetry/sidecar/v1/TrackStat.js';

export interface TrackStatsRequest {
  'stats'?: (_telemetry_sidecar_v1_TrackStat)[];
}

export interface TrackStatsRequest__Output {
  'stats': (_telemetry_sidecar_v1_TrackStat__Output)[];
}
