/**
 * A real Session and SidecarService driven in process, without grpc-js
 * (bench/inprocess.ts, bench/ndjson-flush.ts).
 */
import { EventEmitter } from 'node:events';
import pino from 'pino';
import { buildPlan, type StreamPlan } from '../src/cli/loadgen-plan.js';
import { withSeq } from '../src/client/session-client.js';
import type { WorkerRegistry } from '../src/core/registry.js';
import type { SessionResponse } from '../src/generated/telemetry/sidecar/v1/SessionResponse.js';
import { LogRateLimiter, workerLogFields } from '../src/observe/log.js';
import type { SidecarMetrics } from '../src/observe/metrics.js';
import { MemoryGuard } from '../src/service/memory-guard.js';
import { Session, type SessionCall } from '../src/service/session.js';
import { SidecarService, type SidecarServiceDeps } from '../src/service/sidecar.js';

export const silentLogger = pino({ level: 'silent' });

export const TRACKS = 10;
export const STATS_PER_MESSAGE = 100;

/** The load generator's own requests for one stream: `participants` × 10 tracks, 100 stats per request, rooms of 10. */
export function benchPlan(participants: number, runId: string, nowMs: number): StreamPlan {
  return buildPlan({
    participants,
    tracks: TRACKS,
    statsPerMessage: STATS_PER_MESSAGE,
    streams: 1,
    roomSize: 10,
    runId,
    nowMs,
  })[0]!;
}

/** The part of grpc-js's ServerDuplexStream a Session uses. */
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
}

/** A SidecarService as the server builds one: silent, no memory limit. */
export function benchService(
  registry: WorkerRegistry,
  metrics: SidecarMetrics,
  flush: SidecarServiceDeps['flush'],
): SidecarService {
  return new SidecarService({
    registry,
    flush,
    memory: new MemoryGuard({ limitBytes: undefined, logger: silentLogger }),
    metrics,
    logger: silentLogger,
    invalidStatLog: new LogRateLimiter(10, 60_000),
    workerFields: workerLogFields,
    leaseGraceMs: 60_000,
    flushWaitMs: 1_000,
  });
}

export interface BenchSession {
  /** Numbers the bodies' seq (from 1 on, across calls), sends them, and resolves once each has its response. */
  send(bodies: readonly Buffer[]): Promise<void>;
  /** Sends requests already encoded with their seq, and resolves once each has its response. */
  sendEncoded(requests: readonly Buffer[]): Promise<void>;
}

/** A Session on `call` (it slices long bursts across event-loop turns: every send waits for all its responses). */
export function benchSession(call: StandInCall, service: SidecarService): BenchSession {
  new Session(call as unknown as SessionCall, service, silentLogger, () => undefined);
  let seq = 1;
  const sendEncoded = (requests: readonly Buffer[]) => {
    const target = call.written + requests.length;
    return new Promise<void>((resolve) => {
      call.onWrite = () => {
        if (call.written === target) resolve();
      };
      for (const request of requests) call.emit('data', request);
    });
  };
  return { send: (bodies) => sendEncoded(bodies.map((body) => withSeq(seq++, body))), sendEncoded };
}
