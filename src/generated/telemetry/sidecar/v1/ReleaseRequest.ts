// Original file: proto/telemetry/sidecar/v1/sidecar.proto


export interface ReleaseRequest {
  'roomId'?: (string);
  'participantId'?: (string);
  'guardId'?: (string);
}

export interface ReleaseRequest__Output {
  'roomId': (string);
  'participantId': (string);
  'guardId': (string);
}
