// Original file: proto/telemetry/sidecar/v1/sidecar.proto

import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../../google/protobuf/Timestamp.js';

export interface WorkerInfo {
  'roomId'?: (string);
  'roomName'?: (string);
  'participantId'?: (string);
  'participantIdentity'?: (string);
  'connected'?: (boolean);
  'refCount'?: (number);
  /**
   * unset while open
   */
  'closedAt'?: (_google_protobuf_Timestamp | null);
  /**
   * (track, direction) aggregates waiting for the next flush
   */
  'pendingTracks'?: (number);
}

export interface WorkerInfo__Output {
  'roomId': (string);
  'roomName': (string);
  'participantId': (string);
  'participantIdentity': (string);
  'connected': (boolean);
  'refCount': (number);
  /**
   * unset while open
   */
  'closedAt': (_google_protobuf_Timestamp__Output | null);
  /**
   * (track, direction) aggregates waiting for the next flush
   */
  'pendingTracks': (number);
}
