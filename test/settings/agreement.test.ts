/**
 * One settings language: the same raw value is accepted or refused — with the
 * same words — by the sidecar (env and flag), the webhook's own options, the
 * webhook's defaults file and the pod annotations; and whatever the webhook
 * injects, the sidecar starts with.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../src/config.js';
import { resolveSettings } from '../../src/inject/annotations.js';
import { parseWebhookArgs } from '../../src/inject/config.js';
import { BUILTIN_DEFAULTS, parseDefaults, type SidecarSettings } from '../../src/inject/settings.js';
import { renderSidecarContainer } from '../../src/inject/sidecar-container.js';
import { SettingError } from '../../src/settings/index.js';
import { kubeletEnv } from '../helpers/kubelet-env.js';

type Outcome = { ok: true } | { ok: false; problem: string };

function outcome(run: () => unknown): Outcome {
  try {
    run();
    return { ok: true };
  } catch (err) {
    if (err instanceof SettingError) return { ok: false, problem: err.problem };
    throw err;
  }
}

const sidecarEnv = (env: Record<string, string>) => loadConfig({ env, argv: [], memoryLimitBytes: () => undefined });
const sidecarFlag = (flag: string, value: string) =>
  loadConfig({ env: {}, argv: [`--${flag}=${value}`], memoryLimitBytes: () => undefined });
const webhookEnv = (env: Record<string, string>) => parseWebhookArgs([], env).parsed;
const webhookFlag = (flag: string, value: string) => parseWebhookArgs([`--${flag}=${value}`], {}).parsed;
const annotation = (name: string, value: string) =>
  resolveSettings(BUILTIN_DEFAULTS, { [`telemetry-sidecar/${name}`]: value }).settings;
const defaultsFile = (key: string, value: string) => parseDefaults({ [key]: value }, 'defaults.yaml');

/** The sidecar config the injected container's env produces, expanded as the kubelet does. */
function injectedSidecar(settings: SidecarSettings): Readonly<Config> {
  return sidecarEnv(kubeletEnv(renderSidecarContainer(settings).env));
}

/** Runs every consumer and asserts they agree with each other and with `expected`; returns the outcome. */
function agree(consumers: Record<string, () => unknown>, expected: boolean): Outcome {
  const outcomes = Object.entries(consumers).map(([name, run]) => [name, outcome(run)] as const);
  const first = outcomes[0]![1];
  for (const [name, o] of outcomes) {
    expect(o, name).toEqual(first);
  }
  expect(first.ok, JSON.stringify(outcomes)).toBe(expected);
  return first;
}

describe('durations: flush interval (sidecar env and flag, annotation, defaults file) and the webhook reload interval', () => {
  it.each([
    ['0s', false],
    ['1.5s', true],
    ['500ms', true],
    ['1000h', false],
    ['2147483647ms', true],
    ['2147483648ms', false],
    ['-1s', false],
    [' 30s ', true],
    ['30', false],
    ['', true],
    ['5x', false],
    ['1.5ms', false],
    ['30S', false],
    ['1h30m', false],
    ['1e3s', false],
  ])('%j accepted: %s', (value, expected) => {
    agree(
      {
        sidecarEnv: () => sidecarEnv({ SIDECAR_FLUSH_INTERVAL: value }),
        sidecarFlag: () => sidecarFlag('flush-interval', value),
        webhookEnv: () => webhookEnv({ INJECT_CERT_RELOAD_INTERVAL: value }),
        webhookFlag: () => webhookFlag('cert-reload-interval', value),
        annotation: () => annotation('flush-interval', value),
        defaultsFile: () => defaultsFile('flushInterval', value),
      },
      expected,
    );
    if (!expected) return;
    const want = sidecarEnv({ SIDECAR_FLUSH_INTERVAL: value }).flushIntervalMs;
    expect(injectedSidecar(annotation('flush-interval', value)).flushIntervalMs).toBe(want);
    expect(injectedSidecar(defaultsFile('flushInterval', value)).flushIntervalMs).toBe(want);
  });

  it('reads 1.5s as 1500 ms everywhere', () => {
    expect(sidecarEnv({ SIDECAR_FLUSH_INTERVAL: '1.5s' }).flushIntervalMs).toBe(1500);
    const webhook = webhookEnv({ INJECT_CERT_RELOAD_INTERVAL: '1.5s' });
    expect(webhook.help === false && webhook.config.certReloadIntervalMs).toBe(1500);
    expect(injectedSidecar(annotation('flush-interval', '1.5s')).flushIntervalMs).toBe(1500);
  });
});

