// Original file: proto/telemetry/sidecar/v1/sidecar.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { ActivateRequest as _telemetry_sidecar_v1_ActivateRequest, ActivateRequest__Output as _telemetry_sidecar_v1_ActivateRequest__Output } from '../../../telemetry/sidecar/v1/ActivateRequest.js';
import type { ActivateResponse as _telemetry_sidecar_v1_ActivateResponse, ActivateResponse__Output as _telemetry_sidecar_v1_ActivateResponse__Output } from '../../../telemetry/sidecar/v1/ActivateResponse.js';
import type { FlushRequest as _telemetry_sidecar_v1_FlushRequest, FlushRequest__Output as _telemetry_sidecar_v1_FlushRequest__Output } from '../../../telemetry/sidecar/v1/FlushRequest.js';
import type { FlushResponse as _telemetry_sidecar_v1_FlushResponse, FlushResponse__Output as _telemetry_sidecar_v1_FlushResponse__Output } from '../../../telemetry/sidecar/v1/FlushResponse.js';
import type { ListWorkersRequest as _telemetry_sidecar_v1_ListWorkersRequest, ListWorkersRequest__Output as _telemetry_sidecar_v1_ListWorkersRequest__Output } from '../../../telemetry/sidecar/v1/ListWorkersRequest.js';
import type { ListWorkersResponse as _telemetry_sidecar_v1_ListWorkersResponse, ListWorkersResponse__Output as _telemetry_sidecar_v1_ListWorkersResponse__Output } from '../../../telemetry/sidecar/v1/ListWorkersResponse.js';
import type { ReleaseRequest as _telemetry_sidecar_v1_ReleaseRequest, ReleaseRequest__Output as _telemetry_sidecar_v1_ReleaseRequest__Output } from '../../../telemetry/sidecar/v1/ReleaseRequest.js';
import type { ReleaseResponse as _telemetry_sidecar_v1_ReleaseResponse, ReleaseResponse__Output as _telemetry_sidecar_v1_ReleaseResponse__Output } from '../../../telemetry/sidecar/v1/ReleaseResponse.js';
import type { SessionRequest as _telemetry_sidecar_v1_SessionRequest, SessionRequest__Output as _telemetry_sidecar_v1_SessionRequest__Output } from '../../../telemetry/sidecar/v1/SessionRequest.js';
import type { SessionResponse as _telemetry_sidecar_v1_SessionResponse, SessionResponse__Output as _telemetry_sidecar_v1_SessionResponse__Output } from '../../../telemetry/sidecar/v1/SessionResponse.js';
import type { TrackStatsRequest as _telemetry_sidecar_v1_TrackStatsRequest, TrackStatsRequest__Output as _telemetry_sidecar_v1_TrackStatsRequest__Output } from '../../../telemetry/sidecar/v1/TrackStatsRequest.js';
import type { TrackStatsResponse as _telemetry_sidecar_v1_TrackStatsResponse, TrackStatsResponse__Output as _telemetry_sidecar_v1_TrackStatsResponse__Output } from '../../../telemetry/sidecar/v1/TrackStatsResponse.js';

export interface TelemetrySidecarClient extends grpc.Client {
  Activate(argument: _telemetry_sidecar_v1_ActivateRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_telemetry_sidecar_v1_ActivateResponse__Output>): grpc.ClientUnaryCall;
  Activate(argument: _telemetry_sidecar_v1_ActivateRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_telemetry_sidecar_v1_ActivateResponse__Output>): grpc.ClientUnaryCall;
  Activate(argument: _telemetry_sidecar_v1_ActivateRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_telemetry_sidecar_v1_ActivateResponse__Output>): grpc.ClientUnaryCall;
  Activate(argument: _telemetry_sidecar_v1_ActivateRequest, callback: grpc.requestCallback<_telemetry_sidecar_v1_ActivateResponse__Output>): grpc.ClientUnaryCall;
  activate(argument: _telemetry_sidecar_v1_ActivateRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_telemetry_sidecar_v1_ActivateResponse__Output>): grpc.ClientUnaryCall;
  activate(argument: _telemetry_sidecar_v1_ActivateRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_telemetry_sidecar_v1_ActivateResponse__Output>): grpc.ClientUnaryCall;
  activate(argument: _telemetry_sidecar_v1_ActivateRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_telemetry_sidecar_v1_ActivateResponse__Output>): grpc.ClientUnaryCall;
  activate(argument: _telemetry_sidecar_v1_ActivateRequest, callback: grpc.requestCallback<_telemetry_sidecar_v1_ActivateResponse__Output>): grpc.ClientUnaryCall;
  
