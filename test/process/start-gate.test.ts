/**
 * A sidecar that cannot start must not hold the SFU's pod: with
 * SIDECAR_START_FAILURE=idle it opens its start gate and stays up instead of
 * exiting (an exited native sidecar is restarted and holds the SFU again).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadStartupSettings } from '../../src/config.js';
import { StartGate } from '../../src/observe/start-gate.js';
import { spawnMain } from '../helpers/process.js';

let dir: string;
let busy: Server | undefined;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sidecar-gate-'));
});
afterEach(async () => {
  await new Promise<void>((resolve) => (busy ? busy.close(() => resolve()) : resolve()));
  busy = undefined;
  rmSync(dir, { recursive: true, force: true });
});

/** A TCP port something else already listens on (the hostNetwork case: another process on the node). */
async function occupiedPort(): Promise<number> {
  busy = createServer();
  await new Promise<void>((resolve) => busy!.listen(0, '127.0.0.1', resolve));
  return (busy.address() as { port: number }).port;
}

const IDLING = /not started: idling until terminated/;

describe('SIDECAR_START_FAILURE=idle', () => {
  it('on a bad setting: opens the gate, keeps /healthz up and /readyz down, and exits 2 only on SIGTERM', async () => {
    const started = join(dir, 'gate', 'started');
    const p = spawnMain(['--http-addr', '127.0.0.1:0'], {
      SIDECAR_START_FAILURE: 'idle',
      SIDECAR_STARTED_FILE: started,
      SIDECAR_FLUSH_INTERVAL: '0s',
      SIDECAR_UPSTREAM: `file:${join(dir, 'stats.ndjson')}`,
    });
    const line = JSON.parse(await p.line(IDLING)) as { exitCode: number; httpPort: number };
    expect(p.output()).toContain('telemetry-sidecar: SIDECAR_FLUSH_INTERVAL: must be greater than zero');
    expect(line.exitCode).toBe(2);
    expect(readFileSync(started, 'utf8')).toBe('start_failed\n');
    expect((await fetch(`http://127.0.0.1:${line.httpPort}/healthz`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${line.httpPort}/readyz`)).status).toBe(503);
    expect((await fetch(`http://127.0.0.1:${line.httpPort}/metrics`)).status).toBe(503);
    expect(p.child.exitCode).toBeNull();
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(2);
  });

  it('when its gRPC port is taken: opens the gate and stays up', async () => {
    const port = await occupiedPort();
    const started = join(dir, 'started');
    const p = spawnMain(['--grpc-addr', `127.0.0.1:${port}`, '--http-addr', '127.0.0.1:0'], {
      SIDECAR_START_FAILURE: 'idle',
      SIDECAR_STARTED_FILE: started,
      SIDECAR_UPSTREAM: `file:${join(dir, 'stats.ndjson')}`,
    });
    // a port that cannot be bound is a setting to change: exit code 2, as at any startup failure
    const line = JSON.parse(await p.line(IDLING)) as { exitCode: number };
    expect(line.exitCode).toBe(2);
    expect(readFileSync(started, 'utf8')).toBe('start_failed\n');
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(2);
  });

  it('when even its HTTP port is taken: opens the gate and stays up without HTTP', async () => {
    const port = await occupiedPort();
    const started = join(dir, 'started');
    const p = spawnMain(['--grpc-addr', '127.0.0.1:0', '--http-addr', `127.0.0.1:${port}`], {
      SIDECAR_START_FAILURE: 'idle',
      SIDECAR_STARTED_FILE: started,
      SIDECAR_UPSTREAM: `file:${join(dir, 'stats.ndjson')}`,
    });
    const line = JSON.parse(await p.line(IDLING)) as { httpPort: number | null };
    expect(line.httpPort).toBeNull();
    expect(existsSync(started)).toBe(true);
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(2);
  });
});

describe('the start gate file', () => {
  it('says "serving" once the sidecar serves, after removing one left by an earlier run', async () => {
    const started = join(dir, 'started');
    await new StartGate(started).open('start_failed');
    const p = spawnMain(['--grpc-addr', '127.0.0.1:0', '--http-addr', '127.0.0.1:0'], {
      SIDECAR_START_FAILURE: 'idle',
      SIDECAR_STARTED_FILE: started,
      SIDECAR_UPSTREAM: `file:${join(dir, 'stats.ndjson')}`,
    });
    await p.line(/"start gate opened"/);
    expect(readFileSync(started, 'utf8')).toBe('serving\n');
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
  });

  it('is not written, and the process exits 2, with the default SIDECAR_START_FAILURE=exit', async () => {
    const started = join(dir, 'started');
    const p = spawnMain([], { SIDECAR_STARTED_FILE: started, SIDECAR_FLUSH_INTERVAL: '0s' });
    expect(await p.exited).toBe(2);
    expect(existsSync(started)).toBe(false);
  });

  it('opens at the deadline when the sidecar neither serves nor fails', async () => {
    const started = join(dir, 'started');
    const gate = new StartGate(started);
    const deadline = new Promise<void>((resolve) => gate.armDeadline(5, resolve));
    await deadline;
    await gate.open('serving'); // the deadline's own write has started; a later open changes nothing
    expect(readFileSync(started, 'utf8')).toBe('deadline\n');
  });
});

describe('loadStartupSettings', () => {
  it('reads each startup setting on its own, so one bad setting elsewhere does not hide them', () => {
    const env = {
      SIDECAR_START_FAILURE: 'idle',
      SIDECAR_STARTED_FILE: '/data/started',
      SIDECAR_HTTP_ADDR: '[10.0.0.7]:9464',
      SIDECAR_FLUSH_INTERVAL: 'never',
    };
    expect(loadStartupSettings({ env, argv: ['--unknown-flag', 'x'] })).toEqual({
      startFailure: 'idle',
      startedFile: '/data/started',
      httpAddr: { host: '10.0.0.7', port: 9464 },
    });
  });

  it('falls back to exit, no gate and no HTTP when those settings are missing or bad; a flag wins over env', () => {
    expect(
      loadStartupSettings({ env: { SIDECAR_START_FAILURE: 'maybe', SIDECAR_HTTP_ADDR: 'nowhere' }, argv: [] }),
    ).toEqual({
      startFailure: 'exit',
    });
    expect(
      loadStartupSettings({ env: { SIDECAR_START_FAILURE: 'exit' }, argv: ['--start-failure', 'idle'] }).startFailure,
    ).toBe('idle');
  });
});
