// Original file: proto/telemetry/sidecar/v1/sidecar.proto

import type { WorkerInfo as _telemetry_sidecar_v1_WorkerInfo, WorkerInfo__Output as _telemetry_sidecar_v1_WorkerInfo__Output } from '../../../telemetry/sidecar/v1/WorkerInfo.js';

export interface ListWorkersResponse {
  'workers'?: (_telemetry_sidecar_v1_WorkerInfo)[];
}

export interface ListWorkersResponse__Output {
  'workers': (_telemetry_sidecar_v1_WorkerInfo__Output)[];
}
