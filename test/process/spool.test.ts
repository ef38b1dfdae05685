import { spawn } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createSidecarClient } from '../../src/client/sidecar-client.js';
import { StreamType } from '../../src/core/analytics.js';
import { DevUpstream } from '../../src/dev/upstream-server.js';
import { freePort } from '../helpers/ports.js';
import { scrape } from '../helpers/scrape.js';
import { MAIN, spawnSidecar, type RunningSidecar } from '../helpers/process.js';
import { mountTmpfs } from '../helpers/tmpfs.js';
import { unary } from '../helpers/rpc.js';
import { bothDirections, sample, stream } from '../helpers/stats.js';

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

/** Runs `serve` until it exits (it should: these configurations must not start). */
function serveUntilExit(
  env: Record<string, string>,
  /** A command the sidecar runs under, e.g. setpriv to drop capabilities. */
  wrapper: string[] = [],
): Promise<{ code: number | null; stderr: string }> {
  const argv = [...wrapper, process.execPath, MAIN, '--grpc-addr', '127.0.0.1:0', '--http-addr', '127.0.0.1:0'];
  const child = spawn(argv[0]!, argv.slice(1), {
    cwd: '/',
    env: { PATH: process.env.PATH ?? '', SIDECAR_UPSTREAM: 'stdout:', ...env },
  });
  cleanup.push(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stderr })));
}

/** `stats` stats from as many participants, flushed (not waiting for delivery). */
async function emitMany(s: RunningSidecar, stats: number, offset = 0): Promise<void> {
  const client = createSidecarClient(`127.0.0.1:${s.grpcPort}`);
  const requests = [];
  for (let p = offset; p < offset + stats; p++) {
    await unary(client, client.Activate, { roomId: 'R', participantId: `P${p}`, guardId: 'g' });
    requests.push({
      roomId: 'R',
      participantId: `P${p}`,
      trackId: 'T',
      kind: StreamType.UPSTREAM,
      stat: sample({ streams: [stream({ primaryPackets: p })] }),
    });
  }
  await unary(client, client.TrackStats, { stats: requests });
  expect((await unary(client, client.Flush, {})).statsEmitted).toBe(stats);
  client.close();
}

