/**
 * Bearer-token authentication for every gRPC service but grpc.health.v1
 * (kubelet's gRPC probes carry no token). It runs as a server interceptor on
 * the call's metadata, before any request message is read: an unauthenticated
 * caller is answered UNAUTHENTICATED without a byte of its body decoded.
 */
import { ResponderBuilder, ServerInterceptingCall, ServerListenerBuilder, type ServerInterceptor } from '@grpc/grpc-js';
import type { TokenFile } from '../settings/index.js';
import { toStatus, UNAUTHENTICATED } from './status.js';

/** Methods any caller may use: the health service, for probes. */
const OPEN_PREFIX = '/grpc.health.v1.Health/';

export function bearerAuth(token: TokenFile): ServerInterceptor {
  return (method, call) => {
    if (method.path.startsWith(OPEN_PREFIX)) return new ServerInterceptingCall(call);
    const listener = new ServerListenerBuilder()
      .withOnReceiveMetadata((metadata, next) => {
        if (token.acceptsBearer(metadata.get('authorization')[0])) next(metadata);
        else call.sendStatus(toStatus(UNAUTHENTICATED));
      })
      .build();
    return new ServerInterceptingCall(call, new ResponderBuilder().withStart((next) => next(listener)).build());
  };
}