  Flush(argument: _telemetry_sidecar_v1_FlushRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_telemetry_sidecar_v1_FlushResponse__Output>): grpc.ClientUnaryCall;
  Flush(argument: _telemetry_sidecar_v1_FlushRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_telemetry_sidecar_v1_FlushResponse__Output>): grpc.ClientUnaryCall;
  Flush(argument: _telemetry_sidecar_v1_FlushRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_telemetry_sidecar_v1_FlushResponse__Output>): grpc.ClientUnaryCall;
  Flush(argument: _telemetry_sidecar_v1_FlushRequest, callback: grpc.requestCallback<_telemetry_sidecar_v1_FlushResponse__Output>): grpc.ClientUnaryCall;
  flush(argument: _telemetry_sidecar_v1_FlushRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_telemetry_sidecar_v1_FlushResponse__Output>): grpc.ClientUnaryCall;
  flush(argument: _telemetry_sidecar_v1_FlushRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_telemetry_sidecar_v1_FlushResponse__Output>): grpc.ClientUnaryCall;
  flush(argument: _telemetry_sidecar_v1_FlushRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_telemetry_sidecar_v1_FlushResponse__Output>): grpc.ClientUnaryCall;
  flush(argument: _telemetry_sidecar_v1_FlushRequest, callback: grpc.requestCallback<_telemetry_sidecar_v1_FlushResponse__Output>): grpc.ClientUnaryCall;
  
  ListWorkers(argument: _telemetry_sidecar_v1_ListWorkersRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_telemetry_sidecar_v1_ListWorkersResponse__Output>): grpc.ClientUnaryCall;
  ListWorkers(argument: _telemetry_sidecar_v1_ListWorkersRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_telemetry_sidecar_v1_ListWorkersResponse__Output>): grpc.ClientUnaryCall;
  ListWorkers(argument: _telemetry_sidecar_v1_ListWorkersRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_telemetry_sidecar_v1_ListWorkersResponse__Output>): grpc.ClientUnaryCall;
  ListWorkers(argument: _telemetry_sidecar_v1_ListWorkersRequest, callback: grpc.requestCallback<_telemetry_sidecar_v1_ListWorkersResponse__Output>): grpc.ClientUnaryCall;
  listWorkers(argument: _telemetry_sidecar_v1_ListWorkersRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_telemetry_sidecar_v1_ListWorkersResponse__Output>): grpc.ClientUnaryCall;
  listWorkers(argument: _telemetry_sidecar_v1_ListWorkersRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_telemetry_sidecar_v1_ListWorkersResponse__Output>): grpc.ClientUnaryCall;
  listWorkers(argument: _telemetry_sidecar_v1_ListWorkersRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_telemetry_sidecar_v1_ListWorkersResponse__Output>): grpc.ClientUnaryCall;
  listWorkers(argument: _telemetry_sidecar_v1_ListWorkersRequest, callback: grpc.requestCallback<_telemetry_sidecar_v1_ListWorkersResponse__Output>): grpc.ClientUnaryCall;
  
