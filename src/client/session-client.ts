/**
 * A client of the sidecar's Session stream, as an SFU would hold one: `send(request)` resolves
 * with the response carrying the same seq. The sidecar answers every request once and in order
 * (docs/api.md), so responses are matched to a FIFO of the requests written and a response out
 * of order fails the stream. At most `maxInFlight` requests are unanswered, and nothing more is
 * written while grpc-js says its buffer is full (write() returned false): requests beyond that
 * wait here, in order, so a slow sidecar slows the caller instead of growing its memory
 * unseen. When the stream ends or fails, every request still waiting is rejected with a
 * SessionClosedError.
 */
import {
  Client,
  credentials,
  Metadata,
  status,
  type ChannelOptions,
  type ClientDuplexStream,
  type ServiceDefinition,
  type ServiceError,
} from '@grpc/grpc-js';
import type { HelloResponse__Output } from '../generated/telemetry/sidecar/v1/HelloResponse.js';
import type { SessionRequest } from '../generated/telemetry/sidecar/v1/SessionRequest.js';
import type { SessionResponse__Output } from '../generated/telemetry/sidecar/v1/SessionResponse.js';
import { loadPackageDefinition } from '../wire/protos.js';

/** A Session request without its seq: the client numbers requests itself. */
export type SessionRequestBody = Omit<SessionRequest, 'seq'>;

export interface SessionClientOptions {
  /** Sent as `authorization: Bearer <token>` (the sidecar's SIDECAR_GRPC_TOKEN_FILE). */
  token?: string;
  /** Unanswered requests allowed on the stream; the rest wait in order. Default 64. */
  maxInFlight?: number;
  /** Options of the channel `SessionClient.open` creates. */
  channel?: ChannelOptions;
}

/** The stream ended or failed before this request was answered. `code` is the stream's gRPC status. */
export class SessionClosedError extends Error {
  override readonly name = 'SessionClosedError';
  constructor(
    message: string,
    readonly code: status,
    override readonly cause?: Error,
  ) {
    super(message);
  }
}

/** A StreamError response, as a rejection (from `hello`). */
export class SessionRequestError extends Error {
  override readonly name = 'SessionRequestError';
  constructor(
    readonly code: number,
    readonly details: string,
  ) {
    super(`${details} (code ${code})`);
  }
}

const DEFAULT_MAX_IN_FLIGHT = 64;

interface Waiting {
  resolve: (response: SessionResponse__Output) => void;
  reject: (err: Error) => void;
}

interface Written extends Waiting {
  seq: number;
}

interface Queued extends Waiting {
  request: Request;
}

/** A request object, or the fast path's bytes without a seq. */
type Request = SessionRequestBody | Buffer;

const method = () => (loadPackageDefinition()['telemetry.sidecar.v1.TelemetrySidecar'] as ServiceDefinition).Session!;

export class SessionClient {
  /**
   * Resolves when the sidecar ends the stream (OK, e.g. at its shutdown); rejects with the
   * ServiceError when it fails. Already handled: awaiting it is optional.
   */
  readonly ended: Promise<void>;
  private readonly call: ClientDuplexStream<Buffer, SessionResponse__Output>;
  private readonly maxInFlight: number;
  private readonly serialize: (req: SessionRequest) => Buffer;
  private readonly written: Written[] = [];
  private readonly queued: Queued[] = [];
  private seq = 0;
  private blocked = false;
  private closed: SessionClosedError | undefined;
  private readonly owned: Client | undefined;
  private wake: (() => void)[] = [];

  /** Opens a Session on a channel of its own; `close()` closes both. */
  static open(target: string, options: SessionClientOptions = {}): SessionClient {
    const channel = new Client(target, credentials.createInsecure(), options.channel);
    return new SessionClient(channel, options, channel);
  }

  /** Opens a Session on a channel shared with other calls (any grpc-js client of the sidecar). */
  constructor(client: Client, options: SessionClientOptions = {}, owned?: Client) {
    this.owned = owned;
    this.maxInFlight = options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
    const m = method();
    this.serialize = m.requestSerialize as (req: SessionRequest) => Buffer;
    const metadata = new Metadata();
    if (options.token !== undefined) metadata.set('authorization', `Bearer ${options.token}`);
    this.call = client.makeBidiStreamRequest(
      m.path,
      (bytes: Buffer) => bytes,
      m.responseDeserialize as (bytes: Buffer) => SessionResponse__Output,
      metadata,
    );
    this.call.on('data', (r: SessionResponse__Output) => this.answer(r));
    this.call.on('drain', () => {
      this.blocked = false;
      this.pump();
    });
    this.ended = new Promise((resolve, reject) => {
      this.call.on('end', () => {
        this.fail(new SessionClosedError('the Session stream ended before answering', status.OK));
        resolve();
      });
      this.call.on('error', (err: ServiceError) => {
        this.fail(new SessionClosedError(`the Session stream failed: ${err.message}`, err.code, err));
        reject(err);
      });
    });
    this.ended.catch(() => undefined);
  }

