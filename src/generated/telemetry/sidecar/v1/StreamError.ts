// Original file: proto/telemetry/sidecar/v1/sidecar.proto


export interface StreamError {
  'code'?: (number);
  'message'?: (string);
}

export interface StreamError__Output {
  'code': (number);
  'message': (string);
}
