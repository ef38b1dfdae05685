import { afterEach, describe, expect, it, vi } from 'vitest';
import { makePki } from '../helpers/pki.js';
import { spawnMain } from '../helpers/process.js';
import { runInjectWebhook } from '../../src/inject/cli.js';
import { USAGE } from '../../src/inject/config.js';

afterEach(() => {
  vi.restoreAllMocks();
  process.exitCode = undefined;
});

describe('runInjectWebhook', () => {
  it('prints the usage for --help and returns', async () => {
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    await runInjectWebhook(['--help'], {});
    expect(out).toHaveBeenCalledWith(USAGE);
    expect(process.exitCode).toBeUndefined();
  });

  it('prints one line and sets exit code 2 for a bad setting, without throwing', async () => {
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    await runInjectWebhook([], { INJECT_LISTEN_ADDR: 'nowhere' });
    expect(err).toHaveBeenCalledTimes(1);
    expect(err.mock.calls[0]?.[0]).toMatch(/^telemetry-sidecar inject-webhook: INJECT_LISTEN_ADDR: .*\n$/);
    expect(process.exitCode).toBe(2);
  });
});

describe('the inject-webhook process', () => {
  it('logs in the sidecar’s JSON format, marked as the webhook, and exits 0 on SIGTERM', async () => {
    const pki = makePki();
    try {
      const { certFile, keyFile } = pki.issue('server');
      const p = spawnMain(['inject-webhook', '--listen-addr', '127.0.0.1:0'], {
        INJECT_TLS_CERT_FILE: certFile,
        INJECT_TLS_KEY_FILE: keyFile,
      });
      const line = JSON.parse(await p.line(/injection webhook listening/)) as Record<string, unknown>;
      expect(line).toMatchObject({
        level: 'info',
        service: 'telemetry-sidecar',
        component: 'inject-webhook',
        msg: 'injection webhook listening',
      });
      expect(new Date(String(line.time)).toISOString()).toBe(line.time);
      p.child.kill('SIGTERM');
      expect(await p.exited).toBe(0);
    } finally {
      pki.cleanup();
    }
  });
});
