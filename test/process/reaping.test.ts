/** The process helpers leave no child behind when a test ends without stopping it (a failure, a timeout). */
import type { ChildProcess } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { spawnMain } from '../helpers/process.js';

let leftBehind: ChildProcess | undefined;
let leftExited: Promise<number | null> | undefined;

describe('process helpers', () => {
  it('start a sidecar and end the test without stopping it', async () => {
    const p = spawnMain(['--grpc-addr', '127.0.0.1:0', '--http-addr', '127.0.0.1:0'], { SIDECAR_UPSTREAM: 'stdout:' });
    await p.line(/"telemetry-sidecar serving"/);
    leftBehind = p.child;
    leftExited = p.exited;
  });

  it('have killed it when that test ended', async () => {
    expect(leftBehind?.pid, 'the first test ran').toBeGreaterThan(0);
    await leftExited;
    expect(leftBehind!.signalCode).toBe('SIGKILL');
  });
});
