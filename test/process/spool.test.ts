import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createSidecarClient } from '../../src/client/sidecar-client.js';
import { StreamType } from '../../src/core/analytics.js';
import { DevUpstream } from '../../src/dev/upstream-server.js';
import { spawnSidecar, type RunningSidecar } from '../helpers/process.js';
import { unary } from '../helpers/rpc.js';
import { sample, stream } from '../helpers/stats.js';

let dir: string;
let spoolDir: string;
const cleanup: (() => Promise<unknown> | void)[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sidecar-spool-'));
  spoolDir = join(dir, 'spool');
});
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
  rmSync(dir, { recursive: true, force: true });
});

async function freePort(): Promise<number> {
  const u = new DevUpstream();
  const port = await u.start();
  await u.close();
  return port;
}

async function start(port: number, env: Record<string, string> = {}): Promise<RunningSidecar> {
  const s = await spawnSidecar(dir, {
    SIDECAR_UPSTREAM: `grpc://127.0.0.1:${port}`,
    SIDECAR_SPOOL_DIR: spoolDir,
    SIDECAR_FLUSH_INTERVAL: '1h',
    ...env,
  });
  cleanup.push(() => {
    if (s.child.exitCode === null) s.child.kill('SIGKILL');
  });
  return s;
}

async function upstreamOn(port: number): Promise<DevUpstream> {
  const u = new DevUpstream({ port });
  await u.start();
  cleanup.push(() => u.close());
  return u;
}

/** Activates participants, records one stat per track and flushes (not waiting for delivery). */
async function emit(s: RunningSidecar, participants: number): Promise<number> {
  const client = createSidecarClient(`127.0.0.1:${s.grpcPort}`);
  const stats = [];
  for (let p = 0; p < participants; p++) {
    await unary(client, client.Activate, { roomId: 'R', participantId: `P${p}`, guardId: 'g' });
    stats.push({
      roomId: 'R',
      participantId: `P${p}`,
      trackId: 'T',
      kind: StreamType.UPSTREAM,
      stat: sample({ streams: [stream({ primaryPackets: p })] }),
    });
  }
  await unary(client, client.TrackStats, { stats });
  expect((await unary(client, client.Flush, {})).statsEmitted).toBe(participants);
  client.close();
  return participants;
}

const spooled = () => readdirSync(spoolDir).filter((f) => f.endsWith('.batch'));

describe('the spool across restarts', () => {
  it('replays batches after a SIGKILL once the upstream is reachable', async () => {
    const port = await freePort();
    const first = await start(port, { SIDECAR_BATCH_MAX_STATS: '4' });
    const n = await emit(first, 10);
    await vi.waitFor(() => expect(spooled()).toHaveLength(3));
    first.child.kill('SIGKILL');
    await first.exited;

    const upstream = await upstreamOn(port);
    const second = await start(port);
    await vi.waitFor(() => expect(upstream.received).toHaveLength(n), { timeout: 10_000 });
    expect(new Set(upstream.received.map((s) => s.id)).size).toBe(n);
    expect(upstream.received.map((s) => s.streams[0]!.primaryPackets).sort((a, b) => a - b)).toEqual([
      ...Array(n).keys(),
    ]);
    await vi.waitFor(() => expect(spooled()).toEqual([]));
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  });

  it('keeps what SIGTERM could not deliver in the spool and delivers it after the restart', async () => {
    const port = await freePort();
    const first = await start(port, { SIDECAR_SHUTDOWN_TIMEOUT: '300ms' });
    const client = createSidecarClient(`127.0.0.1:${first.grpcPort}`);
    await unary(client, client.Activate, { roomId: 'R', participantId: 'P', guardId: 'g' });
    await unary(client, client.TrackStats, {
      stats: [StreamType.UPSTREAM, StreamType.DOWNSTREAM].map((kind) => ({
        roomId: 'R',
        participantId: 'P',
        trackId: 'T',
        kind,
        stat: sample(),
      })),
    });
    client.close();
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(first.output()).toContain('undelivered stats stay in the spool for the next start');
    expect(spooled()).toHaveLength(1);

    const upstream = await upstreamOn(port);
    await start(port);
    await vi.waitFor(() => expect(upstream.received).toHaveLength(2), { timeout: 10_000 });
  });

  it('starts despite a truncated spool record, skipping it and delivering the rest', async () => {
    const port = await freePort();
    const first = await start(port, { SIDECAR_BATCH_MAX_STATS: '1' });
    await emit(first, 2);
    await vi.waitFor(() => expect(spooled()).toHaveLength(2));
    first.child.kill('SIGKILL');
    await first.exited;
    const [a] = spooled();
    const torn = join(spoolDir, a!);
    copyFileSync(torn, `${torn}.orig`);
    writeFileSync(torn, readFileSync(`${torn}.orig`).subarray(0, 20));
    rmSync(`${torn}.orig`);

    const upstream = await upstreamOn(port);
    const second = await start(port);
    await vi.waitFor(() => expect(upstream.received).toHaveLength(1), { timeout: 10_000 });
    expect(second.output()).toContain('spool: skipped torn or corrupt records');
  });
});
