// Original file: proto/telemetry/sidecar/v1/sidecar.proto


export interface ActivateResponse {
  /**
   * an open worker already existed and was reused
   */
  'found'?: (boolean);
  'refCount'?: (number);
  'connected'?: (boolean);
}

export interface ActivateResponse__Output {
  /**
   * an open worker already existed and was reused
   */
  'found': (boolean);
  'refCount': (number);
  'connected': (boolean);
}
