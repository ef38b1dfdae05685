/**
 * One Session stream of the load generator: requests go out as pre-encoded
 * buffers through the SessionClient's fast path, and each stats ack's latency
 * is measured from the moment its request was written.
 */
import type { Client } from '@grpc/grpc-js';
import { SessionClient } from '../client/session-client.js';
import type { SessionResponse__Output } from '../generated/telemetry/sidecar/v1/SessionResponse.js';
import type { LatencyRecorder } from './latency.js';

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
  private readonly session: SessionClient;
  private failed: Error | undefined;
  /** Settles when every request sent so far is answered (or the stream failed). */
  private last: Promise<unknown> = Promise.resolve();

  constructor(
    client: Client,
    token: string | undefined,
    private readonly latency: LatencyRecorder,
    private readonly statsPerMessage: number,
    maxInFlight: number,
  ) {
    this.session = new SessionClient(client, { maxInFlight, ...(token !== undefined && { token }) });
  }

  get inFlight(): number {
    return this.session.inFlight;
  }

  /** A message sent now is written at once. */
  get canSend(): boolean {
    return this.session.hasRoom;
  }

  /** Resolves when a message sent now is written at once; rejects if the stream failed. */
  room(): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    return this.session.ready();
  }

  send(body: Buffer, kind: MessageKind): void {
    if (this.failed) throw this.failed;
    const sentAt = performance.now();
    this.counts.messagesSent++;
    if (kind === 'stats') this.counts.statsSent += this.statsPerMessage;
    this.last = this.session.sendEncoded(body).then(
      (r) => this.onResponse(r, kind, sentAt),
      (err: Error) => this.fail(err),
    );
  }

  /** Sends once a message can be written at once. */
  async sendPaced(body: Buffer, kind: MessageKind): Promise<void> {
    await this.room();
    this.send(body, kind);
  }

  /** Resolves once every message sent has been answered; rejects if the stream failed. */
  async settled(): Promise<void> {
    await this.last;
    if (this.failed) throw this.failed;
  }

  async end(): Promise<void> {
    await this.last;
    await this.session.end().catch((err: Error) => this.fail(err));
    if (this.failed) throw this.failed;
  }

  cancel(): void {
    this.session.cancel();
  }

  private onResponse(r: SessionResponse__Output, kind: MessageKind, sentAt: number): void {
    const c = this.counts;
    if (r.error) {
      c.streamErrors++;
      this.firstError ??= `${kind}: ${r.error.message} (code ${r.error.code})`;
    } else if (r.stats) {
      c.statsAcked += this.statsPerMessage;
      c.accepted += r.stats.accepted;
      c.invalid += r.stats.invalid;
      c.noWorker += r.stats.noWorker;
    } else if (r.activate) c.activations++;
    else if (r.release) c.releases++;
    if (kind === 'stats') {
      const now = performance.now();
      this.latency.record(now, now - sentAt);
    }
  }

  private fail(err: Error): void {
    this.failed ??= err;
    this.firstError ??= err.message;
  }
}
