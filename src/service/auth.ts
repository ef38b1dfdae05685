/**
 * Bearer-token authentication for every gRPC service but grpc.health.v1
 * (kubelet's gRPC probes carry no token). It runs as a server interceptor on
 * the call's metadata, before any request message is read: an unauthenticated
 * caller is answered UNAUTHENTICATED without a byte of its body decoded.
 */
import { timingSafeEqual } from 'node:crypto';
import { ResponderBuilder, ServerInterceptingCall, ServerListenerBuilder, type ServerInterceptor } from '@grpc/grpc-js';
import { SidecarError } from '../core/errors.js';
import { toStatus } from './status.js';
import type { TokenFile } from './token-file.js';

/** Methods any caller may use: the health service, for probes. */
const OPEN_PREFIX = '/grpc.health.v1.Health/';

/** RFC 6750 §2.1: the scheme is case-insensitive (RFC 7235 §2.1), then one or more spaces and the token. */
const BEARER = /^bearer +(\S+) *$/i;

function matches(presented: Buffer, token: Buffer): boolean {
  return presented.length === token.length && timingSafeEqual(presented, token);
}

/** Whether an `authorization` header value carries the token (re-reading the file once if it does not). */
export function authorized(header: unknown, token: TokenFile): boolean {
  if (typeof header !== 'string') return false;
  const m = BEARER.exec(header);
  if (!m) return false;
  const presented = Buffer.from(m[1]!);
  // a mismatch may mean the file was rotated: the new token works at once, the old one stops
  return matches(presented, token.current()) || matches(presented, token.refresh());
}

export function bearerAuth(token: TokenFile): ServerInterceptor {
  return (method, call) => {
    if (method.path.startsWith(OPEN_PREFIX)) return new ServerInterceptingCall(call);
    const listener = new ServerListenerBuilder()
      .withOnReceiveMetadata((metadata, next) => {
        if (authorized(metadata.get('authorization')[0], token)) next(metadata);
        else call.sendStatus(toStatus(new SidecarError('UNAUTHENTICATED', 'missing or wrong bearer token')));
      })
      .build();
    return new ServerInterceptingCall(call, new ResponderBuilder().withStart((next) => next(listener)).build());
  };
}
