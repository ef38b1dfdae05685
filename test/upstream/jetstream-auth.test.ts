/** Authenticating to real nats-servers from files: TLS with a token, and an NKey seed. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createUser } from '@nats-io/nkeys';
import { nanos, nkeyAuthenticator } from '@nats-io/transport-node';
import { afterEach, describe, expect, it } from 'vitest';
import type { NatsAuth } from '../../src/upstream/nats-connection.js';
import { JetStreamSink } from '../../src/upstream/jetstream-sink.js';
import { captureLog, readStream, statIds, stats } from '../helpers/jetstream.js';
import { natsAdmin, startNatsServer } from '../helpers/nats-server.js';
import { makePki } from '../helpers/pki.js';
import { encodeAllWith } from '../helpers/encode.js';

const cleanup: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function publishOnce(
  port: number,
  connection: { tls: boolean; caFile?: string; auth: NatsAuth },
  publishTimeoutMs = 5_000,
): Promise<void> {
  const sink = new JetStreamSink({
    connection: { servers: [`127.0.0.1:${port}`], name: 'auth-test', ...connection },
    subject: 'lk.auth',
    nodeId: 'n',
    payload: 'protobuf',
    publishTimeoutMs,
    logger: captureLog().logger,
  });
  cleanup.push(() => sink.close());
  await sink.send({
    id: 'auth-1',
    payloads: [encodeAllWith(sink, stats(2, 'auth'))],
    bytes: 0,
    count: 2,
  });
}

describe('JetStream sink authentication', () => {
  it('connects over TLS (tls://, SIDECAR_UPSTREAM_CA_FILE) with a token read from its file', async () => {
    const pki = makePki();
    cleanup.push(() => pki.cleanup());
    const { certFile, keyFile } = pki.issue('nats');
    const server = await startNatsServer({
      config: `tls { cert_file: "${certFile}", key_file: "${keyFile}" }\nauthorization { token: "s3cret" }`,
    });
    cleanup.push(() => server.destroy());
    const tokenFile = join(server.dir, 'token');
    writeFileSync(tokenFile, 's3cret\n');
    const admin = await natsAdmin(server.url, { token: 's3cret', tls: { caFile: join(pki.dir, 'ca.crt') } });
    cleanup.push(() => admin.nc.close());
    await admin.jsm.streams.add({ name: 'AUTH', subjects: ['lk.auth'], duplicate_window: nanos(60_000) });

    await publishOnce(server.port, {
      tls: true,
      caFile: join(pki.dir, 'ca.crt'),
      auth: { kind: 'token', file: tokenFile },
    });
    expect(statIds(await readStream(admin.jsm, 'AUTH'))).toEqual(['AS_auth0', 'AS_auth1']);

    // a wrong token never connects: the send fails as transient (the batch waits), it is not dropped
    writeFileSync(tokenFile, 'wrong\n');
    const err = await publishOnce(
      server.port,
      {
        tls: true,
        caFile: join(pki.dir, 'ca.crt'),
        auth: { kind: 'token', file: tokenFile },
      },
      300,
    ).catch((e: unknown) => e);
    expect(err).toMatchObject({ retryable: true });
  });

  it('signs in with an NKey seed file', async () => {
    const user = createUser();
    const server = await startNatsServer({ config: `authorization { users: [ { nkey: ${user.getPublicKey()} } ] }` });
    cleanup.push(() => server.destroy());
    const seedFile = join(server.dir, 'user.nk');
    writeFileSync(seedFile, `${new TextDecoder().decode(user.getSeed())}\n`);
    const admin = await natsAdmin(server.url, { authenticator: nkeyAuthenticator(user.getSeed()) });
    cleanup.push(() => admin.nc.close());
    await admin.jsm.streams.add({ name: 'AUTH', subjects: ['lk.auth'], duplicate_window: nanos(60_000) });

    await publishOnce(server.port, { tls: false, auth: { kind: 'nkey', file: seedFile } });
    expect(statIds(await readStream(admin.jsm, 'AUTH'))).toEqual(['AS_auth0', 'AS_auth1']);
  });
});
