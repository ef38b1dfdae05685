/**
 * Startup failures with the real CLI in a child process: a bad value, a file a
 * setting names, a port that cannot be bound — each is one line on stderr
 * naming the setting (the flag when it came from a flag) and exit code 2.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makePki, type TestPki } from '../helpers/pki.js';
import { runCli } from '../helpers/process.js';

let dir: string;
let pki: TestPki;
let client: { certFile: string; keyFile: string };
let other: { certFile: string; keyFile: string };
let busy: Server;
let busyPort: number;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'startup-'));
  pki = makePki();
  client = pki.issue('client');
  other = pki.issue('other');
  writeFileSync(join(dir, 'garbage.pem'), 'this is not a certificate\n');
  writeFileSync(join(dir, 'empty-token'), '  \n');
  writeFileSync(join(dir, 'token'), 's3cret\n');
  writeFileSync(join(dir, 'a-file'), 'x');
  busy = createServer();
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  busyPort = (busy.address() as { port: number }).port;
});

afterAll(async () => {
  await new Promise((resolve) => busy.close(resolve));
  pki.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

/** Free ports and a harmless upstream, so only the setting under test can fail. */
const base = () => ({
  SIDECAR_GRPC_ADDR: '127.0.0.1:0',
  SIDECAR_HTTP_ADDR: '127.0.0.1:0',
  SIDECAR_UPSTREAM: `file:${join(dir, 'out', 'stats.ndjson')}`,
});
const grpcs = 'grpcs://127.0.0.1:1';

/** Runs the CLI and returns its exit code and the one stderr line. */
async function fails(args: string[], env: Record<string, string>): Promise<{ code: number | null; line: string }> {
  const { code, stderr, stdout } = await runCli(args, env);
  expect(stdout, 'never served').not.toContain('serving');
  const lines = stderr.split('\n').filter(Boolean);
  expect(lines, stderr).toHaveLength(1);
  return { code, line: lines[0]! };
}

