// Original file: proto/livekit_analytics.proto

import type { StreamType as _livekit_StreamType, StreamType__Output as _livekit_StreamType__Output } from '../livekit/StreamType.js';
import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../google/protobuf/Timestamp.js';
import type { AnalyticsStream as _livekit_AnalyticsStream, AnalyticsStream__Output as _livekit_AnalyticsStream__Output } from '../livekit/AnalyticsStream.js';

export interface AnalyticsStat {
  'analyticsKey'?: (string);
  'kind'?: (_livekit_StreamType);
  'timeStamp'?: (_google_protobuf_Timestamp | null);
  'node'?: (string);
  'roomId'?: (string);
  'roomName'?: (string);
  'participantId'?: (string);
  'trackId'?: (string);
  /**
   * average score
   */
  'score'?: (number | string);
  'streams'?: (_livekit_AnalyticsStream)[];
  'mime'?: (string);
  'minScore'?: (number | string);
  'medianScore'?: (number | string);
  /**
   * unique id for this stat
   */
  'id'?: (string);
}

export interface AnalyticsStat__Output {
  'analyticsKey': (string);
  'kind': (_livekit_StreamType__Output);
  'timeStamp': (_google_protobuf_Timestamp__Output | null);
  'node': (string);
  'roomId': (string);
  'roomName': (string);
  'participantId': (string);
  'trackId': (string);
  /**
   * average score
   */
  'score': (number);
  'streams': (_livekit_AnalyticsStream__Output)[];
  'mime': (string);
  'minScore': (number);
  'medianScore': (number);
  /**
   * unique id for this stat
   */
  'id': (string);
}
