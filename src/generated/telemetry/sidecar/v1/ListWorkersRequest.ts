// Original file: proto/telemetry/sidecar/v1/sidecar.proto


export interface ListWorkersRequest {
  'roomId'?: (string);
}

export interface ListWorkersRequest__Output {
  'roomId': (string);
}