describe('sidecar startup errors: one line naming the setting, exit code 2', () => {
  it.each([
    [
      'a flush interval no timer can hold',
      [],
      { SIDECAR_FLUSH_INTERVAL: '1000h' },
      /^telemetry-sidecar: SIDECAR_FLUSH_INTERVAL: must be at most 2147483647ms .*got "1000h"$/,
    ],
    [
      'a shutdown timeout no timer can hold, from a flag',
      ['--shutdown-timeout', '1000h'],
      {},
      /^telemetry-sidecar: --shutdown-timeout: must be at most 2147483647ms/,
    ],
    [
      'a zero flush interval',
      [],
      { SIDECAR_FLUSH_INTERVAL: '0s' },
      /: SIDECAR_FLUSH_INTERVAL: must be greater than zero/,
    ],
    [
      'a missing gRPC token file',
      [],
      { SIDECAR_GRPC_TOKEN_FILE: '/nonexistent/token' },
      /: SIDECAR_GRPC_TOKEN_FILE: cannot read \/nonexistent\/token: ENOENT/,
    ],
    [
      'an empty gRPC token file',
      [],
      { SIDECAR_GRPC_TOKEN_FILE: 'EMPTY' },
      /: SIDECAR_GRPC_TOKEN_FILE: .*empty-token is empty$/,
    ],
    [
      'a missing upstream token file, from a flag',
      ['--upstream-token-file', '/nonexistent/up-token'],
      { SIDECAR_UPSTREAM: grpcs },
      /: --upstream-token-file: cannot read \/nonexistent\/up-token: ENOENT/,
    ],
    [
      'a garbage CA',
      [],
      { SIDECAR_UPSTREAM: grpcs, SIDECAR_UPSTREAM_CA_FILE: 'GARBAGE' },
      /: SIDECAR_UPSTREAM_CA_FILE: .*garbage\.pem holds no PEM certificate$/,
    ],
    [
      'a garbage client certificate',
      [],
      { SIDECAR_UPSTREAM: grpcs, SIDECAR_UPSTREAM_CERT_FILE: 'GARBAGE', SIDECAR_UPSTREAM_KEY_FILE: 'CLIENT_KEY' },
      /: SIDECAR_UPSTREAM_CERT_FILE: .*garbage\.pem holds no PEM certificate$/,
    ],
    [
      'a garbage client key',
      [],
      { SIDECAR_UPSTREAM: grpcs, SIDECAR_UPSTREAM_CERT_FILE: 'CLIENT_CERT', SIDECAR_UPSTREAM_KEY_FILE: 'GARBAGE' },
      /: SIDECAR_UPSTREAM_KEY_FILE: .*garbage\.pem is not a PEM private key/,
    ],
    [
      'a client key that is not the certificate’s',
      [],
      { SIDECAR_UPSTREAM: grpcs, SIDECAR_UPSTREAM_CERT_FILE: 'CLIENT_CERT', SIDECAR_UPSTREAM_KEY_FILE: 'OTHER_KEY' },
      /: SIDECAR_UPSTREAM_KEY_FILE: .*other\.key is not the private key of .*client\.crt \(SIDECAR_UPSTREAM_CERT_FILE\)$/,
    ],
    [
      'an NDJSON file that cannot be written',
      [],
      { SIDECAR_UPSTREAM: 'file:A_FILE/stats.ndjson' },
      /: SIDECAR_UPSTREAM: cannot write .*a-file\/stats\.ndjson: E[A-Z]+/,
    ],
    [
      'a gRPC port in use',
      [],
      { SIDECAR_GRPC_ADDR: 'BUSY' },
      /^telemetry-sidecar: SIDECAR_GRPC_ADDR: cannot listen on 127\.0\.0\.1:\d+: address already in use \(EADDRINUSE\)$/,
    ],
    [
      'an HTTP port in use, from a flag',
      ['--http-addr', 'BUSY'],
      {},
      /^telemetry-sidecar: --http-addr: cannot listen on 127\.0\.0\.1:\d+: address already in use \(EADDRINUSE\)$/,
    ],
  ])('%s', async (_what, args, env, pattern) => {
    const resolve = (v: string) =>
      ({
        EMPTY: join(dir, 'empty-token'),
        GARBAGE: join(dir, 'garbage.pem'),
        CLIENT_CERT: client.certFile,
        CLIENT_KEY: client.keyFile,
        OTHER_KEY: other.keyFile,
        BUSY: `127.0.0.1:${busyPort}`,
      })[v] ?? v.replace('A_FILE', join(dir, 'a-file'));
    const { code, line } = await fails(
      args.map(resolve),
      Object.fromEntries(Object.entries({ ...base(), ...env }).map(([k, v]) => [k, resolve(v)])),
    );
    expect(code).toBe(2);
    expect(line).toMatch(pattern);
  });
});

describe('subcommand startup errors', () => {
  it('loadgen: a duration without a unit names the flag, exit code 2', async () => {
    const { code, line } = await fails(['loadgen', '--duration', '30'], {});
    expect(code).toBe(2);
    expect(line).toMatch(/^telemetry-sidecar loadgen: --duration: must be a duration with a unit/);
  });

  it('inject-webhook: a garbage serving certificate names the setting, exit code 2', async () => {
    const { code, line } = await fails(['inject-webhook', '--listen-addr', '127.0.0.1:0'], {
      INJECT_TLS_CERT_FILE: join(dir, 'garbage.pem'),
      INJECT_TLS_KEY_FILE: client.keyFile,
    });
    expect(code).toBe(2);
    expect(line).toMatch(
      /^telemetry-sidecar inject-webhook: INJECT_TLS_CERT_FILE: .*garbage\.pem holds no PEM certificate$/,
    );
  });

  it('inject-webhook: a port in use names the setting, exit code 2', async () => {
    const { code, line } = await fails(['inject-webhook', '--listen-addr', `127.0.0.1:${busyPort}`], {
      INJECT_TLS_CERT_FILE: client.certFile,
      INJECT_TLS_KEY_FILE: client.keyFile,
    });
    expect(code).toBe(2);
    expect(line).toMatch(/^telemetry-sidecar inject-webhook: --listen-addr: cannot listen: .*EADDRINUSE/);
  });
});
