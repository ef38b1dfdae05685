import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { Empty as _google_protobuf_Empty, Empty__Output as _google_protobuf_Empty__Output } from './google/protobuf/Empty.js';
import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from './google/protobuf/Timestamp.js';
import type { AnalyticsRecorderServiceClient as _livekit_AnalyticsRecorderServiceClient, AnalyticsRecorderServiceDefinition as _livekit_AnalyticsRecorderServiceDefinition } from './livekit/AnalyticsRecorderService.js';
import type { AnalyticsStat as _livekit_AnalyticsStat, AnalyticsStat__Output as _livekit_AnalyticsStat__Output } from './livekit/AnalyticsStat.js';
import type { AnalyticsStats as _livekit_AnalyticsStats, AnalyticsStats__Output as _livekit_AnalyticsStats__Output } from './livekit/AnalyticsStats.js';
import type { AnalyticsStream as _livekit_AnalyticsStream, AnalyticsStream__Output as _livekit_AnalyticsStream__Output } from './livekit/AnalyticsStream.js';
import type { AnalyticsVideoLayer as _livekit_AnalyticsVideoLayer, AnalyticsVideoLayer__Output as _livekit_AnalyticsVideoLayer__Output } from './livekit/AnalyticsVideoLayer.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  google: {
    protobuf: {
      Empty: MessageTypeDefinition<_google_protobuf_Empty, _google_protobuf_Empty__Output>
      Timestamp: MessageTypeDefinition<_google_protobuf_Timestamp, _google_protobuf_Timestamp__Output>
    }
  }
  livekit: {
    AnalyticsRecorderService: SubtypeConstructor<typeof grpc.Client, _livekit_AnalyticsRecorderServiceClient> & { service: _livekit_AnalyticsRecorderServiceDefinition }
    AnalyticsStat: MessageTypeDefinition<_livekit_AnalyticsStat, _livekit_AnalyticsStat__Output>
    AnalyticsStats: MessageTypeDefinition<_livekit_AnalyticsStats, _livekit_AnalyticsStats__Output>
    AnalyticsStream: MessageTypeDefinition<_livekit_AnalyticsStream, _livekit_AnalyticsStream__Output>
    AnalyticsVideoLayer: MessageTypeDefinition<_livekit_AnalyticsVideoLayer, _livekit_AnalyticsVideoLayer__Output>
    StreamType: EnumTypeDefinition
  }
}

