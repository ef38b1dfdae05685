import { afterEach, describe, expect, it, vi } from 'vitest';
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
