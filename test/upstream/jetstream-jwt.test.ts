/**
 * Signing in with a `.creds` file (user JWT + NKey seed) to a real nats-server
 * in operator (decentralised JWT) mode: an operator, a system account and an
 * account with JetStream, all preloaded in a MEMORY resolver, every key and
 * JWT made here. The whole sidecar runs with SIDECAR_NATS_CREDS_FILE.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  createAccount,
  createOperator,
  createUser,
  defaultNatsLimits,
  encodeAccount,
  encodeOperator,
  encodeUser,
  fmtCreds,
  type KeyPair,
  type User,
} from '@nats-io/jwt';
import { connect, credsAuthenticator, nanos } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StreamType } from '../../src/core/analytics.js';
import { readStream, statIds } from '../helpers/jetstream.js';
import { natsAdmin, startNatsServer, type NatsServer } from '../helpers/nats-server.js';
import { unary } from '../helpers/rpc.js';
import { startTestSidecar, type TestSidecar } from '../helpers/sidecar.js';
import { sample, stream as statStream } from '../helpers/stats.js';
import { Scrape } from '../helpers/scrape.js';

const SUBJECT = 'lk.jwt';
const STREAM = 'JWT';

let server: NatsServer;
let account: KeyPair;
let admin: Awaited<ReturnType<typeof natsAdmin>>;

/** A user of the JetStream account, as `nsc add user` + `nsc generate creds` would make it. */
async function credsFile(name: string, permissions: Partial<User> = {}): Promise<string> {
  const user = createUser();
  const jwt = await encodeUser(name, user, account, permissions);
  const file = join(server.dir, `${name}.creds`);
  writeFileSync(file, fmtCreds(jwt, user));
  return file;
}

beforeAll(async () => {
  const operator = createOperator();
  const system = createAccount();
  account = createAccount();
  const signer = { signer: operator };
  // a limit left out of an account JWT is 0 to the server (no connections at all): -1 is unlimited, as nsc writes
  const unlimited = { ...defaultNatsLimits(), conn: -1, leaf: -1, imports: -1, exports: -1, wildcards: true };
  const systemJwt = await encodeAccount('SYS', system, { limits: unlimited }, signer);
  // storage limits are what enables JetStream for an account
  const jetStream = { mem_storage: -1, disk_storage: -1, streams: -1, consumer: -1 };
  const accountJwt = await encodeAccount('SFU', account, { limits: { ...unlimited, ...jetStream } }, signer);
  server = await startNatsServer({
    config: [
      `operator: ${await encodeOperator('TEST', operator, { system_account: system.getPublicKey() })}`,
      `system_account: ${system.getPublicKey()}`,
      'resolver: MEMORY',
      'resolver_preload: {',
      `  ${system.getPublicKey()}: ${systemJwt}`,
      `  ${account.getPublicKey()}: ${accountJwt}`,
      '}',
    ].join('\n'),
  });
  const adminCreds = await credsFile('admin');
  admin = await natsAdmin(server.url, { authenticator: credsAuthenticator(() => readFileSync(adminCreds)) });
  await admin.jsm.streams.add({ name: STREAM, subjects: [SUBJECT], duplicate_window: nanos(3_600_000) });
});
afterAll(async () => {
  await admin?.nc.close();
  await server?.destroy();
});

async function sidecarWith(creds: string): Promise<TestSidecar> {
  return startTestSidecar({
    SIDECAR_UPSTREAM: `nats://127.0.0.1:${server.port}/${SUBJECT}`,
    SIDECAR_NATS_CREDS_FILE: creds,
    // a sidecar that could not sign in holds its batches: do not wait long for them at close
    SIDECAR_SHUTDOWN_TIMEOUT: '1s',
  });
}

/** Whether the sidecar signed in: it checks the stream once connected, or warns that it cannot connect. */
function signIn(t: TestSidecar): Promise<unknown> {
  return Promise.race([
    t.logLine('NATS: publishing to JetStream stream').then(() => 'signed in'),
    t.logLine('NATS: cannot connect; retrying (batches wait in the queue and spool)').then((l) => l.err),
  ]);
}

/** Sends one stat per participant and flushes, waiting for the upstream's answer. */
async function flushStats(t: TestSidecar, participants: string[]) {
  for (const p of participants) {
    await unary(t.client, t.client.Activate, { roomId: 'R', participantId: p, guardId: 'g' });
    await unary(t.client, t.client.TrackStats, {
      stats: [
        {
          roomId: 'R',
          participantId: p,
          trackId: 'T',
          kind: StreamType.UPSTREAM,
          stat: sample({ streams: [statStream({ primaryPackets: 5 })] }),
        },
      ],
    });
  }
  return unary(t.client, t.client.Flush, { waitDelivered: true });
}

describe('JetStream sink with a .creds file, nats-server in operator (JWT) mode', () => {
  it('runs a server that admits no one without a user JWT', async () => {
    await expect(connect({ servers: server.url, reconnect: false })).rejects.toThrow(/Authorization Violation/);
  });

  it('signs in with the user JWT and seed of SIDECAR_NATS_CREDS_FILE and lands stats in the stream', async () => {
    const t = await sidecarWith(await credsFile('sidecar'));
    try {
      expect(await signIn(t)).toBe('signed in');
      expect(await flushStats(t, ['P1', 'P2', 'P3'])).toMatchObject({ statsEmitted: 3, delivered: true });
      const messages = await readStream(admin.jsm, STREAM);
      const ids = statIds(messages);
      expect(ids).toHaveLength(3);
      expect(messages.every((m) => m.header.get('Telemetry-Node') === 'test-node')).toBe(true);
      const scrape = new Scrape((await t.sidecar.metrics.metricsText()).body);
      expect(scrape.value('telemetry_sidecar_nats_connected')).toBe(1);
      expect(scrape.value('telemetry_sidecar_upstream_stats_total', { result: 'delivered' })).toBe(3);
    } finally {
      await t.close();
    }
  });

  it('drops, as permission_denied, the stats of a user whose JWT denies publishing to the subject', async () => {
    const before = (await admin.jsm.streams.info(STREAM)).state.messages;
    const t = await sidecarWith(await credsFile('denied', { pub: { deny: [SUBJECT] } }));
    try {
      expect(await signIn(t)).toBe('signed in');
      expect(await flushStats(t, ['P1', 'P2'])).toMatchObject({ statsEmitted: 2, delivered: false });
      const scrape = new Scrape((await t.sidecar.metrics.metricsText()).body);
      expect(scrape.value('telemetry_sidecar_stats_dropped_total', { reason: 'permission_denied' })).toBe(2);
      expect(scrape.value('telemetry_sidecar_upstream_stats_total', { result: 'dropped' })).toBe(2);
      // signed in: the JWT was accepted, only its publish permission refused the batch
      expect(scrape.value('telemetry_sidecar_nats_connected')).toBe(1);
      const drops = t.logs.filter((l) => l.msg === 'upstream refused a batch: dropped');
      expect(drops).toMatchObject([{ level: 50, reason: 'permission_denied', stats: 2 }]);
      expect(JSON.stringify(drops[0]!.err)).toContain(`NATS permission denied publishing to ${SUBJECT}`);
      expect((await admin.jsm.streams.info(STREAM)).state.messages).toBe(before);
    } finally {
      await t.close();
    }
  });
});