const logLines = (s: RunningSidecar) =>
  s
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

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
      stats: bothDirections(sample()),
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
    expect(second.output()).toContain('spool: dropped records it cannot replay');
    // the torn record's count survives in its name
    expect(
      (await scrape(second.httpPort)).value('telemetry_sidecar_stats_dropped_total', { reason: 'spool_corrupt' }),
    ).toBe(1);
  });

  it('refuses to start on a spool directory it cannot write to, exit 2 naming SIDECAR_SPOOL_DIR', async () => {
    // under a regular file: ENOTDIR
    writeFileSync(join(dir, 'plain-file'), '');
    const notDir = await serveUntilExit({ SIDECAR_SPOOL_DIR: join(dir, 'plain-file', 'spool') });
    expect(notDir.code).toBe(2);
    expect(notDir.stderr).toMatch(/^telemetry-sidecar: SIDECAR_SPOOL_DIR: .*plain-file\/spool.*ENOTDIR/);
    expect(notDir.stderr.trim().split('\n')).toHaveLength(1);

    // a read-only filesystem (root can write to a read-only directory, not to a read-only mount)
    const readOnly = mountTmpfs(join(dir, 'ro'), 64 * 1024, { readOnly: true });
    cleanup.push(() => readOnly.unmount());
    const ro = await serveUntilExit({ SIDECAR_SPOOL_DIR: readOnly.dir });
    expect(ro.code).toBe(2);
    expect(ro.stderr).toMatch(/SIDECAR_SPOOL_DIR: .*(EROFS|read-only)/);
  }, 60_000);

  it('refuses a spool directory another user owns, exit 2 naming SIDECAR_SPOOL_DIR', async () => {
    const foreign = join(dir, 'foreign');
    mkdirSync(foreign, { mode: 0o755 });
    chmodSync(dir, 0o755);
    // as root: the directory becomes the image's user's (uid 1000) and the sidecar runs without the
    // capabilities that let root write anywhere (running it as uid 1000 would need the checkout to be
    // readable by that user, which a clone under a private temporary directory is not);
    // otherwise the directory is made one its owner may not write
    let wrapper: string[] = [];
    if (process.getuid?.() === 0) {
      chownSync(foreign, 1000, 1000);
      const caps = '-dac_override,-dac_read_search,-fowner';
      wrapper = ['setpriv', '--bounding-set', caps, '--inh-caps', caps, '--'];
    } else {
      chmodSync(foreign, 0o555);
    }
    const refused = await serveUntilExit({ SIDECAR_SPOOL_DIR: foreign }, wrapper);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/^telemetry-sidecar: SIDECAR_SPOOL_DIR: .*foreign.*(EACCES|EPERM)/);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
  }, 60_000);

  it('counts spool write failures on a full disk, logs the change once each way, and spools again when space returns', async () => {
    const disk = mountTmpfs(spoolDir, 256 * 1024);
    cleanup.push(() => disk.unmount());
    const port = await freePort();
    const s = await start(port);
    disk.fill();
    await emitMany(s, 3);
    await emitMany(s, 3, 3);
    const failing = await scrape(s.httpPort);
    expect(failing.value('telemetry_sidecar_spool_write_errors_total')).toBeGreaterThanOrEqual(2);
    expect(spooled()).toEqual([]);
    disk.unfill();
    await emitMany(s, 3, 6);
    // the new flush's batch, and the two held in memory, written before their next send attempt
    await vi.waitFor(() => expect(spooled()).toHaveLength(3), { timeout: 10_000 });
    const messages = logLines(s).map((l) => l.msg);
    expect(messages.filter((m) => m === 'spool writes failing')).toHaveLength(1);
    expect(messages.filter((m) => m === 'spool writes recovered')).toHaveLength(1);
  }, 60_000);

  it('counts every stat once after a partial spool on a full disk: replayed, or lost at shutdown and counted after the restart', async () => {
    const disk = mountTmpfs(spoolDir, 64 * 1024);
    cleanup.push(() => disk.unmount());
    const port = await freePort();
    const first = await start(port, { SIDECAR_BATCH_MAX_STATS: '10', SIDECAR_SHUTDOWN_TIMEOUT: '200ms' });
    const total = 300;
    await emitMany(first, total);
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    const stopped = logLines(first).find((l) => l.msg === 'telemetry-sidecar stopped')!;
    const lost = logLines(first).find((l) => l.msg === 'shutdown timeout: stats not delivered upstream are lost')!;
    const spooledStats = stopped.statsSpooled as number;
    expect(lost).toMatchObject({ reason: 'shutdown', statsLost: stopped.statsLost });
    expect(spooledStats).toBeGreaterThan(0);
    expect(stopped.statsLost).toBeGreaterThan(0);
    expect(spooledStats + (stopped.statsLost as number)).toBe(total);

    const upstream = await upstreamOn(port);
    const second = await start(port);
    await vi.waitFor(() => expect(spooled()).toEqual([]), { timeout: 10_000 });
    expect(upstream.received).toHaveLength(spooledStats);
    expect(new Set(upstream.received.map((s) => s.id)).size).toBe(spooledStats);
    const m = await scrape(second.httpPort);
    expect(m.value('telemetry_sidecar_stats_dropped_total', { reason: 'shutdown' })).toBe(stopped.statsLost);
    expect(m.value('telemetry_sidecar_stats_dropped_total', { reason: 'spool_corrupt' }) ?? 0).toBe(0);
  }, 60_000);

  it('keeps the spool within SIDECAR_QUEUE_MAX_BYTES across restarts, restored batches and new ones together', async () => {
    const port = await freePort();
    // one stat per batch, each record one 4 KiB block on disk: the bound holds ten
    const env = { SIDECAR_BATCH_MAX_STATS: '1', SIDECAR_QUEUE_MAX_BYTES: String(10 * 4096) };
    const first = await start(port, env);
    await emitMany(first, 8);
    expect(spooled()).toHaveLength(8);
    first.child.kill('SIGKILL');
    await first.exited;

    const second = await start(port, env);
    await emitMany(second, 8, 8);
    const onDisk = () => spooled().reduce((n, f) => n + statSync(join(spoolDir, f)).blocks * 512, 0);
    const m = await scrape(second.httpPort);
    const dropped = m.value('telemetry_sidecar_stats_dropped_total', { reason: 'queue_full' })!;
    expect(dropped).toBeGreaterThanOrEqual(6);
    await vi.waitFor(() => expect(spooled()).toHaveLength(16 - dropped));
    expect(onDisk()).toBeLessThanOrEqual(10 * 4096);
    // the oldest went: what is left is the newest
    const kept = spooled().map((f) => Number(f.slice(0, 16)));
    expect(Math.max(...kept)).toBe(16);
    second.child.kill('SIGKILL');
    await second.exited;

    const upstream = await upstreamOn(port);
    await start(port, env);
    await vi.waitFor(() => expect(spooled()).toEqual([]), { timeout: 10_000 });
    expect(upstream.received).toHaveLength(16 - dropped);
  }, 60_000);
});
