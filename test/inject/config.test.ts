import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ConfigError,
  loadSidecarDefaults,
  loadWebhookConfig,
  parseWebhookArgs,
  USAGE,
} from '../../src/inject/config.js';
import { BUILTIN_DEFAULTS } from '../../src/inject/settings.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

function file(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'inject-config-'));
  dirs.push(dir);
  const path = join(dir, 'sidecar-defaults.yaml');
  writeFileSync(path, text);
  return path;
}

function config(argv: string[], env: NodeJS.ProcessEnv = {}) {
  const { parsed } = parseWebhookArgs(argv, env);
  if (parsed.help) throw new Error('unexpected --help');
  return parsed.config;
}

describe('webhook flags and env', () => {
  it('has defaults matching the chart’s mounts', () => {
    expect(config([])).toEqual({
      listenHost: '0.0.0.0',
      listenPort: 8443,
      tlsCertFile: '/etc/telemetry-sidecar/tls/tls.crt',
      tlsKeyFile: '/etc/telemetry-sidecar/tls/tls.key',
      certReloadIntervalMs: 60_000,
      defaultsFile: undefined,
      logLevel: 'info',
    });
  });

  it('lets a flag beat its env var', () => {
    const env = { INJECT_LISTEN_ADDR: '127.0.0.1:9443', INJECT_TLS_CERT_FILE: '/env.crt', LOG_LEVEL: 'debug' };
    expect(config(['--listen-addr', '[::]:10443'], env)).toMatchObject({
      listenHost: '::',
      listenPort: 10443,
      tlsCertFile: '/env.crt',
      logLevel: 'debug',
    });
  });

  it.each([
    [['--listen-addr', 'nowhere'], {}, '--listen-addr: must be host:port'],
    [[], { INJECT_LISTEN_ADDR: 'nowhere' }, 'INJECT_LISTEN_ADDR: must be host:port'],
    [[], { INJECT_CERT_RELOAD_INTERVAL: '5' }, 'INJECT_CERT_RELOAD_INTERVAL: must be a duration with a unit'],
    [[], { INJECT_CERT_RELOAD_INTERVAL: '0s' }, 'INJECT_CERT_RELOAD_INTERVAL: must be greater than zero'],
    [['--cert-reload-interval', '1000h'], {}, '--cert-reload-interval: must be at most 2147483647ms'],
    [[], { LOG_LEVEL: 'chatty' }, 'LOG_LEVEL: must be one of trace, debug, info, warn, error, fatal, silent'],
    [['--bogus'], {}, '--bogus: unknown option (see --help)'],
    [['--listen-addr'], {}, '--listen-addr: needs a value'],
  ])('stops on %j %j with one line naming the setting', (argv, env, message) => {
    expect(() => parseWebhookArgs(argv, env)).toThrow(ConfigError);
    expect(() => parseWebhookArgs(argv, env)).toThrow(message);
  });

  it('answers --help with a usage text listing every env var', async () => {
    expect(await loadWebhookConfig(['--help'], {})).toEqual({ help: true });
    for (const env of ['INJECT_LISTEN_ADDR', 'INJECT_TLS_CERT_FILE', 'INJECT_SIDECAR_DEFAULTS_FILE']) {
      expect(USAGE).toContain(env);
    }
  });
});

describe('sidecar defaults file', () => {
  it('uses the built-in defaults without a file', async () => {
    expect(await loadSidecarDefaults(undefined)).toBe(BUILTIN_DEFAULTS);
  });

  it('reads YAML over the built-in defaults', async () => {
    const path = file(
      'image: "registry.example/ts:1.2.3"\nmode: container\nhttpPort: 19464\nresources:\n  limits:\n    memory: 512Mi\n',
    );
    const loaded = await loadWebhookConfig([], { INJECT_SIDECAR_DEFAULTS_FILE: path });
    if (loaded.help) throw new Error('unexpected --help');
    expect(loaded.config.defaults).toEqual({
      ...BUILTIN_DEFAULTS,
      image: 'registry.example/ts:1.2.3',
      mode: 'container',
      httpPort: 19464,
      resources: { requests: BUILTIN_DEFAULTS.resources.requests, limits: { cpu: '1', memory: '512Mi' } },
    });
  });

  it.each([
    ['imagePullPolicy: Sometimes\n', 'imagePullPolicy: must be Always, IfNotPresent or Never'],
    ['httpPorts: 1\n', 'httpPorts: unknown key'],
    ['resources:\n  requests:\n    memory: 1Gi\n', 'resources.requests.memory: request 1Gi exceeds limit 256Mi'],
    ['extraEnv:\n  - name: X\n    value: 1\n', 'extraEnv[0].value: must be a string'],
    ['[1, 2\n', 'is not YAML'],
  ])('rejects %j naming the file and key', async (text, message) => {
    const path = file(text);
    await expect(loadSidecarDefaults(path)).rejects.toThrow(ConfigError);
    await expect(loadSidecarDefaults(path)).rejects.toThrow(message);
  });

  it('names the env var when the file is missing', async () => {
    await expect(loadSidecarDefaults('/nonexistent/defaults.yaml')).rejects.toThrow(
      '--sidecar-defaults-file / INJECT_SIDECAR_DEFAULTS_FILE: cannot read /nonexistent/defaults.yaml',
    );
  });
});
