/**
 * One Session stream of the load generator over a raw grpc-js call: requests
 * go out as pre-encoded buffers (identity serializer), responses come back in
 * order (SPEC §2), so a FIFO of send times gives each ack its latency.
 */
import type { Client, ClientDuplexStream, Metadata, ServiceDefinition } from '@grpc/grpc-js';
import type { SessionResponse__Output } from '../generated/telemetry/sidecar/v1/SessionResponse.js';
import { loadPackageDefinition } from '../wire/protos.js';
import type { LatencyRecorder } from './latency.js';
import { withSeq } from './loadgen-plan.js';

export type MessageKind = 'hello' | 'activate' | 'release' | 'stats';

export interface StreamCounts {
  messagesSent: number;
  statsSent: number;
  /** Stats in TrackStats requests that got a TrackStats response (not a StreamError). */
  statsAcked: number;
  accepted: number;
  invalid: number;
  noWorker: number;
  /** Responses carrying a StreamError. */
  streamErrors: number;
  activations: number;
  releases: number;
}

interface Pending {
  sentAt: number;
  kind: MessageKind;
  seq: number;
}

const SERVICE = 'telemetry.sidecar.v1.TelemetrySidecar';

export function zeroCounts(): StreamCounts {
  return {
    messagesSent: 0,
    statsSent: 0,
    statsAcked: 0,
    accepted: 0,
    invalid: 0,
    noWorker: 0,
    streamErrors: 0,
    activations: 0,
    releases: 0,
  };
}

export class LoadStream {
  readonly counts: StreamCounts = zeroCounts();
  /** The first StreamError or stream failure, for the report. */
  firstError: string | undefined;
  private readonly call: ClientDuplexStream<Buffer, SessionResponse__Output>;
  private readonly pending: Pending[] = [];
  private seq = 0;
  private blocked = false;
  private failed: Error | undefined;
  private wake: (() => void)[] = [];
  private readonly ended: Promise<void>;

  constructor(
    client: Client,
    metadata: Metadata,
    private readonly latency: LatencyRecorder,
    private readonly statsPerMessage: number,
  ) {
    const method = (loadPackageDefinition()[SERVICE] as ServiceDefinition).Session!;
    this.call = client.makeBidiStreamRequest(
      method.path,
      (body: Buffer) => body,
      method.responseDeserialize as (bytes: Buffer) => SessionResponse__Output,
      metadata,
    );
    this.call.on('data', (r: SessionResponse__Output) => this.onResponse(r));
    this.call.on('drain', () => {
      this.blocked = false;
      this.notify();
    });
    this.ended = new Promise((resolve) => {
      this.call.on('end', () => {
        if (this.pending.length > 0)
          this.fail(new Error(`stream ended with ${this.pending.length} requests unanswered`));
        resolve();
      });
      this.call.on('error', (err: Error) => {
        this.fail(err);
        resolve();
      });
    });
  }

  get inFlight(): number {
    return this.pending.length;
  }

  /** Room for one more message under `maxInFlight`, and the transport is not pushing back. */
  canSend(maxInFlight: number): boolean {
    return !this.blocked && this.pending.length < maxInFlight;
  }

  send(body: Buffer, kind: MessageKind): void {
    if (this.failed) throw this.failed;
    const seq = ++this.seq;
    this.pending.push({ sentAt: performance.now(), kind, seq });
    this.counts.messagesSent++;
    if (kind === 'stats') this.counts.statsSent += this.statsPerMessage;
    if (!this.call.write(withSeq(seq, body))) this.blocked = true;
  }

  /** Resolves on the next ack or drain (or at once if the stream failed); rejects if it failed. */
  async room(): Promise<void> {
    if (this.failed) throw this.failed;
    await new Promise<void>((resolve) => this.wake.push(resolve));
    if (this.failed) throw this.failed;
  }

  /** Sends and waits until at most `maxInFlight` are unacknowledged. */
  async sendPaced(body: Buffer, kind: MessageKind, maxInFlight: number): Promise<void> {
    while (!this.canSend(maxInFlight)) await this.room();
    this.send(body, kind);
  }

  /** Resolves once every message sent has been answered. */
  async settled(): Promise<void> {
    while (this.pending.length > 0) await this.room();
  }

  async end(): Promise<void> {
    await this.settled().catch(() => undefined);
    this.call.end();
    await this.ended;
    if (this.failed) throw this.failed;
  }

  cancel(): void {
    this.call.cancel();
  }

  private onResponse(r: SessionResponse__Output): void {
    const now = performance.now();
    const sent = this.pending.shift();
    if (!sent || r.seq.toNumber() !== sent.seq) {
      this.fail(new Error(`response out of order: got seq ${r.seq.toString()}, expected ${sent?.seq ?? 'none'}`));
      return;
    }
    const c = this.counts;
    if (r.error) {
      c.streamErrors++;
      this.firstError ??= `${sent.kind}: ${r.error.message} (code ${r.error.code})`;
    } else if (r.stats) {
      c.statsAcked += this.statsPerMessage;
      c.accepted += r.stats.accepted;
      c.invalid += r.stats.invalid;
      c.noWorker += r.stats.noWorker;
    } else if (r.activate) c.activations++;
    else if (r.release) c.releases++;
    if (sent.kind === 'stats') this.latency.record(now, now - sent.sentAt);
    this.notify();
  }

  private fail(err: Error): void {
    this.failed ??= err;
    this.firstError ??= err.message;
    this.notify();
  }

  private notify(): void {
    const wake = this.wake;
    if (wake.length === 0) return;
    this.wake = [];
    for (const w of wake) w();
  }
}
