/** The one translator from thrown values to gRPC statuses (cf. nice-grpc's createErrorStatusObject). */
import { status, type StatusObject } from '@grpc/grpc-js';
import { SidecarError } from '../core/errors.js';

export interface ErrorStatus {
  code: status;
  details: string;
}

const CODES: Record<SidecarError['code'], status> = {
  INVALID_ARGUMENT: status.INVALID_ARGUMENT,
  RESOURCE_EXHAUSTED: status.RESOURCE_EXHAUSTED,
  UNAVAILABLE: status.UNAVAILABLE,
  UNAUTHENTICATED: status.UNAUTHENTICATED,
};

/** A call without the configured bearer token. */
export const UNAUTHENTICATED = new SidecarError('UNAUTHENTICATED', 'missing or wrong bearer token');

/** Our errors keep their code and message; anything unexpected is INTERNAL with a generic message (the caller logs the stack). */
export function toStatus(err: unknown): ErrorStatus {
  if (err instanceof SidecarError) return { code: CODES[err.code], details: err.message };
  const grpcLike = err as Partial<StatusObject> | undefined;
  if (grpcLike?.code === status.CANCELLED) return { code: status.CANCELLED, details: 'cancelled' };
  return { code: status.INTERNAL, details: 'internal error' };
}

export function isUnexpected(err: unknown): boolean {
  return !(err instanceof SidecarError);
}
