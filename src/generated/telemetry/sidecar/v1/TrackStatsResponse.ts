// Original file: proto/telemetry/sidecar/v1/sidecar.proto


export interface TrackStatsResponse {
  /**
   * valid, recorded on a worker
   */
  'accepted'?: (number);
  /**
   * recorded on a worker but failing the validity check
   */
  'invalid'?: (number);
  /**
   * dropped: no worker for (room_id, participant_id)
   */
  'noWorker'?: (number);
}

export interface TrackStatsResponse__Output {
  /**
   * valid, recorded on a worker
   */
  'accepted': (number);
  /**
   * recorded on a worker but failing the validity check
   */
  'invalid': (number);
  /**
   * dropped: no worker for (room_id, participant_id)
   */
  'noWorker': (number);
}
