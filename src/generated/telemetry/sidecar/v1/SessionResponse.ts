// Original file: proto/telemetry/sidecar/v1/sidecar.proto

import type { HelloResponse as _telemetry_sidecar_v1_HelloResponse, HelloResponse__Output as _telemetry_sidecar_v1_HelloResponse__Output } from '../../../telemetry/sidecar/v1/HelloResponse.js';
import type { ActivateResponse as _telemetry_sidecar_v1_ActivateResponse, ActivateResponse__Output as _telemetry_sidecar_v1_ActivateResponse__Output } from '../../../telemetry/sidecar/v1/ActivateResponse.js';
import type { ReleaseResponse as _telemetry_sidecar_v1_ReleaseResponse, ReleaseResponse__Output as _telemetry_sidecar_v1_ReleaseResponse__Output } from '../../../telemetry/sidecar/v1/ReleaseResponse.js';
import type { TrackStatsResponse as _telemetry_sidecar_v1_TrackStatsResponse, TrackStatsResponse__Output as _telemetry_sidecar_v1_TrackStatsResponse__Output } from '../../../telemetry/sidecar/v1/TrackStatsResponse.js';
import type { FlushResponse as _telemetry_sidecar_v1_FlushResponse, FlushResponse__Output as _telemetry_sidecar_v1_FlushResponse__Output } from '../../../telemetry/sidecar/v1/FlushResponse.js';
import type { StreamError as _telemetry_sidecar_v1_StreamError, StreamError__Output as _telemetry_sidecar_v1_StreamError__Output } from '../../../telemetry/sidecar/v1/StreamError.js';
import type { Long } from '@grpc/proto-loader';

export interface SessionResponse {
  'seq'?: (number | string | Long);
  'hello'?: (_telemetry_sidecar_v1_HelloResponse | null);
  'activate'?: (_telemetry_sidecar_v1_ActivateResponse | null);
  'release'?: (_telemetry_sidecar_v1_ReleaseResponse | null);
  'stats'?: (_telemetry_sidecar_v1_TrackStatsResponse | null);
  'flush'?: (_telemetry_sidecar_v1_FlushResponse | null);
  'error'?: (_telemetry_sidecar_v1_StreamError | null);
  'response'?: "hello"|"activate"|"release"|"stats"|"flush"|"error";
}

export interface SessionResponse__Output {
  'seq': (Long);
  'hello'?: (_telemetry_sidecar_v1_HelloResponse__Output | null);
  'activate'?: (_telemetry_sidecar_v1_ActivateResponse__Output | null);
  'release'?: (_telemetry_sidecar_v1_ReleaseResponse__Output | null);
  'stats'?: (_telemetry_sidecar_v1_TrackStatsResponse__Output | null);
  'flush'?: (_telemetry_sidecar_v1_FlushResponse__Output | null);
  'error'?: (_telemetry_sidecar_v1_StreamError__Output | null);
  'response'?: "hello"|"activate"|"release"|"stats"|"flush"|"error";
}
