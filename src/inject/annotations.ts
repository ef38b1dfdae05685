/**
 * The per-pod interface: `telemetry-sidecar/*` annotations. LiveKit's chart
 * only lets operators set pod annotations, so every choice an operator makes
 * per pod is an annotation here (as Vault's and Dapr's injectors do).
 */
import {
  checkSettings,
  isUnset,
  parseCpu,
  parseDuration,
  parseHttpBind,
  parseImage,
  parseLogLevel,
  parseMemory,
  parseMode,
  parsePort,
  parseSecretName,
  parseUpstream,
} from './settings.js';
import type { CheckedKey, SidecarSettings } from './settings.js';

export const PREFIX = 'telemetry-sidecar/';
/** Opt-in: annotation (or label) `telemetry-sidecar/inject: "true"`. */
export const INJECT_KEY = `${PREFIX}inject`;
/** Label the webhook puts on pods it injected, for the chart's PodMonitor selector. */
export const INJECTED_LABEL = `${PREFIX}injected`;

type Apply = (s: SidecarSettings, value: string, name: string) => void;

/** Annotation suffix → how it changes the settings (docs/configuration.md lists them with their parsers). */
// A Map, not an object literal, so `telemetry-sidecar/constructor` cannot reach Object.prototype.
const OVERRIDES: ReadonlyMap<string, Apply> = new Map<string, Apply>(
  Object.entries({
    image: (s, v, n) => {
      s.image = parseImage(n, v);
    },
    mode: (s, v, n) => {
      s.mode = parseMode(n, v);
    },
    'cpu-request': (s, v, n) => {
      parseCpu(n, v);
      s.resources.requests.cpu = v;
    },
    'cpu-limit': (s, v, n) => {
      parseCpu(n, v);
      s.resources.limits.cpu = v;
    },
    'memory-request': (s, v, n) => {
      parseMemory(n, v);
      s.resources.requests.memory = v;
    },
    'memory-limit': (s, v, n) => {
      parseMemory(n, v);
      s.resources.limits.memory = v;
    },
    upstream: (s, v, n) => {
      s.upstream = parseUpstream(n, v);
    },
    'flush-interval': (s, v, n) => {
      s.flushInterval = parseDuration(n, v);
    },
    'log-level': (s, v, n) => {
      s.logLevel = parseLogLevel(n, v);
    },
    'http-port': (s, v, n) => {
      s.httpPort = parsePort(n, v);
    },
    'grpc-port': (s, v, n) => {
      s.grpcPort = parsePort(n, v);
    },
    'grpc-token-secret': (s, v, n) => {
      s.grpcTokenSecret = parseSecretName(n, v);
    },
    'metrics-token-secret': (s, v, n) => {
      s.metricsTokenSecret = parseSecretName(n, v);
    },
    'http-bind': (s, v, n) => {
      s.httpBind = parseHttpBind(n, v);
    },
    'nats-creds-secret': (s, v, n) => {
      s.natsCredsSecret = parseSecretName(n, v);
    },
  } satisfies Record<string, Apply>),
);

const CHECKED_ANNOTATIONS: Readonly<Record<CheckedKey, string>> = {
  cpuRequest: `${PREFIX}cpu-request`,
  cpuLimit: `${PREFIX}cpu-limit`,
  memoryRequest: `${PREFIX}memory-request`,
  memoryLimit: `${PREFIX}memory-limit`,
  httpPort: `${PREFIX}http-port`,
};

export const OVERRIDE_ANNOTATIONS: readonly string[] = [...OVERRIDES.keys()].map((k) => PREFIX + k);

const TRUE = /^true$/i;
/**
 * Unicode White_Space, what CEL's trim() (cel-go strings extension) removes, so the
 * chart's matchConditions and this function agree on every value. JS trim() differs
 * (it keeps U+0085 and removes U+FEFF).
 */
const EDGE_SPACE =
  /^[\u0009-\u000d\u0020\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+|[\u0009-\u000d\u0020\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/g;

/** The annotation decides when present (so `"false"` opts a labelled pod out); otherwise the label. */
export function wantsInjection(
  annotations: Readonly<Record<string, string>>,
  labels: Readonly<Record<string, string>>,
): boolean {
  const a = annotations[INJECT_KEY];
  if (a !== undefined) return TRUE.test(a.replace(EDGE_SPACE, ''));
  const l = labels[INJECT_KEY];
  return l !== undefined && TRUE.test(l);
}

export interface ResolvedSettings {
  settings: SidecarSettings;
  /** `telemetry-sidecar/*` annotations we do not know: likely typos, reported as warnings. */
  unknown: string[];
}

/** Applies the pod's overrides to the defaults; throws `SettingError` naming the bad annotation. */
export function resolveSettings(
  defaults: SidecarSettings,
  annotations: Readonly<Record<string, string>>,
): ResolvedSettings {
  const settings: SidecarSettings = {
    ...defaults,
    resources: { requests: { ...defaults.resources.requests }, limits: { ...defaults.resources.limits } },
  };
  const unknown: string[] = [];
  for (const [name, value] of Object.entries(annotations)) {
    if (!name.startsWith(PREFIX) || name === INJECT_KEY) continue;
    const apply = OVERRIDES.get(name.slice(PREFIX.length));
    if (apply === undefined) unknown.push(name);
    // empty means "not set", as for the sidecar's env vars; except that an empty Secret turns auth off
    else if (!isUnset(value) || name === `${PREFIX}grpc-token-secret`) apply(settings, value.trim(), name);
  }
  return { settings: checkSettings(settings, (key) => CHECKED_ANNOTATIONS[key]), unknown };
}
