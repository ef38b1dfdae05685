/**
 * The container runtime stops reading the sidecar's stdout (a full node disk,
 * a stuck log agent): the sidecar keeps answering, holds a bounded number of
 * log bytes, counts every line it drops, and still exits on SIGTERM
 * (docs/metrics.md, "Logs").
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSidecarClient, type TelemetrySidecarClient } from '../../src/client/sidecar-client.js';
import { LOG_BUFFER_BYTES, LOG_DROPS_METRIC } from '../../src/observe/log-output.js';
import { spawnSidecar, type RunningSidecar } from '../helpers/process.js';
import { unary } from '../helpers/rpc.js';
import { scrape } from '../helpers/scrape.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sidecar-stalled-log-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Each Activate of a new participant logs one "worker created" line (~300 bytes). */
async function activate(client: TelemetrySidecarClient, from: number, count: number): Promise<void> {
  const inFlight = 200;
  for (let i = from; i < from + count; i += inFlight) {
    const calls = [];
    for (let j = i; j < Math.min(i + inFlight, from + count); j++) {
      calls.push(unary(client, client.Activate, { roomId: 'R', participantId: `P${j}`, guardId: 'g' }));
    }
    await Promise.all(calls);
  }
}

const created = (sidecar: RunningSidecar) =>
  sidecar
    .output()
    .split('\n')
    .filter((l) => l.includes('"worker created"'));

/** A sidecar and a client of it for `run`; the client is closed after, whatever happens. */
async function withSidecar(run: (sidecar: RunningSidecar, client: TelemetrySidecarClient) => Promise<void>) {
  const sidecar = await spawnSidecar(dir);
  const client = createSidecarClient(`127.0.0.1:${sidecar.grpcPort}`);
  try {
    await run(sidecar, client);
  } finally {
    client.close();
  }
}

/** SIGTERM ends the process, with 0, within 10 s (not when a stalled pipe would let it). */
async function stopsOnSigterm(sidecar: RunningSidecar): Promise<void> {
  sidecar.child.kill('SIGTERM');
  const late = sleep(10_000, 'still running 10 s after SIGTERM', { ref: false });
  expect(await Promise.race([sidecar.exited, late])).toBe(0);
}

describe('a stdout nobody reads', () => {
  it(
    'bounds the lines held, counts the ones dropped, and lets the process exit',
    () =>
      withSidecar(async (sidecar, client) => {
        // the pipe fills (the kernel's buffer, then ours): every later line waits in the sidecar
        sidecar.child.stdout.pause();
        // twice what the buffer holds, so lines must be dropped
        const lines = Math.ceil((2 * LOG_BUFFER_BYTES) / 250);
        await activate(client, 0, lines);
        const dropped = (await scrape(sidecar.httpPort)).value(LOG_DROPS_METRIC);
        expect(dropped).toBeGreaterThan(0);

        // reading again: every line was either written or counted as dropped, none twice
        sidecar.child.stdout.resume();
        await expect.poll(() => created(sidecar).length + dropped!, { timeout: 10_000 }).toBe(lines);
        // and logging goes on
        await activate(client, lines, 1);
        await expect.poll(() => created(sidecar).at(-1), { timeout: 10_000 }).toContain(`"P${lines}"`);
        expect(created(sidecar)).toHaveLength(lines - dropped! + 1);
        // what was held while stalled: the buffer, plus what the pipe and this side's stream had taken
        const heldBytes = created(sidecar)
          .slice(0, -1)
          .reduce((n, l) => n + Buffer.byteLength(l) + 1, 0);
        expect(heldBytes).toBeLessThan(LOG_BUFFER_BYTES + 1024 * 1024);
        expect((await scrape(sidecar.httpPort)).value(LOG_DROPS_METRIC)).toBe(dropped);

        // stalled again with lines waiting: SIGTERM still ends the process (the exit flush waits a second at most)
        sidecar.child.stdout.pause();
        await activate(client, lines + 1, 2_000);
        await stopsOnSigterm(sidecar);
      }),
    60_000,
  );

  it(
    'exits on SIGTERM when the reader goes away while lines wait for it',
    () =>
      withSidecar(async (sidecar, client) => {
        sidecar.child.stdout.pause();
        await activate(client, 0, 2_000);
        // lines wait in the sidecar for a full pipe; its reader goes, and the process is told to stop at once
        sidecar.child.stdout.destroy();
        await stopsOnSigterm(sidecar);
      }),
    60_000,
  );

  it(
    'counts the lines logged after the reader went away (EPIPE), and lets the process exit',
    () =>
      withSidecar(async (sidecar, client) => {
        sidecar.child.stdout.destroy();
        const lines = 3_000;
        await activate(client, 0, lines);
        // the pipe was closed before the first of them: every one is counted, those waiting when a write failed included
        expect((await scrape(sidecar.httpPort)).value(LOG_DROPS_METRIC)).toBe(lines);
        await stopsOnSigterm(sidecar);
      }),
    60_000,
  );
});
