// Original file: proto/telemetry/sidecar/v1/sidecar.proto


export interface FlushResponse {
  'workersFlushed'?: (number);
  'statsEmitted'?: (number);
  'workersReaped'?: (number);
  /**
   * with wait_delivered: everything emitted by this flush was acked upstream
   */
  'delivered'?: (boolean);
}

export interface FlushResponse__Output {
  'workersFlushed': (number);
  'statsEmitted': (number);
  'workersReaped': (number);
  /**
   * with wait_delivered: everything emitted by this flush was acked upstream
   */
  'delivered': (boolean);
}
