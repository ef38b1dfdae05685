// Original file: proto/telemetry/sidecar/v1/sidecar.proto


export interface FlushRequest {
  'waitDelivered'?: (boolean);
}

export interface FlushRequest__Output {
  'waitDelivered': (boolean);
}