  Release(argument: _telemetry_sidecar_v1_ReleaseRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_telemetry_sidecar_v1_ReleaseResponse__Output>): grpc.ClientUnaryCall;
  Release(argument: _telemetry_sidecar_v1_ReleaseRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_telemetry_sidecar_v1_ReleaseResponse__Output>): grpc.ClientUnaryCall;
  Release(argument: _telemetry_sidecar_v1_ReleaseRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_telemetry_sidecar_v1_ReleaseResponse__Output>): grpc.ClientUnaryCall;
  Release(argument: _telemetry_sidecar_v1_ReleaseRequest, callback: grpc.requestCallback<_telemetry_sidecar_v1_ReleaseResponse__Output>): grpc.ClientUnaryCall;
  release(argument: _telemetry_sidecar_v1_ReleaseRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_telemetry_sidecar_v1_ReleaseResponse__Output>): grpc.ClientUnaryCall;
  release(argument: _telemetry_sidecar_v1_ReleaseRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_telemetry_sidecar_v1_ReleaseResponse__Output>): grpc.ClientUnaryCall;
  release(argument: _telemetry_sidecar_v1_ReleaseRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_telemetry_sidecar_v1_ReleaseResponse__Output>): grpc.ClientUnaryCall;
  release(argument: _telemetry_sidecar_v1_ReleaseRequest, callback: grpc.requestCallback<_telemetry_sidecar_v1_ReleaseResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Long-lived stream from one SFU process; multiplexes any number of participants.
   */
  Session(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_telemetry_sidecar_v1_SessionRequest, _telemetry_sidecar_v1_SessionResponse__Output>;
  Session(options?: grpc.CallOptions): grpc.ClientDuplexStream<_telemetry_sidecar_v1_SessionRequest, _telemetry_sidecar_v1_SessionResponse__Output>;
  /**
   * Long-lived stream from one SFU process; multiplexes any number of participants.
   */
  session(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_telemetry_sidecar_v1_SessionRequest, _telemetry_sidecar_v1_SessionResponse__Output>;
  session(options?: grpc.CallOptions): grpc.ClientDuplexStream<_telemetry_sidecar_v1_SessionRequest, _telemetry_sidecar_v1_SessionResponse__Output>;
  
  TrackStats(argument: _telemetry_sidecar_v1_TrackStatsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_telemetry_sidecar_v1_TrackStatsResponse__Output>): grpc.ClientUnaryCall;
  TrackStats(argument: _telemetry_sidecar_v1_TrackStatsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_telemetry_sidecar_v1_TrackStatsResponse__Output>): grpc.ClientUnaryCall;
  TrackStats(argument: _telemetry_sidecar_v1_TrackStatsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_telemetry_sidecar_v1_TrackStatsResponse__Output>): grpc.ClientUnaryCall;
  TrackStats(argument: _telemetry_sidecar_v1_TrackStatsRequest, callback: grpc.requestCallback<_telemetry_sidecar_v1_TrackStatsResponse__Output>): grpc.ClientUnaryCall;
  trackStats(argument: _telemetry_sidecar_v1_TrackStatsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_telemetry_sidecar_v1_TrackStatsResponse__Output>): grpc.ClientUnaryCall;
  trackStats(argument: _telemetry_sidecar_v1_TrackStatsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_telemetry_sidecar_v1_TrackStatsResponse__Output>): grpc.ClientUnaryCall;
  trackStats(argument: _telemetry_sidecar_v1_TrackStatsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_telemetry_sidecar_v1_TrackStatsResponse__Output>): grpc.ClientUnaryCall;
  trackStats(argument: _telemetry_sidecar_v1_TrackStatsRequest, callback: grpc.requestCallback<_telemetry_sidecar_v1_TrackStatsResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface TelemetrySidecarHandlers extends grpc.UntypedServiceImplementation {
  Activate: grpc.handleUnaryCall<_telemetry_sidecar_v1_ActivateRequest__Output, _telemetry_sidecar_v1_ActivateResponse>;
  
  Flush: grpc.handleUnaryCall<_telemetry_sidecar_v1_FlushRequest__Output, _telemetry_sidecar_v1_FlushResponse>;
  
  ListWorkers: grpc.handleUnaryCall<_telemetry_sidecar_v1_ListWorkersRequest__Output, _telemetry_sidecar_v1_ListWorkersResponse>;
  
  Release: grpc.handleUnaryCall<_telemetry_sidecar_v1_ReleaseRequest__Output, _telemetry_sidecar_v1_ReleaseResponse>;
  
  /**
   * Long-lived stream from one SFU process; multiplexes any number of participants.
   */
  Session: grpc.handleBidiStreamingCall<_telemetry_sidecar_v1_SessionRequest__Output, _telemetry_sidecar_v1_SessionResponse>;
  
  TrackStats: grpc.handleUnaryCall<_telemetry_sidecar_v1_TrackStatsRequest__Output, _telemetry_sidecar_v1_TrackStatsResponse>;
  
}

export interface TelemetrySidecarDefinition extends grpc.ServiceDefinition {
  Activate: MethodDefinition<_telemetry_sidecar_v1_ActivateRequest, _telemetry_sidecar_v1_ActivateResponse, _telemetry_sidecar_v1_ActivateRequest__Output, _telemetry_sidecar_v1_ActivateResponse__Output>
  Flush: MethodDefinition<_telemetry_sidecar_v1_FlushRequest, _telemetry_sidecar_v1_FlushResponse, _telemetry_sidecar_v1_FlushRequest__Output, _telemetry_sidecar_v1_FlushResponse__Output>
  ListWorkers: MethodDefinition<_telemetry_sidecar_v1_ListWorkersRequest, _telemetry_sidecar_v1_ListWorkersResponse, _telemetry_sidecar_v1_ListWorkersRequest__Output, _telemetry_sidecar_v1_ListWorkersResponse__Output>
  Release: MethodDefinition<_telemetry_sidecar_v1_ReleaseRequest, _telemetry_sidecar_v1_ReleaseResponse, _telemetry_sidecar_v1_ReleaseRequest__Output, _telemetry_sidecar_v1_ReleaseResponse__Output>
  Session: MethodDefinition<_telemetry_sidecar_v1_SessionRequest, _telemetry_sidecar_v1_SessionResponse, _telemetry_sidecar_v1_SessionRequest__Output, _telemetry_sidecar_v1_SessionResponse__Output>
  TrackStats: MethodDefinition<_telemetry_sidecar_v1_TrackStatsRequest, _telemetry_sidecar_v1_TrackStatsResponse, _telemetry_sidecar_v1_TrackStatsRequest__Output, _telemetry_sidecar_v1_TrackStatsResponse__Output>
}
