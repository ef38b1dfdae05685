// Original file: proto/telemetry/sidecar/v1/sidecar.proto

import type { StreamType as _livekit_StreamType, StreamType__Output as _livekit_StreamType__Output } from '../../../livekit/StreamType.js';
import type { AnalyticsStat as _livekit_AnalyticsStat, AnalyticsStat__Output as _livekit_AnalyticsStat__Output } from '../../../livekit/AnalyticsStat.js';

export interface TrackStat {
  'roomId'?: (string);
  'participantId'?: (string);
  'trackId'?: (string);
  /**
   * UPSTREAM = published by the participant, DOWNSTREAM = subscribed
   */
  'kind'?: (_livekit_StreamType);
  'stat'?: (_livekit_AnalyticsStat | null);
  /**
   * optional labels for the packet/byte metrics
   */
  'country'?: (string);
  /**
   * livekit.TrackSource value, optional
   */
  'trackSource'?: (number);
  /**
   * livekit.TrackType value, optional
   */
  'trackType'?: (number);
}

export interface TrackStat__Output {
  'roomId': (string);
  'participantId': (string);
  'trackId': (string);
  /**
   * UPSTREAM = published by the participant, DOWNSTREAM = subscribed
   */
  'kind': (_livekit_StreamType__Output);
  'stat': (_livekit_AnalyticsStat__Output | null);
  /**
   * optional labels for the packet/byte metrics
   */
  'country': (string);
  /**
   * livekit.TrackSource value, optional
   */
  'trackSource': (number);
  /**
   * livekit.TrackType value, optional
   */
  'trackType': (number);
}
