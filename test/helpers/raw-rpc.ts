/**
 * Calls the sidecar with raw request bytes (anything a hostile or broken
 * client could send), and hostile messages to send.
 */
import { Client, credentials, Metadata, type ClientDuplexStream, type ServiceError } from '@grpc/grpc-js';
import type { ServiceDefinition } from '@grpc/grpc-js';
import type { SessionResponse__Output } from '../../src/generated/telemetry/sidecar/v1/SessionResponse.js';
import { loadPackageDefinition } from '../../src/wire/protos.js';

const service = loadPackageDefinition()['telemetry.sidecar.v1.TelemetrySidecar'] as ServiceDefinition;
const identity = (b: Buffer) => b;

/** Encodes a request with the product's proto (for the valid requests mixed in). */
export function encodeRequest(method: string, request: object): Buffer {
  return service[method]!.requestSerialize(request);
}

export class RawClient {
  private readonly client: Client;

  constructor(
    target: string,
    private readonly token?: string,
  ) {
    // the channel's own send limit must not stop what a hostile client can send
    this.client = new Client(target, credentials.createInsecure(), { 'grpc.max_send_message_length': -1 });
  }

  private metadata(): Metadata {
    const metadata = new Metadata();
    if (this.token !== undefined) metadata.set('authorization', this.token);
    return metadata;
  }

  /** A unary call with raw request bytes; resolves with the decoded response, rejects with the ServiceError. */
  unary<T = unknown>(method: string, bytes: Buffer): Promise<T> {
    const m = service[method]!;
    return new Promise((resolve, reject) =>
      this.client.makeUnaryRequest(
        m.path,
        identity,
        (b: Buffer) => m.responseDeserialize(b) as T,
        bytes,
        this.metadata(),
        (err: ServiceError | null, res?: T) => (err ? reject(err) : resolve(res as T)),
      ),
    );
  }

  /** A Session stream that sends raw bytes; responses are decoded. */
  session(): RawSession {
    const m = service.Session!;
    return new RawSession(
      this.client.makeBidiStreamRequest(
        m.path,
        identity,
        (b: Buffer) => m.responseDeserialize(b) as SessionResponse__Output,
        this.metadata(),
      ),
    );
  }

  close(): void {
    this.client.close();
  }
}

export class RawSession {
  readonly responses: SessionResponse__Output[] = [];
  /** Settles when the server ends the stream: resolves on OK, rejects with its status. */
  readonly ended: Promise<void>;
  private readonly waiters: { count: number; resolve: () => void }[] = [];

  constructor(readonly call: ClientDuplexStream<Buffer, SessionResponse__Output>) {
    call.on('data', (r: SessionResponse__Output) => {
      this.responses.push(r);
      for (const w of this.waiters.filter((w) => this.responses.length >= w.count)) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve();
      }
    });
    this.ended = new Promise((resolve, reject) => {
      call.on('end', resolve);
      call.on('error', reject);
    });
    // the test decides what to await; an unobserved end must not be an unhandled rejection
    this.ended.catch(() => {});
  }

  /** Sends the bytes and resolves with the response to them (responses come one per request, in order). */
  send(bytes: Buffer): Promise<SessionResponse__Output> {
    const index = this.responses.length + this.waiters.length;
    this.call.write(bytes);
    return new Promise((resolve) =>
      this.waiters.push({ count: index + 1, resolve: () => resolve(this.responses[index]!) }),
    );
  }

  end(): Promise<void> {
    this.call.end();
    return this.ended;
  }
}

/**
 * The decode-amplification attack: a TrackStatsRequest body of `entries`
 * tiny stats, each `TrackStat{stat: AnalyticsStat{streams: [{}]}}` in 6 bytes
 * (699,040 of them fill 4 MiB and once decoded to ~360 MB of objects).
 */
export function amplifyingStats(entries: number): Buffer {
  const entry = Buffer.from([0x0a, 0x04, 0x2a, 0x02, 0x52, 0x00]);
  return Buffer.concat(Array.from({ length: entries }, () => entry));
}

/** A SessionRequest{seq, stats: body} around an encoded TrackStatsRequest body. */
export function sessionStatsRequest(seq: number, body: Buffer): Buffer {
  return Buffer.concat([encodeRequest('Session', { seq }), Buffer.from([0x2a]), varint(body.length), body]);
}

function varint(value: number): Buffer {
  const out: number[] = [];
  while (value > 127) {
    out.push((value & 127) | 128);
    value >>>= 7;
  }
  out.push(value);
  return Buffer.from(out);
}
