/**
 * The webhook's own options, parsed once from flags and env (a flag beats its
 * env var, which beats the default) with the settings language the sidecar
 * uses (src/settings). The only place the webhook reads env.
 */
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import {
  address,
  checkKeyPair,
  helpRows,
  loadSettings,
  logLevel,
  path,
  positiveDuration,
  renderHelp,
  SettingError,
  type Setting,
} from '../settings/index.js';
import { diskSettings } from './disk-budget.js';
import { BUILTIN_DEFAULTS, parseDefaults } from './settings.js';
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

/** The one settings error, under the name the webhook's callers know. */
export { SettingError as ConfigError };

export const OPTIONS = {
  listenAddr: { env: 'INJECT_LISTEN_ADDR', default: '0.0.0.0:8443', parse: address, help: 'HTTPS host:port' },
  tlsCertFile: {
    env: 'INJECT_TLS_CERT_FILE',
    default: '/etc/telemetry-sidecar/tls/tls.crt',
    parse: path,
    help: 'PEM certificate (chain) served to the API server',
  },
  tlsKeyFile: {
    env: 'INJECT_TLS_KEY_FILE',
    default: '/etc/telemetry-sidecar/tls/tls.key',
    parse: path,
    help: 'PEM private key',
  },
  certReloadIntervalMs: {
    env: 'INJECT_CERT_RELOAD_INTERVAL',
    default: '60s',
    parse: positiveDuration,
    help: 'how often to re-read rotated certificate files (> 0)',
  },
  defaultsFile: {
    env: 'INJECT_SIDECAR_DEFAULTS_FILE',
    parse: path,
    help: 'YAML file with the injected sidecar defaults (image, resources, ports, ...)',
  },
  logLevel: { env: 'LOG_LEVEL', default: 'info', parse: logLevel, help: 'webhook log level' },
} satisfies Record<string, Setting<unknown>>;

const TABLE_OPTIONS = { envPrefix: 'INJECT_', booleans: ['help'] };
const DEFAULTS_FILE = '--sidecar-defaults-file / INJECT_SIDECAR_DEFAULTS_FILE';

export const USAGE = [
  'Usage: telemetry-sidecar inject-webhook [flags]',
  '',
  'Serves the Kubernetes mutating admission webhook that injects the telemetry sidecar',
  'into pods annotated telemetry-sidecar/inject: "true". Every flag also reads its env var.',
  '',
  renderHelp([...helpRows(OPTIONS, TABLE_OPTIONS.envPrefix), { flag: 'help', help: 'print this help' }]),
  '',
].join('\n');

type Parsed = { help: true } | { help: false; config: Omit<WebhookConfig, 'defaults'> };

/** Which flag or env var supplied each option of a loaded config, for startup errors. */
const NAMES = new WeakMap<object, Record<keyof typeof OPTIONS, string>>();

/** Reads flags and env (`help: true` when --help was given), and which of them set each option. */
export function parseWebhookArgs(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
): { parsed: Parsed; names: Record<keyof typeof OPTIONS, string> } {
  const { values, names, booleans } = loadSettings(OPTIONS, { env, argv }, TABLE_OPTIONS);
  if (booleans.help) return { parsed: { help: true }, names };
  return {
    names,
    parsed: {
      help: false,
      config: {
        listenHost: values.listenAddr!.host,
        listenPort: values.listenAddr!.port,
        tlsCertFile: values.tlsCertFile!,
        tlsKeyFile: values.tlsKeyFile!,
        certReloadIntervalMs: values.certReloadIntervalMs!,
        defaultsFile: values.defaultsFile,
        logLevel: values.logLevel!,
      },
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
    throw new SettingError(DEFAULTS_FILE, `cannot read ${file}: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new SettingError(DEFAULTS_FILE, `${file} is not YAML: ${(err as Error).message}`);
  }
  try {
    return checkDiskSettings(parseDefaults(raw, file), file);
  } catch (err) {
    if (err instanceof SettingError) throw new SettingError(DEFAULTS_FILE, err.message);
    throw err;
  }
}

/** extraEnv can move the spool or the NDJSON files onto /data: refuse at start what the disk check cannot read. */
function checkDiskSettings(defaults: SidecarSettings, file: string): SidecarSettings {
  try {
    diskSettings(defaults);
  } catch (err) {
    if (err instanceof SettingError) throw new SettingError(`${file}: ${err.setting}`, err.problem);
    throw err;
  }
  return defaults;
}

export async function loadWebhookConfig(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<{ help: true } | { help: false; config: WebhookConfig }> {
  const { parsed, names } = parseWebhookArgs(argv, env);
  if (parsed.help) return parsed;
  const defaults = await loadSidecarDefaults(parsed.config.defaultsFile);
  const config = Object.freeze({ ...parsed.config, defaults });
  NAMES.set(config, names);
  return { help: false, config };
}

/** The flag or env var that set `key` (the env var for configs not made by loadWebhookConfig). */
export function optionName(config: Readonly<WebhookConfig>, key: keyof typeof OPTIONS): string {
  return NAMES.get(config)?.[key] ?? OPTIONS[key].env;
}

/** The serving certificate and key parse and belong together: checked before listening (exit code 2 otherwise). */
export function checkWebhookFiles(config: Readonly<WebhookConfig>): void {
  checkKeyPair(
    { setting: optionName(config, 'tlsCertFile'), path: config.tlsCertFile },
    { setting: optionName(config, 'tlsKeyFile'), path: config.tlsKeyFile },
  );
}
