/**
 * The NATS server down at start and across a sidecar restart: real sidecar
 * processes with a spool, SIGTERM while nothing could be delivered, then the
 * server comes up and the next sidecar replays the spool. Every stat arrives once.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createSidecarClient } from '../../src/client/sidecar-client.js';
import { StreamType } from '../../src/core/analytics.js';
import { readStream, statIds } from '../helpers/jetstream.js';
import { natsAdmin, NatsServer } from '../helpers/nats-server.js';
import { freePort } from '../helpers/ports.js';
import { spawnSidecar, type RunningSidecar } from '../helpers/process.js';
import { unary } from '../helpers/rpc.js';
import { sample, stream } from '../helpers/stats.js';

const cleanup: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

describe('JetStream sink across restarts', () => {
  it('delivers once what was spooled while the server was down, after a SIGTERM and a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sidecar-nats-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const spoolDir = join(dir, 'spool');
    const server = new NatsServer(await freePort());
    cleanup.push(() => server.destroy());
    const env = {
      SIDECAR_UPSTREAM: `nats://127.0.0.1:${server.port}/lk.restart`,
      SIDECAR_NATS_CREATE_STREAM: 'RESTART',
      SIDECAR_SPOOL_DIR: spoolDir,
      SIDECAR_BATCH_MAX_STATS: '4',
      SIDECAR_SHUTDOWN_TIMEOUT: '500ms',
      SIDECAR_FLUSH_INTERVAL: '1h',
    };
    const start = async (): Promise<RunningSidecar> => {
      const s = await spawnSidecar(dir, env);
      cleanup.push(() => {
        if (s.child.exitCode === null) s.child.kill('SIGKILL');
      });
      return s;
    };

    const first = await start();
    const client = createSidecarClient(`127.0.0.1:${first.grpcPort}`);
    const stats = [];
    for (let p = 0; p < 10; p++) {
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
    expect((await unary(client, client.Flush, {})).statsEmitted).toBe(10);
    client.close();
    const spooled = () => readdirSync(spoolDir).filter((f) => f.endsWith('.batch'));
    await expect.poll(spooled).toHaveLength(3);
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(first.output()).toContain('undelivered stats stay in the spool');
    expect(spooled()).toHaveLength(3);

    await server.start();
    const second = await start();
    const admin = await natsAdmin(server.url);
    cleanup.push(() => admin.nc.close());
    await expect.poll(spooled, { timeout: 10_000 }).toHaveLength(0);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);

    const messages = await readStream(admin.jsm, 'RESTART');
    const ids = statIds(messages);
    expect(ids).toHaveLength(10);
    expect(new Set(ids).size).toBe(10);
    expect(ids.every((id) => id.startsWith('AS_'))).toBe(true);
    expect(second.output()).toContain('NATS: created JetStream stream');
  });
});
