/**
 * What the injected sidecar looks like for one pod: the webhook's defaults with
 * that pod's annotation overrides applied. Validation lives here so the
 * defaults file and the annotations are held to the same rules.
 */

export type InjectMode = 'native' | 'container';

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
  upstream: `file:${DATA_MOUNT_PATH}/analytics-stats.ndjson`,
  flushInterval: '',
  logLevel: 'info',
  resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { cpu: '1', memory: '256Mi' } },
  dataSizeLimit: '1Gi',
  grpcTokenSecret: '',
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

/** A setting that failed validation; `setting` names the annotation or defaults-file key. */
export class SettingError extends Error {
  constructor(
    readonly setting: string,
    message: string,
  ) {
    super(`${setting}: ${message}`);
    this.name = 'SettingError';
  }
}

const LOG_LEVELS = new Set(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']);
const PULL_POLICIES = new Set(['Always', 'IfNotPresent', 'Never']);
const DURATION = /^\d+(ms|s|m|h)$/;
const UPSTREAM = /^(file:\S+|stdout:|grpcs?:\/\/[^\s/]+:\d+|(nats|tls):\/\/[^\s/@]+\/[^\s*>]+)$/;
// IANA_SVC_NAME as the API server checks it: 1-15 chars, lowercase alnum and '-', a letter somewhere.
const PORT_NAME = /^(?=.*[a-z])[a-z0-9]([a-z0-9-]{0,13}[a-z0-9])?$/;
const IMAGE = /^[^\s]{1,512}$/;
// DNS-1123 subdomain, as Secret names are.
const SECRET_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export function parsePort(setting: string, raw: unknown): number {
  const n = typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : raw;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 65535) {
    throw new SettingError(setting, `must be a port number 1-65535, got ${JSON.stringify(raw)}`);
  }
  return n;
}

export function parseMode(setting: string, raw: unknown): InjectMode {
  if (raw === 'native' || raw === 'container') return raw;
  throw new SettingError(setting, `must be "native" or "container", got ${JSON.stringify(raw)}`);
}

export function parseImage(setting: string, raw: unknown): string {
  if (typeof raw === 'string' && IMAGE.test(raw)) return raw;
  throw new SettingError(setting, `must be an image reference without spaces, got ${JSON.stringify(raw)}`);
}

export function parseUpstream(setting: string, raw: unknown): string {
  if (typeof raw === 'string' && UPSTREAM.test(raw)) return raw;
  throw new SettingError(
    setting,
    `must be file:PATH, stdout:, grpc://HOST:PORT, grpcs://HOST:PORT or nats://HOST:PORT[,HOST:PORT...]/SUBJECT (or tls://), got ${JSON.stringify(raw)}`,
  );
}

export function parseSecretName(setting: string, raw: unknown): string {
  if (typeof raw === 'string' && (raw === '' || (raw.length <= 253 && SECRET_NAME.test(raw)))) return raw;
  throw new SettingError(
    setting,
    `must be a Secret name (lowercase letters, digits, '-', '.'), got ${JSON.stringify(raw)}`,
  );
}

export function parseDuration(setting: string, raw: unknown): string {
  if (typeof raw === 'string' && (raw === '' || DURATION.test(raw))) return raw;
  throw new SettingError(setting, `must be a duration such as 500ms, 30s, 5m or 1h, got ${JSON.stringify(raw)}`);
}

export function parseLogLevel(setting: string, raw: unknown): string {
  if (typeof raw === 'string' && LOG_LEVELS.has(raw)) return raw;
  throw new SettingError(setting, `must be one of ${[...LOG_LEVELS].join(', ')}, got ${JSON.stringify(raw)}`);
}

/** CPU quantity in millicores, e.g. `100m` → 100, `1.5` → 1500. */
export function parseCpu(setting: string, raw: unknown): number {
  const m = typeof raw === 'string' ? /^(\d+(?:\.\d+)?)(m?)$/.exec(raw) : null;
  if (!m || m[1] === undefined) {
    throw new SettingError(setting, `must be a CPU quantity such as 100m or 1, got ${JSON.stringify(raw)}`);
  }
  const millis = m[2] === 'm' ? Number(m[1]) : Number(m[1]) * 1000;
  if (millis <= 0) throw new SettingError(setting, `must be greater than zero, got ${JSON.stringify(raw)}`);
  return millis;
}

const MEMORY_UNITS: Readonly<Record<string, number>> = {
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
};

/** Memory quantity in bytes, e.g. `64Mi`, `1G`, `500000000`. */
export function parseMemory(setting: string, raw: unknown): number {
  const m = typeof raw === 'string' ? /^(\d+(?:\.\d+)?)(|k|M|G|T|Ki|Mi|Gi|Ti)$/.exec(raw) : null;
  const unit = m?.[2] === undefined ? undefined : MEMORY_UNITS[m[2]];
  if (!m || m[1] === undefined || unit === undefined) {
    throw new SettingError(setting, `must be a memory quantity such as 64Mi or 1Gi, got ${JSON.stringify(raw)}`);
  }
  const bytes = Number(m[1]) * unit;
  if (bytes <= 0) throw new SettingError(setting, `must be greater than zero, got ${JSON.stringify(raw)}`);
  return bytes;
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
  const cpu = raw.cpu === undefined ? base.cpu : String(raw.cpu);
  const memory = raw.memory === undefined ? base.memory : String(raw.memory);
  parseCpu(`${setting}.cpu`, cpu);
  parseMemory(`${setting}.memory`, memory);
  return { cpu, memory };
}

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
    switch (key) {
      case 'image':
        s.image = parseImage(at(key), value);
        break;
      case 'imagePullPolicy':
        if (typeof value !== 'string' || !PULL_POLICIES.has(value)) {
          throw new SettingError(at(key), `must be Always, IfNotPresent or Never, got ${JSON.stringify(value)}`);
        }
        s.imagePullPolicy = value as SidecarSettings['imagePullPolicy'];
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
        if (typeof value !== 'string' || !PORT_NAME.test(value)) {
          throw new SettingError(
            at(key),
            `must be a port name (1-15 lowercase letters, digits, '-'), got ${JSON.stringify(value)}`,
          );
        }
        s.portName = value;
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
        s.dataSizeLimit = value as string;
        break;
      case 'grpcTokenSecret':
        s.grpcTokenSecret = parseSecretName(at(key), value);
        break;
      case 'natsCredsSecret':
        s.natsCredsSecret = parseSecretName(at(key), value);
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
