// Original file: proto/telemetry/sidecar/v1/sidecar.proto

import type { Hello as _telemetry_sidecar_v1_Hello, Hello__Output as _telemetry_sidecar_v1_Hello__Output } from '../../../telemetry/sidecar/v1/Hello.js';
import type { ActivateRequest as _telemetry_sidecar_v1_ActivateRequest, ActivateRequest__Output as _telemetry_sidecar_v1_ActivateRequest__Output } from '../../../telemetry/sidecar/v1/ActivateRequest.js';
import type { ReleaseRequest as _telemetry_sidecar_v1_ReleaseRequest, ReleaseRequest__Output as _telemetry_sidecar_v1_ReleaseRequest__Output } from '../../../telemetry/sidecar/v1/ReleaseRequest.js';
import type { TrackStatsRequest as _telemetry_sidecar_v1_TrackStatsRequest, TrackStatsRequest__Output as _telemetry_sidecar_v1_TrackStatsRequest__Output } from '../../../telemetry/sidecar/v1/TrackStatsRequest.js';
import type { FlushRequest as _telemetry_sidecar_v1_FlushRequest, FlushRequest__Output as _telemetry_sidecar_v1_FlushRequest__Output } from '../../../telemetry/sidecar/v1/FlushRequest.js';
import type { Long } from '@grpc/proto-loader';

export interface SessionRequest {
  /**
   * client-chosen, echoed in the matching response
   */
  'seq'?: (number | string | Long);
  'hello'?: (_telemetry_sidecar_v1_Hello | null);
  'activate'?: (_telemetry_sidecar_v1_ActivateRequest | null);
  'release'?: (_telemetry_sidecar_v1_ReleaseRequest | null);
  'stats'?: (_telemetry_sidecar_v1_TrackStatsRequest | null);
  'flush'?: (_telemetry_sidecar_v1_FlushRequest | null);
  'request'?: "hello"|"activate"|"release"|"stats"|"flush";
}

export interface SessionRequest__Output {
  /**
   * client-chosen, echoed in the matching response
   */
  'seq': (Long);
  'hello'?: (_telemetry_sidecar_v1_Hello__Output | null);
  'activate'?: (_telemetry_sidecar_v1_ActivateRequest__Output | null);
  'release'?: (_telemetry_sidecar_v1_ReleaseRequest__Output | null);
  'stats'?: (_telemetry_sidecar_v1_TrackStatsRequest__Output | null);
  'flush'?: (_telemetry_sidecar_v1_FlushRequest__Output | null);
  'request'?: "hello"|"activate"|"release"|"stats"|"flush";
}
