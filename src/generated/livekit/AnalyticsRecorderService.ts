// Original file: proto/livekit_analytics.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { AnalyticsStats as _livekit_AnalyticsStats, AnalyticsStats__Output as _livekit_AnalyticsStats__Output } from '../livekit/AnalyticsStats.js';
import type { Empty as _google_protobuf_Empty, Empty__Output as _google_protobuf_Empty__Output } from '../google/protobuf/Empty.js';

export interface AnalyticsRecorderServiceClient extends grpc.Client {
  IngestStats(metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_google_protobuf_Empty__Output>): grpc.ClientWritableStream<_livekit_AnalyticsStats>;
  IngestStats(metadata: grpc.Metadata, callback: grpc.requestCallback<_google_protobuf_Empty__Output>): grpc.ClientWritableStream<_livekit_AnalyticsStats>;
  IngestStats(options: grpc.CallOptions, callback: grpc.requestCallback<_google_protobuf_Empty__Output>): grpc.ClientWritableStream<_livekit_AnalyticsStats>;
  IngestStats(callback: grpc.requestCallback<_google_protobuf_Empty__Output>): grpc.ClientWritableStream<_livekit_AnalyticsStats>;
  ingestStats(metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_google_protobuf_Empty__Output>): grpc.ClientWritableStream<_livekit_AnalyticsStats>;
  ingestStats(metadata: grpc.Metadata, callback: grpc.requestCallback<_google_protobuf_Empty__Output>): grpc.ClientWritableStream<_livekit_AnalyticsStats>;
  ingestStats(options: grpc.CallOptions, callback: grpc.requestCallback<_google_protobuf_Empty__Output>): grpc.ClientWritableStream<_livekit_AnalyticsStats>;
  ingestStats(callback: grpc.requestCallback<_google_protobuf_Empty__Output>): grpc.ClientWritableStream<_livekit_AnalyticsStats>;
  
}

export interface AnalyticsRecorderServiceHandlers extends grpc.UntypedServiceImplementation {
  IngestStats: grpc.handleClientStreamingCall<_livekit_AnalyticsStats__Output, _google_protobuf_Empty>;
  
}

export interface AnalyticsRecorderServiceDefinition extends grpc.ServiceDefinition {
  IngestStats: MethodDefinition<_livekit_AnalyticsStats, _google_protobuf_Empty, _livekit_AnalyticsStats__Output, _google_protobuf_Empty__Output>
}
