/**
 * One SFU's long-lived Session stream. Requests are handled strictly in
 * order, one response each with the same seq; a refused request (malformed,
 * over a limit, invalid) gets a StreamError and the stream goes on.
 * Requests wait here as bytes and are decoded one at a time as they are
 * handled, so a stream holds at most one decoded request. Backpressure is
 * end to end: while a response cannot be written (or a Flush is awaited) the
 * stream stops reading, so HTTP/2 flow control holds the client back and a
 * slow or stuck client cannot grow our memory.
 */
import { randomUUID } from 'node:crypto';
import type { ServerDuplexStream } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { SidecarError } from '../core/errors.js';
import type { Hello__Output } from '../generated/telemetry/sidecar/v1/Hello.js';
import type { HelloResponse } from '../generated/telemetry/sidecar/v1/HelloResponse.js';
import type { SessionResponse } from '../generated/telemetry/sidecar/v1/SessionResponse.js';
import { SESSION_REQUEST } from '../wire/fields.js';
import { countSessionStats, peekSessionRequest } from '../wire/request-scan.js';
import { decodeSessionRequest, type Seq } from '../wire/session-decoder.js';
import { requireId } from './requests.js';
import type { PendingTrackStats, SidecarService } from './sidecar.js';
import { isUnexpected, toStatus } from './status.js';

export type SessionCall = ServerDuplexStream<Buffer, SessionResponse>;

/**
 * A burst of requests is answered in slices of this many milliseconds, so
 * one busy stream cannot hold the event loop: the SFU's other streams and
 * the flush slices get their turn.
 */
const PUMP_SLICE_MS = 2;

export class Session {
  private clientId = `anon-${randomUUID()}`;
  private named = false;
  private readonly backlog: Buffer[] = [];
  private busy = false;
  private holds = 0;
  private inputEnded = false;
  private deferred = false;
  /** End of this turn's slice (performance.now()); 0 when no slice is open. */
  private sliceEnd = 0;
  private closed = false;

  constructor(
    private readonly call: SessionCall,
    private readonly service: SidecarService,
    private readonly logger: Logger,
    private readonly onClose: (session: Session) => void,
  ) {
    service.leases.attach(this.clientId);
    call.on('data', (req: Buffer) => {
      this.backlog.push(req);
      this.pump();
    });
    call.on('end', () => {
      this.inputEnded = true;
      this.pump();
    });
    call.on('error', (err: Error) => this.close(`error: ${err.message}`));
    call.on('cancelled', () => this.close('cancelled by client'));
    call.on('close', () => this.close('closed'));
    logger.info({ clientId: this.clientId, peer: call.getPeer() }, 'session stream opened');
  }

  /** Server shutdown: answer what was received, then end the stream with OK. */
  end(): void {
    this.inputEnded = true;
    this.call.pause();
    this.pump();
  }

  private pump(): void {
    if (this.deferred) return;
    while (!this.busy && !this.closed && this.backlog.length > 0) {
      if (!this.inSlice()) {
        this.defer();
        return;
      }
      const req = this.backlog.shift()!;
      const response = this.handle(req);
      if (response instanceof Promise) {
        this.busy = true;
        this.hold();
        void response.then((resolved) => {
          this.busy = false;
          this.write(resolved);
          this.unhold();
          this.pump();
        });
        return;
      }
      this.write(response);
    }
    if (this.inputEnded && !this.busy && !this.closed && this.backlog.length === 0) {
      this.call.end();
      this.close('ended');
    }
  }

  /** Never throws or rejects: every failure becomes a StreamError response. */
  private handle(buf: Buffer): SessionResponse | Promise<SessionResponse> {
    // the seq and member are read without decoding, so a refused message still gets its seq
    const { seq, member } = peekSessionRequest(buf);
    try {
      if (member === SESSION_REQUEST.stats) return { seq, stats: this.service.trackStats(sessionStats(buf)) };
      const req = decodeSessionRequest(buf);
      switch (req.request) {
        case 'hello':
          return { seq, hello: this.hello(req.hello!) };
        case 'activate':
          return { seq, activate: this.service.activate(req.activate!, this.clientId) };
        case 'release':
          return { seq, release: this.service.release(req.release!) };
        case 'stats': {
          // the peek routes stats before decoding; this is reached only if the two ever disagree
          const stats = req.stats!;
          return { seq, stats: this.service.trackStats({ decode: () => stats, count: () => stats.stats.length }) };
        }
        case 'flush':
          return this.service.flush(req.flush!).then(
            (flush) => ({ seq, flush }),
            (err: unknown) => this.error(seq, err),
          );
        default:
          throw new SidecarError('INVALID_ARGUMENT', 'SessionRequest has no request set');
      }
    } catch (err) {
      return this.error(seq, err);
    }
  }

  private hello(hello: Hello__Output): HelloResponse {
    const clientId = requireId(hello.clientId, 'hello.client_id');
    if (this.named) {
      throw new SidecarError('INVALID_ARGUMENT', `hello was already sent on this stream (client_id=${this.clientId})`);
    }
    this.named = true;
    const adoptedGuards = this.service.leases.rename(this.clientId, clientId);
    this.logger.info({ clientId, previous: this.clientId, adoptedGuards }, 'session hello');
    this.clientId = clientId;
    return { adoptedGuards };
  }

  /**
   * One socket read can hand us dozens of requests, each in its own 'data'
   * event: the first of an event-loop turn opens a slice, and once the slice
   * is used up the rest wait for the next turn. The first always goes
   * through, so a slow clock or a long GC cannot stop progress.
   */
  private inSlice(): boolean {
    const now = performance.now();
    if (this.sliceEnd === 0) {
      this.sliceEnd = now + PUMP_SLICE_MS;
      setImmediate(() => (this.sliceEnd = 0));
      return true;
    }
    return now < this.sliceEnd;
  }

  /** Lets the rest of the process (flush slices, other streams, timers) run before the backlog goes on. */
  private defer(): void {
    this.deferred = true;
    this.hold();
    setImmediate(() => {
      this.deferred = false;
      this.unhold();
      this.pump();
    });
  }

  private error(seq: Seq, err: unknown): SessionResponse {
    const { code, details } = toStatus(err);
    if (isUnexpected(err)) this.logger.error({ err, clientId: this.clientId }, 'session request failed');
    return { seq, error: { code, message: details } };
  }

  private write(response: SessionResponse): void {
    if (this.closed) return;
    if (!this.call.write(response)) {
      this.hold();
      this.call.once('drain', () => this.unhold());
    }
  }

  private hold(): void {
    if (this.holds++ === 0) this.call.pause();
  }

  private unhold(): void {
    if (--this.holds === 0 && !this.closed && !this.inputEnded) this.call.resume();
  }

  private close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.backlog.length = 0;
    this.service.leases.detach(this.clientId);
    this.onClose(this);
    this.logger.info({ clientId: this.clientId, reason }, 'session stream closed');
  }
}

/** The stats of a Session message whose `request` is `stats`, decoded once admitted. */
function sessionStats(buf: Buffer): PendingTrackStats {
  return { decode: () => decodeSessionRequest(buf).stats!, count: () => countSessionStats(buf) };
}