  /** Requests written and not yet answered. */
  get inFlight(): number {
    return this.written.length;
  }

  /** A request sent now would be written at once. */
  get hasRoom(): boolean {
    return !this.blocked && this.written.length < this.maxInFlight && this.queued.length === 0;
  }

  /** Names this client for guard leases (docs/api.md); rejects with a SessionRequestError if refused. */
  async hello(clientId: string): Promise<HelloResponse__Output> {
    const r = await this.send({ hello: { clientId } });
    if (r.error) throw new SessionRequestError(r.error.code, r.error.message);
    return r.hello!;
  }

  /** Sends a request with the next seq; resolves with its response, which may carry a StreamError. */
  send(request: SessionRequestBody): Promise<SessionResponse__Output> {
    return this.enqueue(request);
  }

  /**
   * The fast path: `body` is an encoded SessionRequest without its seq (encoded once, sent many
   * times); the client puts a fresh seq in front of it, which protobuf allows.
   */
  sendEncoded(body: Buffer): Promise<SessionResponse__Output> {
    return this.enqueue(body);
  }

  /** Resolves when a request sent now would be written at once; rejects once the stream is closed. */
  async ready(): Promise<void> {
    while (!this.hasRoom) {
      if (this.closed) throw this.closed;
      await new Promise<void>((resolve) => this.wake.push(resolve));
    }
    if (this.closed) throw this.closed;
  }

  /** Ends our side once every request has been written; resolves when the sidecar has answered them and ended. */
  async end(): Promise<void> {
    while (this.queued.length > 0 && !this.closed) {
      await new Promise<void>((resolve) => this.wake.push(resolve));
    }
    this.call.end();
    await this.ended;
  }

  /** Cancels the stream: waiting requests are rejected with CANCELLED. */
  cancel(): void {
    this.call.cancel();
  }

  /** Cancels the stream if open and closes the channel `open` created. */
  close(): void {
    if (!this.closed) this.call.cancel();
    this.owned?.close();
  }

  private enqueue(request: Request): Promise<SessionResponse__Output> {
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(this.closed);
      if (this.hasRoom) this.write(request, resolve, reject);
      else this.queued.push({ request, resolve, reject });
    });
  }

  private write(request: Request, resolve: Waiting['resolve'], reject: Waiting['reject']): void {
    const seq = ++this.seq;
    this.written.push({ seq, resolve, reject });
    const bytes = Buffer.isBuffer(request) ? withSeq(seq, request) : this.serialize({ ...request, seq });
    if (!this.call.write(bytes)) this.blocked = true;
  }

  private answer(r: SessionResponse__Output): void {
    const sent = this.written.shift();
    // a Long; seqs we send stay far below 2^53
    const seq = r.seq.toNumber();
    if (!sent || seq !== sent.seq) {
      const expected = sent ? `seq ${sent.seq}` : 'no response';
      if (sent) this.written.unshift(sent);
      this.fail(new SessionClosedError(`the sidecar answered seq ${seq} where ${expected} was due`, status.INTERNAL));
      this.call.cancel();
      return;
    }
    sent.resolve(r);
    this.pump();
  }

  /** Writes waiting requests while there is room, then wakes whoever waits for room. */
  private pump(): void {
    while (!this.blocked && this.written.length < this.maxInFlight && this.queued.length > 0) {
      const next = this.queued.shift()!;
      this.write(next.request, next.resolve, next.reject);
    }
    this.notify();
  }

  private fail(err: SessionClosedError): void {
    if (this.closed) return;
    this.closed = err;
    const waiting = [...this.written, ...this.queued];
    this.written.length = 0;
    this.queued.length = 0;
    for (const w of waiting) w.reject(err);
    this.notify();
  }

  private notify(): void {
    if (this.wake.length === 0) return;
    const wake = this.wake;
    this.wake = [];
    for (const w of wake) w();
  }
}

/** `body` with `seq = n` (field 1, varint) in front: one allocation and one copy. */
export function withSeq(seq: number, body: Buffer): Buffer {
  let n = seq;
  let len = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    len++;
  }
  const out = Buffer.allocUnsafe(1 + len + body.length);
  out[0] = 0x08;
  n = seq;
  let i = 1;
  while (n >= 0x80) {
    out[i++] = (n % 128) | 0x80;
    n = Math.floor(n / 128);
  }
  out[i++] = n;
  body.copy(out, i);
  return out;
}
