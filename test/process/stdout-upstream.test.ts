/**
 * The `stdout:` upstream when the reader of stdout goes away (EPIPE): the
 * sink's write fails like any other, the upstream is reported failing, and
 * at shutdown the stats it could not write are counted lost; the process
 * does not die of the broken pipe (docs/delivery.md).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSidecarClient } from '../../src/client/sidecar-client.js';
import { StreamType } from '../../src/core/analytics.js';
import { spawnMain } from '../helpers/process.js';
import { unary } from '../helpers/rpc.js';
import { scrape } from '../helpers/scrape.js';
import { sample } from '../helpers/stats.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sidecar-stdout-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('the stdout: upstream', () => {
  it('reports a reader gone as a failing upstream and counts the stats it could not write', async () => {
    const p = spawnMain(
      ['--grpc-addr', '127.0.0.1:0', '--http-addr', '127.0.0.1:0'],
      { SIDECAR_UPSTREAM: 'stdout:', SIDECAR_FLUSH_INTERVAL: '1h', SIDECAR_SHUTDOWN_TIMEOUT: '1s' },
      dir,
    );
    const { grpcPort, httpPort } = JSON.parse(await p.line(/"telemetry-sidecar serving"/)) as {
      grpcPort: number;
      httpPort: number;
    };
    p.child.stdout.destroy();
    const client = createSidecarClient(`127.0.0.1:${grpcPort}`);
    try {
      await unary(client, client.Activate, { roomId: 'R', participantId: 'P', guardId: 'g' });
      const stats = [{ roomId: 'R', participantId: 'P', trackId: 'T', kind: StreamType.UPSTREAM, stat: sample() }];
      await unary(client, client.TrackStats, { stats });
      await unary(client, client.Flush, {});
      await p.line(/"upstream failing"/);
      expect((await scrape(httpPort)).value('telemetry_sidecar_upstream_up')).toBe(0);
    } finally {
      client.close();
    }
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
    const lost = JSON.parse(await p.line(/"shutdown timeout: stats not delivered upstream are lost"/)) as {
      statsLost: number;
    };
    expect(lost.statsLost).toBe(1);
  }, 30_000);
});
