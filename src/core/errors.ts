/**
 * The one error type the product raises on purpose. Codes are gRPC status
 * names; the service layer maps them to grpc-js's `status` enum.
 */
export type ErrorCode = 'INVALID_ARGUMENT' | 'RESOURCE_EXHAUSTED' | 'UNAVAILABLE' | 'UNAUTHENTICATED';

export class SidecarError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Counted reason for refusals that are metrics too (e.g. `memory_limit`). */
    readonly reason?: string,
  ) {
    super(message);
    this.name = 'SidecarError';
  }
}