describe('ports: listen addresses (sidecar, webhook) and the injected sidecar’s ports (annotations, defaults file)', () => {
  it.each([
    ['0', true, false],
    ['80', true, false],
    ['1023', true, false],
    ['1024', true, true],
    ['65535', true, true],
    ['65536', false, false],
    ['-1', false, false],
    ['8o8o', false, false],
  ])('%s: listen %s, injected %s', (port, listen, injected) => {
    const listenOutcome = agree(
      {
        sidecarGrpc: () => sidecarEnv({ SIDECAR_GRPC_ADDR: `127.0.0.1:${port}` }),
        sidecarHttp: () => sidecarEnv({ SIDECAR_HTTP_ADDR: `0.0.0.0:${port}` }),
        sidecarFlag: () => sidecarFlag('http-addr', `0.0.0.0:${port}`),
        webhookEnv: () => webhookEnv({ INJECT_LISTEN_ADDR: `0.0.0.0:${port}` }),
        webhookFlag: () => webhookFlag('listen-addr', `0.0.0.0:${port}`),
      },
      listen,
    );
    agree(
      {
        httpPort: () => annotation('http-port', port),
        grpcPort: () => annotation('grpc-port', port),
        defaultsHttp: () => defaultsFile('httpPort', port),
        defaultsGrpc: () => defaultsFile('grpcPort', port),
      },
      injected,
    );
    // the webhook is stricter only where the non-root sidecar could not bind
    if (listenOutcome.ok && !injected) expect(Number(port)).toBeLessThan(1024);
    if (injected) {
      expect(injectedSidecar(annotation('http-port', port)).httpAddr.port).toBe(Number(port));
      expect(injectedSidecar(annotation('grpc-port', port)).grpcAddr.port).toBe(Number(port));
    }
  });

  it('refuses the same low ports from YAML numbers as from annotation strings', () => {
    expect(() => parseDefaults({ httpPort: 80 }, 'defaults.yaml')).toThrow(
      'defaults.yaml: httpPort: must be a port number 1024-65535',
    );
  });
});

describe('addresses, IPv6 included', () => {
  it.each([
    ['127.0.0.1:50151', true],
    ['localhost:50151', true],
    [':9464', true],
    ['[::1]:50151', true],
    ['[::]:0', true],
    ['[fe80::1]:8443', true],
    // what the injected sidecar binds with hostNetwork or a pod IP on an IPv4 cluster: [$(POD_IP)]:port
    ['[10.0.0.7]:9464', true],
    ['::1:50151', false],
    ['[::1]', false],
    ['[not-an-ip]:80', false],
    ['my host:80', false],
    ['127.0.0.1', false],
    ['127.0.0.1:', false],
    ['', true],
  ])('%j accepted: %s', (value, expected) => {
    agree(
      {
        sidecarGrpc: () => sidecarEnv({ SIDECAR_GRPC_ADDR: value }),
        sidecarHttp: () => sidecarEnv({ SIDECAR_HTTP_ADDR: value }),
        sidecarFlag: () => sidecarFlag('grpc-addr', value),
        webhookEnv: () => webhookEnv({ INJECT_LISTEN_ADDR: value }),
        webhookFlag: () => webhookFlag('listen-addr', value),
      },
      expected,
    );
  });

  it('reads the IPv6 host without brackets', () => {
    expect(sidecarEnv({ SIDECAR_GRPC_ADDR: '[::1]:0' }).grpcAddr).toEqual({ host: '::1', port: 0 });
    expect(sidecarEnv({ SIDECAR_HTTP_ADDR: '[10.0.0.7]:9464' }).httpAddr).toEqual({ host: '10.0.0.7', port: 9464 });
    const webhook = webhookEnv({ INJECT_LISTEN_ADDR: '[::]:8443' });
    expect(webhook.help === false && webhook.config.listenHost).toBe('::');
  });
});

describe('log levels: pino’s own table', () => {
  it.each([
    ['trace', true],
    ['debug', true],
    ['info', true],
    ['warn', true],
    ['error', true],
    ['fatal', true],
    ['silent', true],
    [' warn ', true],
    ['', true],
    ['INFO', false],
    ['warning', false],
    ['verbose', false],
    ['30', false],
  ])('%j accepted: %s', (value, expected) => {
    agree(
      {
        sidecarEnv: () => sidecarEnv({ LOG_LEVEL: value }),
        sidecarFlag: () => sidecarFlag('log-level', value),
        webhookEnv: () => webhookEnv({ LOG_LEVEL: value }),
        webhookFlag: () => webhookFlag('log-level', value),
        annotation: () => annotation('log-level', value),
        defaultsFile: () => defaultsFile('logLevel', value),
      },
      expected,
    );
    if (expected && value.trim() !== '') {
      expect(injectedSidecar(annotation('log-level', value)).logLevel).toBe(value.trim());
    }
  });
});

describe('upstream URLs', () => {
  it.each([
    ['stdout:', true],
    ['file:/data/analytics-stats.ndjson', true],
    ['grpc://analytics:7000', true],
    ['grpcs://[::1]:443', true],
    [' grpc://analytics:7000 ', true],
    ['grpc://analytics', false],
    ['grpc://analytics:0', false],
    ['grpc://::1:443', false],
    ['http://analytics:80', false],
    ['file:', false],
  ])('%j accepted: %s', (value, expected) => {
    agree(
      {
        sidecarEnv: () => sidecarEnv({ SIDECAR_UPSTREAM: value }),
        sidecarFlag: () => sidecarFlag('upstream', value),
        annotation: () => annotation('upstream', value),
        defaultsFile: () => defaultsFile('upstream', value),
      },
      expected,
    );
    if (expected) {
      expect(injectedSidecar(annotation('upstream', value)).upstream).toEqual(
        sidecarEnv({ SIDECAR_UPSTREAM: value }).upstream,
      );
    }
  });
});

describe('byte sizes', () => {
  it.each([
    ['268435456', true],
    ['64Mi', true],
    ['1G', true],
    ['1.5Ki', true],
    ['1GB', false],
    ['64MiB', false],
    ['0.5', false],
    ['0', false],
    ['-1Mi', false],
  ])('%j accepted: %s', (value, expected) => {
    agree(
      {
        sidecarQueue: () => sidecarEnv({ SIDECAR_QUEUE_MAX_BYTES: value }),
        sidecarFlag: () => sidecarFlag('queue-max-bytes', value),
        defaultsDataSize: () => defaultsFile('dataSizeLimit', value),
      },
      expected,
    );
  });
});
