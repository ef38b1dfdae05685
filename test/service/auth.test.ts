/**
 * Bearer-token authentication (docs/api.md, Authentication): every service
 * but grpc.health.v1 needs the token, it is checked before a request's body
 * is read, the scheme is case-insensitive, and a rotated token file takes
 * effect without a restart.
 */
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect } from 'node:http2';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Client } from '@grpc/grpc-js';
import { credentials, loadPackageDefinition as toGrpcObject, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { afterEach, describe, expect, it } from 'vitest';
import { createSidecarClient } from '../../src/client/sidecar-client.js';
import { unary } from '../helpers/rpc.js';
import { SessionClient } from '../../src/client/session-client.js';
import { amplifyingStats, encodeRequest, RawClient } from '../helpers/raw-rpc.js';
import { startTestSidecar, type TestSidecar } from '../helpers/sidecar.js';

let t: TestSidecar | undefined;
const closers: (() => void)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) close();
  await t?.close();
  t = undefined;
});

const raw = (target: string, authorization?: string) => {
  const client = new RawClient(target, authorization);
  closers.push(() => client.close());
  return client;
};

const listWorkers = encodeRequest('ListWorkers', {});

async function code(call: Promise<unknown>): Promise<number> {
  return call.then(
    () => status.OK,
    (err: ServiceError) => err.code,
  );
}

type Ctor = new (
  target: string,
  creds: ReturnType<typeof credentials.createInsecure>,
) => Client & Record<string, (...args: unknown[]) => unknown>;

/** grpc.health.v1.Health and grpc.reflection.v1.ServerReflection clients. */
function standardClients() {
  const require = createRequire(import.meta.url);
  const healthProto = join(dirname(require.resolve('grpc-health-check/package.json')), 'proto/health/v1/health.proto');
  const reflectionProto = join(
    dirname(require.resolve('@grpc/reflection/package.json')),
    'build/proto/grpc/reflection/v1/reflection.proto',
  );
  const grpc = toGrpcObject(loadSync([healthProto, reflectionProto], { keepCase: true, enums: String }))
    .grpc as unknown as Record<string, Record<string, Record<string, Ctor>>>;
  return { Health: grpc.health!.v1!.Health!, Reflection: grpc.reflection!.v1!.ServerReflection! };
}

function healthCheck(target: string, service: string): Promise<unknown> {
  const { Health } = standardClients();
  const health = new Health(target, credentials.createInsecure());
  closers.push(() => health.close());
  return new Promise((resolve, reject) =>
    health.Check!({ service }, (err: Error | null, res: unknown) => (err ? reject(err) : resolve(res))),
  );
}

/** Lists the services over reflection; rejects with the call's status. */
function listServices(target: string, authorization?: string): Promise<string[]> {
  const { Reflection } = standardClients();
  const reflection = new Reflection(target, credentials.createInsecure());
  closers.push(() => reflection.close());
  const metadata = new Metadata();
  if (authorization) metadata.set('authorization', authorization);
  const call = reflection.ServerReflectionInfo!(metadata) as unknown as NodeJS.ReadWriteStream & { end(): void };
  return new Promise((resolve, reject) => {
    call.on('data', (answer: { list_services_response: { service: { name: string }[] } }) => {
      resolve(answer.list_services_response.service.map((s) => s.name));
      call.end();
    });
    call.on('error', reject);
    call.write({ list_services: '' } as never);
  });
}

