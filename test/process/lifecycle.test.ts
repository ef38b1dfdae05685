import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runSimulate } from '../../src/cli/simulate.js';
import { createSidecarClient } from '../../src/client/sidecar-client.js';
import { unary } from '../helpers/rpc.js';
import { runCli, spawnSidecar } from '../helpers/process.js';
import { bothDirections, sample, stream } from '../helpers/stats.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sidecar-proc-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const readLines = (path: string) =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('the sidecar process', () => {
  it('writes the example client’s stats to the default NDJSON file', async () => {
    const sidecar = await spawnSidecar(dir);
    const lines: string[] = [];
    await runSimulate(
      ['--target', `127.0.0.1:${sidecar.grpcPort}`, '--participants', '2', '--tracks', '2', '--rounds', '3'],
      (l) => lines.push(l),
    );
    expect(lines.join('\n')).toContain('flush emitted 8 coalesced stats (delivered: true)');
    const stats = readLines(join(dir, 'data', 'analytics-stats.ndjson'));
    expect(stats).toHaveLength(8);
    expect(stats[0]).toMatchObject({ node: 'proc-node', roomId: 'RM_demo', roomName: 'demo' });
    sidecar.child.kill('SIGTERM');
    expect(await sidecar.exited).toBe(0);
  });

  it('flushes pending stats to the sink on SIGTERM and exits 0', async () => {
    const out = join(dir, 'final.ndjson');
    const sidecar = await spawnSidecar(dir, { SIDECAR_UPSTREAM: `file:${out}`, SIDECAR_FLUSH_INTERVAL: '1h' });
    const client = createSidecarClient(`127.0.0.1:${sidecar.grpcPort}`);
    await unary(client, client.Activate, { roomId: 'R', participantId: 'P', guardId: 'g' });
    const stats = bothDirections(sample({ streams: [stream({ primaryPackets: 42 })] }));
    expect(await unary(client, client.TrackStats, { stats })).toMatchObject({ accepted: 2 });
    client.close();
    sidecar.child.kill('SIGTERM');
    expect(await sidecar.exited).toBe(0);
    const lines = readLines(out);
    expect(
      lines.map((l) => [l.kind ?? 'UPSTREAM', (l.streams as { primaryPackets: number }[])[0]!.primaryPackets]),
    ).toEqual([
      ['UPSTREAM', 42],
      ['DOWNSTREAM', 42],
    ]);
    expect(sidecar.output()).toContain('"telemetry-sidecar stopped"');
  });

  it('shuts down cleanly on a SIGTERM sent the moment it logs that it is serving', async () => {
    const out = join(dir, 'at-once.ndjson');
    const sidecar = await spawnSidecar(dir, { SIDECAR_UPSTREAM: `file:${out}` });
    sidecar.child.kill('SIGTERM');
    expect(await sidecar.exited).toBe(0);
    expect(sidecar.child.signalCode).toBeNull();
    expect(sidecar.output()).toContain('"telemetry-sidecar stopped"');
  });

  it('stops at startup with one line naming a bad setting, exit code 2', async () => {
    const bad = await runCli([], { SIDECAR_CLOSE_WAIT: 'soon' });
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toEqual([
      'telemetry-sidecar: SIDECAR_CLOSE_WAIT: must be a duration with a unit (ms, s, m, h) such as 500ms, 30s or 3m, got "soon"',
    ]);
    const unknown = await runCli(['--no-such-flag']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('no-such-flag');
  });

  it('prints every setting with --help', async () => {
    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    for (const name of [
      'SIDECAR_GRPC_ADDR',
      'SIDECAR_FLUSH_INTERVAL',
      'SIDECAR_MEMORY_LIMIT_MB',
      'LOG_LEVEL',
      'simulate',
    ]) {
      expect(help.stdout).toContain(name);
    }
  });
});
