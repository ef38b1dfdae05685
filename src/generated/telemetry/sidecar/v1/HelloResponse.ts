// Original file: proto/telemetry/sidecar/v1/sidecar.proto


export interface HelloResponse {
  'adoptedGuards'?: (number);
}

export interface HelloResponse__Output {
  'adoptedGuards': (number);
}
