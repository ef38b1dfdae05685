/**
 * What the injected sidecar looks like for one pod: the webhook's defaults with
 * that pod's annotation overrides applied. Validation lives here so the
 * defaults file and the annotations are held to the same rules, and values the
 * sidecar reads (upstream, flush interval, log level, ports) are checked with
 * the sidecar's own parsers (src/settings), so what the webhook injects, the sidecar starts with.
 */
import {
  byteSize,
  InvalidValue,
  logLevel,
  positiveDuration,
  positiveInt,
  requireSetting,
  SettingError,
  unprivilegedPort,
  upstream,
  type Parser,
} from '../settings/index.js';

export type InjectMode = 'native' | 'container';
/** pod-ip: /metrics and the probes on the pod's IP only (status.podIP); all: every interface (0.0.0.0). */
export type HttpBind = 'pod-ip' | 'all';

export interface ResourceList {
  cpu: string;
  memory: string;
}

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: Record<string, unknown>;
}

export interface SidecarSettings {
  image: string;
  imagePullPolicy: 'Always' | 'IfNotPresent' | 'Never';
  /** native: init container with restartPolicy Always (Kubernetes >= 1.29); container: plain container. */
  mode: InjectMode;
  /** gRPC listen port; always bound to 127.0.0.1. */
  grpcPort: number;
  /** HTTP port for /metrics, /healthz, /readyz; a node port when the pod uses hostNetwork. */
  httpPort: number;
  /** Container port name a PodMonitor selects; unique in the pod, so not the common `metrics`. */
  portName: string;
  /** Where the HTTP port listens; with hostNetwork, `all` includes the node's public interfaces. */
  httpBind: HttpBind;
  upstream: string;
  /** Empty: the sidecar's own default. */
  flushInterval: string;
  logLevel: string;
  resources: { requests: ResourceList; limits: ResourceList };
  /** Size cap of the emptyDir the sidecar writes to (NDJSON sink, spool). */
  dataSizeLimit: string;
  /**
   * Secret (key `token`) whose value every gRPC call must carry; empty: no auth.
   * Wanted with hostNetwork, where 127.0.0.1 is shared by the node's host-network pods.
   */
  grpcTokenSecret: string;
  /** Secret (key `token`) that /metrics scrapes must present as a bearer token; empty: /metrics open. */
  metricsTokenSecret: string;
  /** NDJSON file sink rotation (SIDECAR_FILE_MAX_BYTES / _FILES); sized to the data volume, see docs/kubernetes.md. */
  fileMaxBytes: number;
  fileMaxFiles: number;
  /** Secret (key `nats.creds`) holding the NATS credentials file for a nats:// upstream; empty: none. */
  natsCredsSecret: string;
  extraEnv: readonly EnvVar[];
  securityContext: Record<string, unknown>;
}

/** Where the data emptyDir is mounted; the default NDJSON sink writes here. */
export const DATA_MOUNT_PATH = '/data';

export const BUILTIN_DEFAULTS: SidecarSettings = Object.freeze({
  image: 'telemetry-sidecar:latest',
  imagePullPolicy: 'IfNotPresent',
  mode: 'native',
  grpcPort: 50151,
  httpPort: 9464,
  portName: 'sidecar-metrics',
  httpBind: 'pod-ip',
  upstream: `file:${DATA_MOUNT_PATH}/analytics-stats.ndjson`,
  flushInterval: '',
  logLevel: 'info',
  // Sized for what the 256Mi limit supports, 5,000 participants × 10 tracks: 180 MiB peak RSS (full speed,
  // or the upstream down); 2-3 µs of CPU per stat at 10,000 stats/s (docs/kubernetes.md "Memory and CPU").
  resources: { requests: { cpu: '50m', memory: '192Mi' }, limits: { cpu: '1', memory: '256Mi' } },
  dataSizeLimit: '1Gi',
  grpcTokenSecret: '',
  metricsTokenSecret: '',
  // 96 MiB × (1 live + 3 rotated) = 384 MiB: with the largest spool the sidecar derives (256 MiB + 16 MiB
  // quarantine) still within 3/4 of the 1Gi volume, whatever the memory limit (docs/kubernetes.md "Disk").
  fileMaxBytes: 96 * 1024 * 1024,
  fileMaxFiles: 3,
  natsCredsSecret: '',
  extraEnv: [],
  securityContext: {
    runAsNonRoot: true,
    // Numeric so the kubelet can verify runAsNonRoot; matches USER in the Dockerfile.
    runAsUser: 1000,
    runAsGroup: 1000,
    readOnlyRootFilesystem: true,
    allowPrivilegeEscalation: false,
    capabilities: { drop: ['ALL'] },
    seccompProfile: { type: 'RuntimeDefault' },
  },
});

