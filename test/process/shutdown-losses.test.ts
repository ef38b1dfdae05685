/** What SIGTERM cannot deliver without a spool is lost: one structured line says how many. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSidecarClient } from '../../src/client/sidecar-client.js';
import { StreamType } from '../../src/core/analytics.js';
import { DevUpstream } from '../../src/dev/upstream-server.js';
import { spawnSidecar } from '../helpers/process.js';
import { unary } from '../helpers/rpc.js';
import { sample } from '../helpers/stats.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sidecar-losses-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('shutdown without a spool', () => {
  it('logs the stats it could not deliver in one structured line with the count, and exits 0', async () => {
    const dead = new DevUpstream();
    const port = await dead.start();
    await dead.close();
    const s = await spawnSidecar(dir, {
      SIDECAR_UPSTREAM: `grpc://127.0.0.1:${port}`,
      SIDECAR_FLUSH_INTERVAL: '1h',
      SIDECAR_SHUTDOWN_TIMEOUT: '200ms',
    });
    const client = createSidecarClient(`127.0.0.1:${s.grpcPort}`);
    await unary(client, client.Activate, { roomId: 'R', participantId: 'P', guardId: 'g' });
    const kinds = [StreamType.UPSTREAM, StreamType.DOWNSTREAM];
    await unary(client, client.TrackStats, {
      stats: kinds.map((kind) => ({ roomId: 'R', participantId: 'P', trackId: 'T', kind, stat: sample() })),
    });
    client.close();
    s.child.kill('SIGTERM');
    expect(await s.exited).toBe(0);
    const lines = s
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.filter((l) => l.reason === 'shutdown')).toEqual([
      expect.objectContaining({
        level: 'error',
        msg: 'shutdown timeout: stats not delivered upstream are lost',
        statsLost: 2,
      }),
    ]);
    expect(lines.find((l) => l.msg === 'telemetry-sidecar stopped')).toMatchObject({
      statsEmitted: 2,
      statsLost: 2,
      statsSpooled: 0,
    });
  });
});
