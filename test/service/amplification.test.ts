/**
 * The decode-amplification attack against a real sidecar process: eight
 * 4 MiB messages of 699,040 tiny stats at once (before: RSS 74 → 472 MB for
 * one, 2.7 GB for eight) must cost a bounded amount of memory, with or
 * without a token, and the next valid request is served at once.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { status, type ServiceError } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { spawnSidecar, type RunningSidecar } from '../helpers/process.js';
import { amplifyingStats, encodeRequest, RawClient, sessionStatsRequest } from '../helpers/raw-rpc.js';

/**
 * Peak RSS growth allowed for the whole attack: the transport holds each
 * message being received (4 MiB, briefly twice), the decoder at most one
 * refused request's first objects. Far below the ~400 MB one message cost.
 */
const PEAK_GROWTH_BOUND_BYTES = 120 * 1024 * 1024;
const ATTACKERS = 8;

let dir: string;
let sidecar: RunningSidecar | undefined;
let clients: RawClient[] = [];
afterEach(async () => {
  for (const c of clients) c.close();
  clients = [];
  if (sidecar) {
    sidecar.child.kill('SIGTERM');
    await sidecar.exited;
    sidecar = undefined;
  }
  rmSync(dir, { recursive: true, force: true });
});

/** The child's peak resident set so far (Linux: VmHWM), in bytes. */
function peakRss(pid: number): number {
  const m = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error('no VmHWM in /proc/<pid>/status');
  return Number(m[1]) * 1024;
}

async function start(env: Record<string, string> = {}): Promise<{ target: string; pid: number }> {
  dir = mkdtempSync(join(tmpdir(), 'sidecar-amplify-'));
  sidecar = await spawnSidecar(dir, { SIDECAR_FLUSH_INTERVAL: '1h', ...env });
  return { target: `127.0.0.1:${sidecar.grpcPort}`, pid: sidecar.child.pid! };
}

function client(target: string, authorization?: string): RawClient {
  const c = new RawClient(target, authorization);
  clients.push(c);
  return c;
}

const who = { roomId: 'RM', participantId: 'PA' };
const oneStat = encodeRequest('TrackStats', {
  stats: [{ ...who, trackId: 'TR', kind: 0, stat: { streams: [{ primaryPackets: 1 }] } }],
});
const BOMB = amplifyingStats(699_040);

async function codeOf(call: Promise<unknown>): Promise<number> {
  return call.then(
    () => status.OK,
    (err: ServiceError) => err.code,
  );
}

/** Valid traffic, so the baseline includes the code paths the attack takes. */
async function warmUp(c: RawClient): Promise<void> {
  await c.unary('Activate', encodeRequest('Activate', { ...who, guardId: 'g' }));
  for (let i = 0; i < 20; i++) await c.unary('TrackStats', oneStat);
  await codeOf(c.unary('TrackStats', amplifyingStats(10_000)));
}

describe('decode amplification against a sidecar process', () => {
  it('refuses eight amplifying messages at once (unary and Session) within a bounded RSS, then serves', async () => {
    const { target, pid } = await start();
    const valid = client(target);
    await warmUp(valid);
    const before = peakRss(pid);

    const attacks: Promise<number>[] = [];
    for (let i = 0; i < ATTACKERS; i++) attacks.push(codeOf(client(target).unary('TrackStats', BOMB)));
    const s = client(target).session();
    const streamed = s.send(sessionStatsRequest(1, BOMB.subarray(0, 699_000 * 6)));
    expect(await Promise.all(attacks)).toEqual(Array(ATTACKERS).fill(status.RESOURCE_EXHAUSTED));
    expect((await streamed).error?.code).toBe(status.RESOURCE_EXHAUSTED);

    expect(await valid.unary('TrackStats', oneStat)).toMatchObject({ accepted: 1 });
    const growth = peakRss(pid) - before;
    console.log(`peak RSS growth under ${ATTACKERS + 1} amplifying messages: ${(growth / 2 ** 20).toFixed(1)} MiB`);
    expect(growth).toBeLessThan(PEAK_GROWTH_BOUND_BYTES);
  });

  it('refuses them unauthenticated without reading them, within the same bound', async () => {
    const tokenDir = mkdtempSync(join(tmpdir(), 'sidecar-token-'));
    writeFileSync(join(tokenDir, 'token'), 's3cret\n');
    try {
      const { target, pid } = await start({ SIDECAR_GRPC_TOKEN_FILE: join(tokenDir, 'token') });
      const valid = client(target, 'Bearer s3cret');
      await warmUp(valid);
      const before = peakRss(pid);
      const attacks: Promise<number>[] = [];
      for (let i = 0; i < ATTACKERS; i++) attacks.push(codeOf(client(target).unary('TrackStats', BOMB)));
      expect(await Promise.all(attacks)).toEqual(Array(ATTACKERS).fill(status.UNAUTHENTICATED));
      expect(await valid.unary('TrackStats', oneStat)).toMatchObject({ accepted: 1 });
      const growth = peakRss(pid) - before;
      console.log(`peak RSS growth under ${ATTACKERS} unauthenticated messages: ${(growth / 2 ** 20).toFixed(1)} MiB`);
      expect(growth).toBeLessThan(PEAK_GROWTH_BOUND_BYTES);
    } finally {
      rmSync(tokenDir, { recursive: true, force: true });
    }
  });
});
