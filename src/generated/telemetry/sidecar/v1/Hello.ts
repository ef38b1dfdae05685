// Original file: proto/telemetry/sidecar/v1/sidecar.proto


export interface Hello {
  'clientId'?: (string);
}

export interface Hello__Output {
  'clientId': (string);
}
