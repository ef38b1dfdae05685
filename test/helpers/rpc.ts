/** A promise wrapper over the generated callback client's unary methods (Session: src/client/session-client.ts). */
import type { ServiceError } from '@grpc/grpc-js';
import type { TelemetrySidecarClient } from '../../src/client/sidecar-client.js';

type Callback<Res> = (err: ServiceError | null, res?: Res) => void;

/** Calls a unary method and resolves with its response (rejects with the ServiceError). */
export function unary<Req, Res>(
  client: TelemetrySidecarClient,
  method: (req: Req, cb: Callback<Res>) => unknown,
  req: Req,
): Promise<Res> {
  return new Promise((resolve, reject) => {
    method.call(client, req, (err, res) => (err ? reject(err) : resolve(res as Res)));
  });
}
