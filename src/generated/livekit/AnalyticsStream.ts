// Original file: proto/livekit_analytics.proto

import type { AnalyticsVideoLayer as _livekit_AnalyticsVideoLayer, AnalyticsVideoLayer__Output as _livekit_AnalyticsVideoLayer__Output } from '../livekit/AnalyticsVideoLayer.js';
import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../google/protobuf/Timestamp.js';
import type { Long } from '@grpc/proto-loader';

export interface AnalyticsStream {
  'ssrc'?: (number);
  'primaryPackets'?: (number);
  'primaryBytes'?: (number | string | Long);
  'retransmitPackets'?: (number);
  'retransmitBytes'?: (number | string | Long);
  'paddingPackets'?: (number);
  'paddingBytes'?: (number | string | Long);
  'packetsLost'?: (number);
  'frames'?: (number);
  'rtt'?: (number);
  'jitter'?: (number);
  'nacks'?: (number);
  'plis'?: (number);
  'firs'?: (number);
  'videoLayers'?: (_livekit_AnalyticsVideoLayer)[];
  'startTime'?: (_google_protobuf_Timestamp | null);
  'endTime'?: (_google_protobuf_Timestamp | null);
  'packetsOutOfOrder'?: (number);
}

export interface AnalyticsStream__Output {
  'ssrc': (number);
  'primaryPackets': (number);
  'primaryBytes': (Long);
  'retransmitPackets': (number);
  'retransmitBytes': (Long);
  'paddingPackets': (number);
  'paddingBytes': (Long);
  'packetsLost': (number);
  'frames': (number);
  'rtt': (number);
  'jitter': (number);
  'nacks': (number);
  'plis': (number);
  'firs': (number);
  'videoLayers': (_livekit_AnalyticsVideoLayer__Output)[];
  'startTime': (_google_protobuf_Timestamp__Output | null);
  'endTime': (_google_protobuf_Timestamp__Output | null);
  'packetsOutOfOrder': (number);
}