export { SettingError };

/** Checks one value of a setting named `setting` (annotation or file key); absent or empty is an error here. */
type Check<T> = (setting: string, raw: unknown) => T;

const check =
  <T>(parse: Parser<T>): Check<T> =>
  (setting, raw) =>
    requireSetting(setting, parse, raw);

/** Validated with `parse`, kept as the (trimmed) text the sidecar will read from its env. */
const checkText =
  (parse: Parser<unknown>): Check<string> =>
  (setting, raw) => {
    requireSetting(setting, parse, raw);
    return String(raw).trim();
  };

const oneOf =
  <T extends string>(values: readonly T[], what = values.map((v) => `"${v}"`).join(' or ')): Parser<T> =>
  (raw) => {
    if ((values as readonly string[]).includes(raw)) return raw as T;
    throw new InvalidValue(`must be ${what}, got ${JSON.stringify(raw)}`);
  };

const matching =
  (pattern: RegExp, what: string): Parser<string> =>
  (raw) => {
    if (pattern.test(raw)) return raw;
    throw new InvalidValue(`must be ${what}, got ${JSON.stringify(raw)}`);
  };

// IANA_SVC_NAME as the API server checks it: 1-15 chars, lowercase alnum and '-', a letter somewhere.
const PORT_NAME = /^(?=.*[a-z])[a-z0-9]([a-z0-9-]{0,13}[a-z0-9])?$/;
const IMAGE = /^[^\s]{1,512}$/;
// DNS-1123 subdomain, as Secret names are.
const SECRET_NAME = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** CPU quantity in millicores, e.g. `100m` → 100, `1.5` → 1500. */
const cpuMillis: Parser<number> = (raw) => {
  const m = /^(\d+(?:\.\d+)?)(m?)$/.exec(raw);
  if (!m || m[1] === undefined)
    throw new InvalidValue(`must be a CPU quantity such as 100m or 1, got ${JSON.stringify(raw)}`);
  const millis = m[2] === 'm' ? Number(m[1]) : Number(m[1]) * 1000;
  if (millis <= 0) throw new InvalidValue(`must be greater than zero, got ${JSON.stringify(raw)}`);
  return millis;
};

/**
 * Ports the sidecar listens on: the sidecar's own port parser, and 1024 or
 * above, since the injected sidecar runs as uid 1000 without capabilities.
 */
export const parsePort: Check<number> = check(unprivilegedPort);
export const parseMode: Check<InjectMode> = check(oneOf(['native', 'container'] as const));
export const parseHttpBind: Check<HttpBind> = check(oneOf(['pod-ip', 'all'] as const));
export const parsePullPolicy: Check<SidecarSettings['imagePullPolicy']> = check(
  oneOf(['Always', 'IfNotPresent', 'Never'] as const, 'Always, IfNotPresent or Never'),
);
export const parseImage: Check<string> = check(matching(IMAGE, 'an image reference without spaces'));
export const parsePortName: Check<string> = check(
  matching(PORT_NAME, "a port name (1-15 lowercase letters, digits, '-')"),
);
const secretName = check(matching(SECRET_NAME, "a Secret name (lowercase letters, digits, '-', '.')"));
/** Empty means "no Secret": gRPC without a token. */
export const parseSecretName: Check<string> = (setting, raw) => (isUnset(raw) ? '' : secretName(setting, raw));
/** The sidecar's SIDECAR_UPSTREAM parser. */
export const parseUpstream: Check<string> = checkText(upstream);
/** The sidecar's SIDECAR_FLUSH_INTERVAL parser (a duration greater than zero). */
export const parseDuration: Check<string> = checkText(positiveDuration);
/** The sidecar's LOG_LEVEL parser. */
export const parseLogLevel: Check<string> = checkText(logLevel);
export const parseCpu: Check<number> = check(cpuMillis);
/** The sidecar's SIDECAR_FILE_MAX_BYTES and SIDECAR_FILE_MAX_FILES parsers. */
export const parseFileMaxBytes: Check<number> = check(byteSize);
export const parseFileMaxFiles: Check<number> = check(positiveInt);
/** Memory quantity in bytes (`64Mi`, `1G`, `500000`): the settings language's byte size, which is Kubernetes' grammar. */
export const parseMemory: Check<number> = check(byteSize);

