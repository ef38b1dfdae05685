/** A typed grpc-js client for the sidecar's unary RPCs (the Session stream: session-client.ts). */
import {
  credentials,
  InterceptingCall,
  loadPackageDefinition as toGrpcObject,
  type ChannelOptions,
  type Interceptor,
} from '@grpc/grpc-js';
import type { ProtoGrpcType } from '../generated/sidecar.js';
import type { TelemetrySidecarClient } from '../generated/telemetry/sidecar/v1/TelemetrySidecar.js';
import { loadPackageDefinition } from '../wire/protos.js';

export type { TelemetrySidecarClient };

/** Adds `authorization: Bearer <token>` to every call (call credentials need TLS; the sidecar is plaintext on localhost). */
function bearer(token: string): Interceptor {
  return (options, nextCall) =>
    new InterceptingCall(nextCall(options), {
      start(metadata, listener, next) {
        metadata.set('authorization', `Bearer ${token}`);
        next(metadata, listener);
      },
    });
}

export function createSidecarClient(
  target: string,
  options: { token?: string; channel?: ChannelOptions } = {},
): TelemetrySidecarClient {
  const proto = toGrpcObject(loadPackageDefinition()) as unknown as ProtoGrpcType;
  const interceptors = options.token ? [bearer(options.token)] : [];
  return new proto.telemetry.sidecar.v1.TelemetrySidecar(target, credentials.createInsecure(), {
    ...options.channel,
    interceptors,
  });
}
