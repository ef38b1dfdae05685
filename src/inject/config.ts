/**
 * The webhook's own options, parsed once from flags and env (a flag beats its
 * env var, which beats the default). The only place the webhook reads env.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { BUILTIN_DEFAULTS, parseDefaults, parseLogLevel, SettingError } from './settings.js';
import type { SidecarSettings } from './settings.js';

export interface WebhookConfig {
  listenHost: string;
  /** 0 picks a free port (tests). */
  listenPort: number;
  tlsCertFile: string;
  tlsKeyFile: string;
  /** How often the certificate files are checked for rotation (cert-manager), in milliseconds, default 60_000. */
  certReloadIntervalMs: number;
  /** YAML or JSON file with the sidecar defaults (the chart renders it from `values.sidecar`); unset: built-in. */
  defaultsFile: string | undefined;
  logLevel: string;
  defaults: SidecarSettings;
}

/** One line naming the flag and env var, printed as-is by the CLI. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

interface Option {
  flag: string;
  env: string;
  default: string | undefined;
  help: string;
}

export const OPTIONS = {
  listenAddr: { flag: 'listen-addr', env: 'INJECT_LISTEN_ADDR', default: '0.0.0.0:8443', help: 'HTTPS host:port' },
  tlsCertFile: {
    flag: 'tls-cert-file',
    env: 'INJECT_TLS_CERT_FILE',
    default: '/etc/telemetry-sidecar/tls/tls.crt',
    help: 'PEM certificate (chain) served to the API server',
  },
  tlsKeyFile: {
    flag: 'tls-key-file',
    env: 'INJECT_TLS_KEY_FILE',
    default: '/etc/telemetry-sidecar/tls/tls.key',
    help: 'PEM private key',
  },
  certReloadInterval: {
    flag: 'cert-reload-interval',
    env: 'INJECT_CERT_RELOAD_INTERVAL',
    default: '60s',
    help: 'how often to re-read rotated certificate files (ms, s, m, h)',
  },
  defaultsFile: {
    flag: 'sidecar-defaults-file',
    env: 'INJECT_SIDECAR_DEFAULTS_FILE',
    default: undefined,
    help: 'YAML file with the injected sidecar defaults (image, resources, ports, ...)',
  },
  logLevel: { flag: 'log-level', env: 'LOG_LEVEL', default: 'info', help: 'webhook log level' },
} as const satisfies Record<string, Option>;

export const USAGE = [
  'Usage: telemetry-sidecar inject-webhook [flags]',
  '',
  'Serves the Kubernetes mutating admission webhook that injects the telemetry sidecar',
  'into pods annotated telemetry-sidecar/inject: "true". Every flag also reads its env var.',
  '',
  ...Object.values(OPTIONS).map(
    (o: Option) =>
      `  --${o.flag.padEnd(24)} ${o.env.padEnd(30)} ${o.help}${o.default ? ` (default ${o.default})` : ''}`,
  ),
  `  --${'help'.padEnd(24)} ${''.padEnd(30)} print this help`,
  '',
].join('\n');

function parseListenAddr(o: Option, raw: string): { host: string; port: number } {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]\s]+):(\d{1,5})$/.exec(raw);
  const port = m?.[2] === undefined ? NaN : Number(m[2]);
  if (!m || m[1] === undefined || !(port >= 0 && port <= 65535)) {
    throw new ConfigError(`--${o.flag} / ${o.env}: expected host:port such as 0.0.0.0:8443, got "${raw}"`);
  }
  return { host: m[1].replace(/^\[(.*)\]$/, '$1'), port };
}

const DURATION_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

function parseDurationMs(o: Option, raw: string): number {
  const m = /^(\d+)(ms|s|m|h)$/.exec(raw);
  const unit = m?.[2] === undefined ? undefined : DURATION_MS[m[2]];
  if (!m || unit === undefined || Number(m[1]) === 0) {
    throw new ConfigError(`--${o.flag} / ${o.env}: expected a positive duration such as 60s, got "${raw}"`);
  }
  return Number(m[1]) * unit;
}

/** Reads flags and env; `help: true` when --help was given. */
export function parseWebhookArgs(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
): { help: true } | { help: false; config: Omit<WebhookConfig, 'defaults'> } {
  let values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  try {
    const options = Object.fromEntries([
      ...Object.values(OPTIONS).map((o: Option) => [o.flag, { type: 'string' as const }]),
      ['help', { type: 'boolean' as const, short: 'h' }],
    ]);
    values = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw new ConfigError(`inject-webhook: ${(err as Error).message} (see --help)`);
  }
  if (values.help === true) return { help: true };
  const get = (o: Option): string | undefined => {
    const flag = values[o.flag];
    if (typeof flag === 'string') return flag;
    const fromEnv = env[o.env];
    return fromEnv !== undefined && fromEnv !== '' ? fromEnv : o.default;
  };
  const listen = parseListenAddr(OPTIONS.listenAddr, get(OPTIONS.listenAddr) ?? OPTIONS.listenAddr.default);
  let logLevel: string;
  try {
    logLevel = parseLogLevel(`--log-level / LOG_LEVEL`, get(OPTIONS.logLevel));
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  return {
    help: false,
    config: {
      listenHost: listen.host,
      listenPort: listen.port,
      tlsCertFile: get(OPTIONS.tlsCertFile) ?? OPTIONS.tlsCertFile.default,
      tlsKeyFile: get(OPTIONS.tlsKeyFile) ?? OPTIONS.tlsKeyFile.default,
      certReloadIntervalMs: parseDurationMs(
        OPTIONS.certReloadInterval,
        get(OPTIONS.certReloadInterval) ?? OPTIONS.certReloadInterval.default,
      ),
      defaultsFile: get(OPTIONS.defaultsFile),
      logLevel,
    },
  };
}

/** Reads and validates the sidecar defaults file; a bad file stops startup naming the file and key. */
export async function loadSidecarDefaults(file: string | undefined): Promise<SidecarSettings> {
  if (file === undefined) return BUILTIN_DEFAULTS;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError(
      `--sidecar-defaults-file / INJECT_SIDECAR_DEFAULTS_FILE: cannot read ${file}: ${(err as Error).message}`,
    );
  }
  try {
    return parseDefaults(parseYaml(text), file);
  } catch (err) {
    if (err instanceof SettingError)
      throw new ConfigError(`--sidecar-defaults-file / INJECT_SIDECAR_DEFAULTS_FILE: ${err.message}`);
    throw new ConfigError(
      `--sidecar-defaults-file / INJECT_SIDECAR_DEFAULTS_FILE: ${file} is not YAML: ${(err as Error).message}`,
    );
  }
}

export async function loadWebhookConfig(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<{ help: true } | { help: false; config: WebhookConfig }> {
  const parsed = parseWebhookArgs(argv, env);
  if (parsed.help) return parsed;
  const defaults = await loadSidecarDefaults(parsed.config.defaultsFile);
  return { help: false, config: Object.freeze({ ...parsed.config, defaults }) };
}
