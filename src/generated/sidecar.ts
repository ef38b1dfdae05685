import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { Empty as _google_protobuf_Empty, Empty__Output as _google_protobuf_Empty__Output } from './google/protobuf/Empty.js';
import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from './google/protobuf/Timestamp.js';
import type { AnalyticsRecorderServiceClient as _livekit_AnalyticsRecorderServiceClient, AnalyticsRecorderServiceDefinition as _livekit_AnalyticsRecorderServiceDefinition } from './livekit/AnalyticsRecorderService.js';
import type { AnalyticsStat as _livekit_AnalyticsStat, AnalyticsStat__Output as _livekit_AnalyticsStat__Output } from './livekit/AnalyticsStat.js';
import type { AnalyticsStats as _livekit_AnalyticsStats, AnalyticsStats__Output as _livekit_AnalyticsStats__Output } from './livekit/AnalyticsStats.js';
import type { AnalyticsStream as _livekit_AnalyticsStream, AnalyticsStream__Output as _livekit_AnalyticsStream__Output } from './livekit/AnalyticsStream.js';
import type { AnalyticsVideoLayer as _livekit_AnalyticsVideoLayer, AnalyticsVideoLayer__Output as _livekit_AnalyticsVideoLayer__Output } from './livekit/AnalyticsVideoLayer.js';
import type { ActivateRequest as _telemetry_sidecar_v1_ActivateRequest, ActivateRequest__Output as _telemetry_sidecar_v1_ActivateRequest__Output } from './telemetry/sidecar/v1/ActivateRequest.js';
import type { ActivateResponse as _telemetry_sidecar_v1_ActivateResponse, ActivateResponse__Output as _telemetry_sidecar_v1_ActivateResponse__Output } from './telemetry/sidecar/v1/ActivateResponse.js';
import type { FlushRequest as _telemetry_sidecar_v1_FlushRequest, FlushRequest__Output as _telemetry_sidecar_v1_FlushRequest__Output } from './telemetry/sidecar/v1/FlushRequest.js';
import type { FlushResponse as _telemetry_sidecar_v1_FlushResponse, FlushResponse__Output as _telemetry_sidecar_v1_FlushResponse__Output } from './telemetry/sidecar/v1/FlushResponse.js';
import type { Hello as _telemetry_sidecar_v1_Hello, Hello__Output as _telemetry_sidecar_v1_Hello__Output } from './telemetry/sidecar/v1/Hello.js';
import type { HelloResponse as _telemetry_sidecar_v1_HelloResponse, HelloResponse__Output as _telemetry_sidecar_v1_HelloResponse__Output } from './telemetry/sidecar/v1/HelloResponse.js';
import type { ListWorkersRequest as _telemetry_sidecar_v1_ListWorkersRequest, ListWorkersRequest__Output as _telemetry_sidecar_v1_ListWorkersRequest__Output } from './telemetry/sidecar/v1/ListWorkersRequest.js';
import type { ListWorkersResponse as _telemetry_sidecar_v1_ListWorkersResponse, ListWorkersResponse__Output as _telemetry_sidecar_v1_ListWorkersResponse__Output } from './telemetry/sidecar/v1/ListWorkersResponse.js';
import type { ReleaseRequest as _telemetry_sidecar_v1_ReleaseRequest, ReleaseRequest__Output as _telemetry_sidecar_v1_ReleaseRequest__Output } from './telemetry/sidecar/v1/ReleaseRequest.js';
import type { ReleaseResponse as _telemetry_sidecar_v1_ReleaseResponse, ReleaseResponse__Output as _telemetry_sidecar_v1_ReleaseResponse__Output } from './telemetry/sidecar/v1/ReleaseResponse.js';
import type { SessionRequest as _telemetry_sidecar_v1_SessionRequest, SessionRequest__Output as _telemetry_sidecar_v1_SessionRequest__Output } from './telemetry/sidecar/v1/SessionRequest.js';
import type { SessionResponse as _telemetry_sidecar_v1_SessionResponse, SessionResponse__Output as _telemetry_sidecar_v1_SessionResponse__Output } from './telemetry/sidecar/v1/SessionResponse.js';
import type { StreamError as _telemetry_sidecar_v1_StreamError, StreamError__Output as _telemetry_sidecar_v1_StreamError__Output } from './telemetry/sidecar/v1/StreamError.js';
import type { TelemetrySidecarClient as _telemetry_sidecar_v1_TelemetrySidecarClient, TelemetrySidecarDefinition as _telemetry_sidecar_v1_TelemetrySidecarDefinition } from './telemetry/sidecar/v1/TelemetrySidecar.js';
import type { TrackStat as _telemetry_sidecar_v1_TrackStat, TrackStat__Output as _telemetry_sidecar_v1_TrackStat__Output } from './telemetry/sidecar/v1/TrackStat.js';
import type { TrackStatsRequest as _telemetry_sidecar_v1_TrackStatsRequest, TrackStatsRequest__Output as _telemetry_sidecar_v1_TrackStatsRequest__Output } from './telemetry/sidecar/v1/TrackStatsRequest.js';
import type { TrackStatsResponse as _telemetry_sidecar_v1_TrackStatsResponse, TrackStatsResponse__Output as _telemetry_sidecar_v1_TrackStatsResponse__Output } from './telemetry/sidecar/v1/TrackStatsResponse.js';
import type { WorkerInfo as _telemetry_sidecar_v1_WorkerInfo, WorkerInfo__Output as _telemetry_sidecar_v1_WorkerInfo__Output } from './telemetry/sidecar/v1/WorkerInfo.js';

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
  telemetry: {
    sidecar: {
      v1: {
        ActivateRequest: MessageTypeDefinition<_telemetry_sidecar_v1_ActivateRequest, _telemetry_sidecar_v1_ActivateRequest__Output>
        ActivateResponse: MessageTypeDefinition<_telemetry_sidecar_v1_ActivateResponse, _telemetry_sidecar_v1_ActivateResponse__Output>
        FlushRequest: MessageTypeDefinition<_telemetry_sidecar_v1_FlushRequest, _telemetry_sidecar_v1_FlushRequest__Output>
        FlushResponse: MessageTypeDefinition<_telemetry_sidecar_v1_FlushResponse, _telemetry_sidecar_v1_FlushResponse__Output>
        Hello: MessageTypeDefinition<_telemetry_sidecar_v1_Hello, _telemetry_sidecar_v1_Hello__Output>
        HelloResponse: MessageTypeDefinition<_telemetry_sidecar_v1_HelloResponse, _telemetry_sidecar_v1_HelloResponse__Output>
        ListWorkersRequest: MessageTypeDefinition<_telemetry_sidecar_v1_ListWorkersRequest, _telemetry_sidecar_v1_ListWorkersRequest__Output>
        ListWorkersResponse: MessageTypeDefinition<_telemetry_sidecar_v1_ListWorkersResponse, _telemetry_sidecar_v1_ListWorkersResponse__Output>
        ReleaseRequest: MessageTypeDefinition<_telemetry_sidecar_v1_ReleaseRequest, _telemetry_sidecar_v1_ReleaseRequest__Output>
        ReleaseResponse: MessageTypeDefinition<_telemetry_sidecar_v1_ReleaseResponse, _telemetry_sidecar_v1_ReleaseResponse__Output>
        SessionRequest: MessageTypeDefinition<_telemetry_sidecar_v1_SessionRequest, _telemetry_sidecar_v1_SessionRequest__Output>
        SessionResponse: MessageTypeDefinition<_telemetry_sidecar_v1_SessionResponse, _telemetry_sidecar_v1_SessionResponse__Output>
        StreamError: MessageTypeDefinition<_telemetry_sidecar_v1_StreamError, _telemetry_sidecar_v1_StreamError__Output>
        TelemetrySidecar: SubtypeConstructor<typeof grpc.Client, _telemetry_sidecar_v1_TelemetrySidecarClient> & { service: _telemetry_sidecar_v1_TelemetrySidecarDefinition }
        TrackStat: MessageTypeDefinition<_telemetry_sidecar_v1_TrackStat, _telemetry_sidecar_v1_TrackStat__Output>
        TrackStatsRequest: MessageTypeDefinition<_telemetry_sidecar_v1_TrackStatsRequest, _telemetry_sidecar_v1_TrackStatsRequest__Output>
        TrackStatsResponse: MessageTypeDefinition<_telemetry_sidecar_v1_TrackStatsResponse, _telemetry_sidecar_v1_TrackStatsResponse__Output>
        WorkerInfo: MessageTypeDefinition<_telemetry_sidecar_v1_WorkerInfo, _telemetry_sidecar_v1_WorkerInfo__Output>
      }
    }
  }
}

