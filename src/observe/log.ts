/**
 * Structured JSON logs (pino), worker fields named as LiveKit logs them, and
 * a rate limiter so a flood of bad input cannot flood the log.
 */
import type { Logger } from 'pino';
import type { TrackStatInput } from '../core/registry.js';
import type { WorkerInfo } from '../core/worker.js';
import { StreamType } from '../core/analytics.js';
import { isLogLevel } from '../settings/log-level.js';

export type { Logger } from 'pino';
export { createLogger } from './json-logger.js';
export { isLogLevel };

/** A worker's identity and state under LiveKit's logger field names. */
export interface WorkerLogFields {
  room: string;
  roomID: string;
  participant: string;
  participantID: string;
  isConnected: boolean;
  /** ISO 8601; null while open. */
  closedAt: string | null;
  refCount: number;
}

export function workerLogFields(info: WorkerInfo): WorkerLogFields {
  return {
    room: info.roomName,
    roomID: info.roomId,
    participant: info.participantIdentity,
    participantID: info.participantId,
    isConnected: info.connected,
    closedAt: info.closedAt === null ? null : new Date(info.closedAt).toISOString(),
    refCount: info.refCount,
  };
}

/** Where a track stat came from, for the invalid-stat warning (LiveKit's field names). */
export function trackLogFields(stat: TrackStatInput): {
  roomID: string;
  participantID: string;
  trackID: string;
  kind: 'UPSTREAM' | 'DOWNSTREAM';
} {
  return {
    roomID: stat.roomId,
    participantID: stat.participantId,
    trackID: stat.trackId,
    kind: stat.kind === StreamType.DOWNSTREAM ? 'DOWNSTREAM' : 'UPSTREAM',
  };
}

/**
 * Allows at most `perIntervalMax` lines per fixed window of `intervalMs` and
 * counts the rest, so the next allowed line can say how many were suppressed.
 */
export class LogRateLimiter {
  private windowStart = -Infinity;
  private inWindow = 0;
  private suppressed = 0;

  constructor(
    private readonly perIntervalMax: number,
    /** in milliseconds */
    private readonly intervalMs: number,
    /** milliseconds; injected so tests need no real time */
    private readonly now: () => number = Date.now,
  ) {}

  allow(): boolean {
    const now = this.now();
    if (now - this.windowStart >= this.intervalMs) {
      this.windowStart = now;
      this.inWindow = 0;
    }
    if (this.inWindow < this.perIntervalMax) {
      this.inWindow++;
      return true;
    }
    this.suppressed++;
    return false;
  }

  /** Lines refused since the last call; resets the count. */
  takeSuppressed(): number {
    const n = this.suppressed;
    this.suppressed = 0;
    return n;
  }
}

/**
 * Logs a warning if the limiter allows it, carrying `suppressed` (lines
 * refused since the last one) when there were any. Returns whether it logged.
 */
export function warnLimited(logger: Logger, limiter: LogRateLimiter, fields: object, msg: string): boolean {
  if (!limiter.allow()) return false;
  const suppressed = limiter.takeSuppressed();
  logger.warn(suppressed > 0 ? { ...fields, suppressed } : fields, msg);
  return true;
}
