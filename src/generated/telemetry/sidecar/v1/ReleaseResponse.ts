// Original file: proto/telemetry/sidecar/v1/sidecar.proto


export interface ReleaseResponse {
  /**
   * this release dropped the last reference and closed the worker
   */
  'closed'?: (boolean);
  /**
   * a worker existed for the key
   */
  'found'?: (boolean);
  'wasConnected'?: (boolean);
  'refCount'?: (number);
}

export interface ReleaseResponse__Output {
  /**
   * this release dropped the last reference and closed the worker
   */
  'closed': (boolean);
  /**
   * a worker existed for the key
   */
  'found': (boolean);
  'wasConnected': (boolean);
  'refCount': (number);
}