describe('authentication', () => {
  it('requires the bearer token on every RPC when a token file is configured', async () => {
    t = await startTestSidecar({}, { token: 's3cret' });
    expect(await unary(t.client, t.client.ListWorkers, {})).toEqual({ workers: [] });
    for (const client of [createSidecarClient(t.target), createSidecarClient(t.target, { token: 'wrong' })]) {
      closers.push(() => client.close());
      expect(await code(unary(client, client.ListWorkers, {}))).toBe(status.UNAUTHENTICATED);
      const s = new SessionClient(client);
      await expect(s.ended).rejects.toMatchObject({ code: status.UNAUTHENTICATED });
    }
  });

  it('leaves grpc.health.v1 open and requires the token for reflection', async () => {
    t = await startTestSidecar({}, { token: 's3cret' });
    expect(await healthCheck(t.target, '')).toEqual({ status: 'SERVING' });
    expect(await healthCheck(t.target, 'telemetry.sidecar.v1.TelemetrySidecar')).toEqual({ status: 'SERVING' });
    await expect(listServices(t.target)).rejects.toMatchObject({ code: status.UNAUTHENTICATED });
    await expect(listServices(t.target, 'Bearer wrong')).rejects.toMatchObject({ code: status.UNAUTHENTICATED });
    expect(await listServices(t.target, 'Bearer s3cret')).toContain('telemetry.sidecar.v1.TelemetrySidecar');
  });

  it('serves health and reflection to anyone when no token is configured', async () => {
    t = await startTestSidecar();
    expect(await healthCheck(t.target, '')).toEqual({ status: 'SERVING' });
    expect(await listServices(t.target)).toContain('telemetry.sidecar.v1.TelemetrySidecar');
  });

  it('takes the Bearer scheme in any case (RFC 6750), and nothing but Bearer', async () => {
    t = await startTestSidecar({}, { token: 's3cret' });
    for (const header of ['Bearer s3cret', 'bearer s3cret', 'BEARER s3cret', 'bEaReR  s3cret']) {
      expect(await code(raw(t.target, header).unary('ListWorkers', listWorkers)), header).toBe(status.OK);
    }
    for (const header of ['s3cret', 'Basic s3cret', 'Bearer', 'Bearer s3cret x', 'Bearers3cret', 'Bearer S3CRET']) {
      expect(await code(raw(t.target, header).unary('ListWorkers', listWorkers)), header).toBe(status.UNAUTHENTICATED);
    }
  });

  it('answers an unauthenticated call before its request has even arrived', async () => {
    t = await startTestSidecar({}, { token: 's3cret' });
    // a raw HTTP/2 gRPC call whose 4 MiB message never finishes arriving: only a check on
    // the headers, before the body is read, can answer it
    const session = connect(`http://${t.target}`);
    // the unfinished streams are cut when the test ends
    session.on('error', () => {});
    closers.push(() => session.destroy());
    const trailers = (path: string) =>
      new Promise<Record<string, unknown>>((resolve, reject) => {
        const stream = session.request({
          ':method': 'POST',
          ':path': path,
          'content-type': 'application/grpc',
          te: 'trailers',
        });
        stream.on('response', (headers) => {
          // a trailers-only answer comes as headers with the grpc-status
          if (headers['grpc-status'] !== undefined) resolve(headers);
        });
        stream.on('trailers', resolve);
        stream.on('error', reject);
        closers.push(() => stream.destroy());
        const prefix = Buffer.alloc(5);
        prefix.writeUInt32BE(4 << 20, 1);
        stream.write(Buffer.concat([prefix, amplifyingStats(1000)]));
      });
    for (const method of ['TrackStats', 'Activate', 'Session']) {
      expect(await trailers(`/telemetry.sidecar.v1.TelemetrySidecar/${method}`), method).toMatchObject({
        'grpc-status': String(status.UNAUTHENTICATED),
      });
    }
    expect(t.logs.filter((l) => l.msg === 'session stream opened')).toEqual([]);
  });

  it('takes a rotated token file (a Kubernetes Secret symlink swap) into account without a restart', async () => {
    // the layout kubelet writes: token -> ..data/token, ..data -> ..<timestamp>
    const dir = mkdtempSync(join(tmpdir(), 'sidecar-secret-'));
    closers.push(() => rmSync(dir, { recursive: true, force: true }));
    mkdirSync(join(dir, '..v1'));
    writeFileSync(join(dir, '..v1', 'token'), 'first\n');
    symlinkSync('..v1', join(dir, '..data'));
    symlinkSync('..data/token', join(dir, 'token'));
    t = await startTestSidecar({ SIDECAR_GRPC_TOKEN_FILE: join(dir, 'token') });
    const first = raw(t.target, 'Bearer first');
    const second = raw(t.target, 'Bearer second');
    expect(await code(first.unary('ListWorkers', listWorkers))).toBe(status.OK);
    expect(await code(second.unary('ListWorkers', listWorkers))).toBe(status.UNAUTHENTICATED);

    mkdirSync(join(dir, '..v2'));
    writeFileSync(join(dir, '..v2', 'token'), 'second\n');
    symlinkSync('..v2', join(dir, '..data_tmp'));
    renameSync(join(dir, '..data_tmp'), join(dir, '..data'));

    expect(await code(second.unary('ListWorkers', listWorkers))).toBe(status.OK);
    expect(await code(first.unary('ListWorkers', listWorkers))).toBe(status.UNAUTHENTICATED);
    const client = createSidecarClient(t.target, { token: 'second' });
    closers.push(() => client.close());
    const s = new SessionClient(client);
    expect((await s.send({ hello: { clientId: 'sfu' } })).hello).toEqual({ adoptedGuards: 0 });
    await s.end();
  });
});