/** An empty value (or whitespace) means "not set": the default stays, as for the sidecar's env vars. */
export function isUnset(raw: unknown): boolean {
  return raw === undefined || raw === null || (typeof raw === 'string' && raw.trim() === '');
}

/** The settings `checkSettings` may blame, named by whoever supplied them. */
export type CheckedKey = 'cpuRequest' | 'cpuLimit' | 'memoryRequest' | 'memoryLimit' | 'httpPort';

const FILE_KEYS: Readonly<Record<CheckedKey, string>> = {
  cpuRequest: 'resources.requests.cpu',
  cpuLimit: 'resources.limits.cpu',
  memoryRequest: 'resources.requests.memory',
  memoryLimit: 'resources.limits.memory',
  httpPort: 'httpPort',
};

/**
 * Checks the cross-field rules the API server would otherwise enforce by
 * rejecting the whole pod: an invalid injected container must never stop the SFU.
 */
export function checkSettings(s: SidecarSettings, source: (key: CheckedKey) => string): SidecarSettings {
  const cpuReq = parseCpu(source('cpuRequest'), s.resources.requests.cpu);
  const cpuLim = parseCpu(source('cpuLimit'), s.resources.limits.cpu);
  const memReq = parseMemory(source('memoryRequest'), s.resources.requests.memory);
  const memLim = parseMemory(source('memoryLimit'), s.resources.limits.memory);
  if (cpuReq > cpuLim) {
    throw new SettingError(
      source('cpuRequest'),
      `request ${s.resources.requests.cpu} exceeds limit ${s.resources.limits.cpu}`,
    );
  }
  if (memReq > memLim) {
    throw new SettingError(
      source('memoryRequest'),
      `request ${s.resources.requests.memory} exceeds limit ${s.resources.limits.memory}`,
    );
  }
  if (s.grpcPort === s.httpPort) {
    throw new SettingError(source('httpPort'), `must differ from the gRPC port ${s.grpcPort}`);
  }
  return s;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseEnv(setting: string, raw: unknown): EnvVar[] {
  if (!Array.isArray(raw)) throw new SettingError(setting, 'must be a list of {name, value} or {name, valueFrom}');
  return raw.map((item: unknown, i) => {
    if (!isRecord(item) || typeof item.name !== 'string' || item.name === '') {
      throw new SettingError(`${setting}[${i}]`, 'must have a non-empty string name');
    }
    if (item.value !== undefined && typeof item.value !== 'string') {
      throw new SettingError(`${setting}[${i}].value`, 'must be a string (quote numbers in YAML)');
    }
    if (item.valueFrom !== undefined && !isRecord(item.valueFrom)) {
      throw new SettingError(`${setting}[${i}].valueFrom`, 'must be an object');
    }
    const env: EnvVar = { name: item.name };
    if (item.value !== undefined) env.value = item.value;
    if (isRecord(item.valueFrom)) env.valueFrom = item.valueFrom;
    return env;
  });
}

function parseResourceList(setting: string, raw: unknown, base: ResourceList): ResourceList {
  if (raw === undefined) return base;
  if (!isRecord(raw)) throw new SettingError(setting, 'must be an object with cpu and memory');
  for (const key of Object.keys(raw)) {
    if (key !== 'cpu' && key !== 'memory') throw new SettingError(`${setting}.${key}`, 'unknown key');
  }
  const cpu = isUnset(raw.cpu) ? base.cpu : String(raw.cpu).trim();
  const memory = isUnset(raw.memory) ? base.memory : String(raw.memory).trim();
  parseCpu(`${setting}.cpu`, cpu);
  parseMemory(`${setting}.memory`, memory);
  return { cpu, memory };
}

/** Keys whose empty value means "keep the built-in default". */
const SCALAR_KEYS: ReadonlySet<string> = new Set([
  'image',
  'imagePullPolicy',
  'mode',
  'grpcPort',
  'httpPort',
  'portName',
  'upstream',
  'flushInterval',
  'logLevel',
  'dataSizeLimit',
]);

/**
 * Parses the webhook's defaults file (YAML/JSON rendered by the chart from
 * `values.sidecar`) over the built-in defaults. Unknown keys are errors so a
 * typo in values.yaml fails at startup rather than silently doing nothing.
 */
export function parseDefaults(raw: unknown, file: string): SidecarSettings {
  if (raw === null || raw === undefined) return BUILTIN_DEFAULTS;
  if (!isRecord(raw)) throw new SettingError(file, 'must be a mapping');
  const b = BUILTIN_DEFAULTS;
  const s: SidecarSettings = { ...b, resources: { ...b.resources } };
  const at = (key: string): string => `${file}: ${key}`;
  for (const [key, value] of Object.entries(raw)) {
    if (isUnset(value) && SCALAR_KEYS.has(key)) continue;
    switch (key) {
      case 'image':
        s.image = parseImage(at(key), value);
        break;
      case 'imagePullPolicy':
        s.imagePullPolicy = parsePullPolicy(at(key), value);
        break;
      case 'mode':
        s.mode = parseMode(at(key), value);
        break;
      case 'grpcPort':
        s.grpcPort = parsePort(at(key), value);
        break;
      case 'httpPort':
        s.httpPort = parsePort(at(key), value);
        break;
      case 'portName':
        s.portName = parsePortName(at(key), value);
        break;
      case 'upstream':
        s.upstream = parseUpstream(at(key), value);
        break;
      case 'flushInterval':
        s.flushInterval = parseDuration(at(key), value);
        break;
      case 'logLevel':
        s.logLevel = parseLogLevel(at(key), value);
        break;
      case 'resources': {
        if (!isRecord(value)) throw new SettingError(at(key), 'must be an object with requests and limits');
        for (const k of Object.keys(value)) {
          if (k !== 'requests' && k !== 'limits') throw new SettingError(at(`${key}.${k}`), 'unknown key');
        }
        s.resources = {
          requests: parseResourceList(at('resources.requests'), value.requests, b.resources.requests),
          limits: parseResourceList(at('resources.limits'), value.limits, b.resources.limits),
        };
        break;
      }
      case 'dataSizeLimit':
        parseMemory(at(key), value);
        s.dataSizeLimit = String(value).trim();
        break;
      case 'grpcTokenSecret':
        s.grpcTokenSecret = parseSecretName(at(key), value);
        break;
      case 'metricsTokenSecret':
        s.metricsTokenSecret = parseSecretName(at(key), value);
        break;
      case 'natsCredsSecret':
        s.natsCredsSecret = parseSecretName(at(key), value);
        break;
      case 'httpBind':
        s.httpBind = parseHttpBind(at(key), value);
        break;
      case 'fileMaxBytes':
        s.fileMaxBytes = parseFileMaxBytes(at(key), value);
        break;
      case 'fileMaxFiles':
        s.fileMaxFiles = parseFileMaxFiles(at(key), value);
        break;
      case 'extraEnv':
        s.extraEnv = parseEnv(at(key), value);
        break;
      case 'securityContext':
        if (!isRecord(value)) throw new SettingError(at(key), 'must be an object');
        s.securityContext = value;
        break;
      default:
        throw new SettingError(at(key), 'unknown key');
    }
  }
  return Object.freeze(checkSettings(s, (key) => at(FILE_KEYS[key])));
}
