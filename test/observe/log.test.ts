import { describe, expect, it } from 'vitest';
import { StreamType } from '../../src/core/analytics.js';
import { WorkerRegistry } from '../../src/core/registry.js';
import {
  createLogger,
  isLogLevel,
  LogRateLimiter,
  trackLogFields,
  warnLimited,
  workerLogFields,
} from '../../src/observe/log.js';
import { sample } from '../helpers/stats.js';

/** A pino destination that keeps each line. */
function capture(): { lines: string[]; records: () => Record<string, unknown>[]; write(line: string): void } {
  const lines: string[] = [];
  return {
    lines,
    write: (line: string) => void lines.push(line),
    records: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

const who = { roomId: 'RM_1', roomName: 'standup', participantId: 'PA_1', participantIdentity: 'alice' };

describe('createLogger', () => {
  it('writes one JSON object per line with level name, ISO time and message', () => {
    const out = capture();
    const log = createLogger('info', out);
    log.info({ roomID: 'RM_1' }, 'worker created');
    log.warn('upstream unavailable');
    expect(out.lines).toHaveLength(2);
    for (const line of out.lines) expect(line.endsWith('\n')).toBe(true);
    const [created, warned] = out.records();
    expect(created).toMatchObject({
      level: 'info',
      msg: 'worker created',
      roomID: 'RM_1',
      service: 'telemetry-sidecar',
    });
    expect(warned).toMatchObject({ level: 'warn', msg: 'upstream unavailable' });
    expect(new Date(String(created?.time)).toISOString()).toBe(created?.time);
  });

  it('drops lines below the level', () => {
    const out = capture();
    const log = createLogger('warn', out);
    log.info('hidden');
    log.debug('hidden');
    log.error('shown');
    expect(out.records().map((r) => r.msg)).toEqual(['shown']);
  });

  it('refuses an unknown level', () => {
    expect(() => createLogger('verbose', capture())).toThrow(
      'log level must be one of trace, debug, info, warn, error, fatal, silent; got "verbose"',
    );
    expect(isLogLevel('debug')).toBe(true);
    expect(isLogLevel('INFO')).toBe(false);
  });
});

describe('workerLogFields', () => {
  it("names an open worker's fields as LiveKit logs them", () => {
    const registry = new WorkerRegistry({ closeWaitMs: 1_000, maxWorkers: 10, maxTracksPerWorker: 10 });
    const { worker } = registry.activate({ ...who, guardId: 'g0', connected: true });
    expect(workerLogFields(worker.info())).toEqual({
      room: 'standup',
      roomID: 'RM_1',
      participant: 'alice',
      participantID: 'PA_1',
      isConnected: true,
      closedAt: null,
      refCount: 1,
    });
  });

  it('gives closedAt as an ISO time once closed, and survives a JSON log line', () => {
    const registry = new WorkerRegistry({ closeWaitMs: 1_000, maxWorkers: 10, maxTracksPerWorker: 10 });
    registry.activate({ ...who, guardId: 'g0', connected: false });
    const { worker } = registry.release(
      { roomId: 'RM_1', participantId: 'PA_1', guardId: 'g0' },
      Date.UTC(2024, 5, 1, 12, 0, 0, 250),
    );
    const out = capture();
    createLogger('info', out).info(workerLogFields(worker!.info()), 'worker closed');
    expect(out.records()[0]).toMatchObject({
      msg: 'worker closed',
      room: 'standup',
      roomID: 'RM_1',
      participant: 'alice',
      participantID: 'PA_1',
      isConnected: false,
      closedAt: '2024-06-01T12:00:00.250Z',
      refCount: 0,
    });
  });
});

describe('trackLogFields', () => {
  it('identifies the stat without its payload', () => {
    const fields = trackLogFields({
      roomId: 'RM_1',
      participantId: 'PA_1',
      trackId: 'TR_1',
      kind: StreamType.DOWNSTREAM,
      stat: sample(),
    });
    expect(fields).toEqual({ roomID: 'RM_1', participantID: 'PA_1', trackID: 'TR_1', kind: 'DOWNSTREAM' });
  });
});

describe('LogRateLimiter', () => {
  it('allows at most N per interval and counts the rest', () => {
    let now = 0;
    const limiter = new LogRateLimiter(3, 1_000, () => now);
    const allowed = Array.from({ length: 10 }, () => limiter.allow());
    expect(allowed).toEqual([true, true, true, false, false, false, false, false, false, false]);
    expect(limiter.takeSuppressed()).toBe(7);
    expect(limiter.takeSuppressed()).toBe(0);
    now = 999;
    expect(limiter.allow()).toBe(false);
    now = 1_000;
    expect([limiter.allow(), limiter.allow(), limiter.allow(), limiter.allow()]).toEqual([true, true, true, false]);
    expect(limiter.takeSuppressed()).toBe(2);
  });

  it('caps a flood of invalid-stat warnings and reports how many were suppressed', () => {
    let now = 0;
    const limiter = new LogRateLimiter(5, 10_000, () => now);
    const out = capture();
    const log = createLogger('info', out);
    const fields = { roomID: 'RM_1', participantID: 'PA_1', trackID: 'TR_1', kind: 'UPSTREAM' };
    for (let i = 0; i < 100_000; i++) warnLimited(log, limiter, fields, 'invalid track stat');
    expect(out.lines).toHaveLength(5);
    expect(out.records().every((r) => r.suppressed === undefined && r.level === 'warn')).toBe(true);

    now = 10_000;
    expect(warnLimited(log, limiter, fields, 'invalid track stat')).toBe(true);
    expect(out.records()[5]).toMatchObject({ ...fields, msg: 'invalid track stat', suppressed: 99_995 });
  });
});
