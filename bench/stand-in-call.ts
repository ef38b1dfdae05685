/**
 * The part of grpc-js's ServerDuplexStream a Session uses, for driving a
 * real Session in process (bench/inprocess.ts, bench/ndjson-flush.ts).
 */
import { EventEmitter } from 'node:events';
import type { SessionResponse } from '../src/generated/telemetry/sidecar/v1/SessionResponse.js';
import type { SessionCall } from '../src/service/session.js';

export class StandInCall extends EventEmitter {
  written = 0;
  onWrite: (() => void) | undefined;

  write(response: SessionResponse): boolean {
    this.record(response);
    this.written++;
    this.onWrite?.();
    return true;
  }

  /** What a subclass measures of each response. */
  protected record(_response: SessionResponse): void {}

  getPeer(): string {
    return 'in-process';
  }
  pause(): this {
    return this;
  }
  resume(): this {
    return this;
  }
  end(): this {
    return this;
  }

  get asSessionCall(): SessionCall {
    return this as unknown as SessionCall;
  }
}
