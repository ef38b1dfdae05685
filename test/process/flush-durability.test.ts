/**
 * An acknowledged Flush survives SIGKILL: with a spool, Flush{wait_delivered:false}
 * answers only once every batch it emitted is on disk, so a sidecar killed right
 * after the answer delivers every emitted stat after its restart.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createSidecarClient } from '../../src/client/sidecar-client.js';
import { StreamType } from '../../src/core/analytics.js';
import { DevUpstream } from '../../src/dev/upstream-server.js';
import { spawnSidecar, type RunningSidecar } from '../helpers/process.js';
import { unary } from '../helpers/rpc.js';
import { freePort } from '../helpers/ports.js';
import { sample, stream } from '../helpers/stats.js';

let dir: string;
const cleanup: (() => Promise<unknown> | void)[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sidecar-durable-'));
});
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
  rmSync(dir, { recursive: true, force: true });
});

async function start(port: number, env: Record<string, string> = {}): Promise<RunningSidecar> {
  const s = await spawnSidecar(dir, {
    SIDECAR_UPSTREAM: `grpc://127.0.0.1:${port}`,
    SIDECAR_SPOOL_DIR: join(dir, 'spool'),
    SIDECAR_FLUSH_INTERVAL: '1h',
    ...env,
  });
  cleanup.push(() => {
    if (s.child.exitCode === null) s.child.kill('SIGKILL');
  });
  return s;
}

const spooled = () => readdirSync(join(dir, 'spool')).filter((f) => f.endsWith('.batch'));

describe('Flush with a spool', () => {
  it('answers only once its batches are on disk: SIGKILL right after the answer loses nothing', async () => {
    const port = await freePort(); // the upstream is down during the first run: everything must come from the spool
    const participants = 150;
    const first = await start(port, { SIDECAR_BATCH_MAX_STATS: '2' });
    const client = createSidecarClient(`127.0.0.1:${first.grpcPort}`);
    const stats = [];
    for (let p = 0; p < participants; p++) {
      await unary(client, client.Activate, { roomId: 'R', participantId: `P${p}`, guardId: 'g' });
      for (const kind of [StreamType.UPSTREAM, StreamType.DOWNSTREAM]) {
        stats.push({
          roomId: 'R',
          participantId: `P${p}`,
          trackId: 'T',
          kind,
          stat: sample({ streams: [stream({ primaryPackets: p })] }),
        });
      }
    }
    await unary(client, client.TrackStats, { stats });
    const flushed = await unary(client, client.Flush, { waitDelivered: false });
    first.child.kill('SIGKILL');
    client.close();
    await first.exited;
    expect(flushed.statsEmitted).toBe(stats.length);

    const upstream = new DevUpstream({ port });
    await upstream.start();
    cleanup.push(() => upstream.close());
    const second = await start(port);
    // every replayed record is removed once acknowledged
    await vi.waitFor(() => expect(spooled()).toEqual([]), { timeout: 10_000 });
    const keys = upstream.received.map((s) => `${s.participantId}/${s.kind}/${s.streams[0]!.primaryPackets}`);
    expect(new Set(keys).size).toBe(stats.length);
    expect(new Set(upstream.received.map((s) => s.id)).size).toBe(stats.length);
    expect(upstream.received).toHaveLength(stats.length);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  }, 60_000);
});
