// Original file: proto/telemetry/sidecar/v1/sidecar.proto


export interface ActivateRequest {
  'roomId'?: (string);
  'roomName'?: (string);
  'participantId'?: (string);
  'participantIdentity'?: (string);
  /**
   * empty: create the worker if needed but hold no reference (resume)
   */
  'guardId'?: (string);
  /**
   * mark the worker connected (participant became active)
   */
  'connected'?: (boolean);
}

export interface ActivateRequest__Output {
  'roomId': (string);
  'roomName': (string);
  'participantId': (string);
  'participantIdentity': (string);
  /**
   * empty: create the worker if needed but hold no reference (resume)
   */
  'guardId': (string);
  /**
   * mark the worker connected (participant became active)
   */
  'connected': (boolean);
}
