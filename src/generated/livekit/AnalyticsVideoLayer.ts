// Original file: proto/livekit_analytics.proto

import type { Long } from '@grpc/proto-loader';

export interface AnalyticsVideoLayer {
  'layer'?: (number);
  'packets'?: (number);
  'bytes'?: (number | string | Long);
  'frames'?: (number);
}

export interface AnalyticsVideoLayer__Output {
  'layer': (number);
  'packets': (number);
  'bytes': (Long);
  'frames': (number);
}
