/** Promise wrappers over the generated callback client, and a Session driver that matches responses by seq. */
import type { ClientDuplexStream, ServiceError } from '@grpc/grpc-js';
import type { TelemetrySidecarClient } from '../../src/client/sidecar-client.js';
import type { SessionRequest } from '../../src/generated/telemetry/sidecar/v1/SessionRequest.js';
import type { SessionResponse__Output } from '../../src/generated/telemetry/sidecar/v1/SessionResponse.js';

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

export class SessionDriver {
  readonly responses: SessionResponse__Output[] = [];
  readonly ended: Promise<void>;
  private seq = 0;
  private readonly waiting = new Map<string, (r: SessionResponse__Output) => void>();
  readonly call: ClientDuplexStream<SessionRequest, SessionResponse__Output>;

  constructor(client: TelemetrySidecarClient) {
    this.call = client.Session();
    this.call.on('data', (r: SessionResponse__Output) => {
      this.responses.push(r);
      const key = r.seq.toString();
      this.waiting.get(key)?.(r);
      this.waiting.delete(key);
    });
    this.ended = new Promise((resolve, reject) => {
      this.call.on('end', resolve);
      this.call.on('error', reject);
    });
  }

  /** Sends a request with the next seq and resolves with its response. */
  send(req: Omit<SessionRequest, 'seq'>): Promise<SessionResponse__Output> {
    const seq = ++this.seq;
    return this.sendWithSeq(seq, req);
  }

  sendWithSeq(seq: number, req: Omit<SessionRequest, 'seq'>): Promise<SessionResponse__Output> {
    return new Promise((resolve) => {
      this.waiting.set(String(seq), resolve);
      this.call.write({ ...req, seq });
    });
  }

  async end(): Promise<void> {
    this.call.end();
    await this.ended;
  }
}
