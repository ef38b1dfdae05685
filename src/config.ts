/**
 * The sidecar's configuration, parsed once into a frozen typed object. Every
 * setting is an env var and a --kebab-case flag of the same name, with or
 * without the `sidecar-` prefix (`--flush-interval 5s` = SIDECAR_FLUSH_INTERVAL=5s);
 * flags win. The value types (durations, sizes, addresses, ...) are the shared
 * settings language of src/settings/. Nothing else in the program reads
 * process.env. Every setting is described in docs/configuration.md.
 */
import { hostname } from 'node:os';
import { getHeapStatistics } from 'node:v8';
import { DEFAULT_MAX_GUARDS_PER_WORKER } from './core/registry.js';
import {
  address,
  byteSize,
  checkAppendableFile,
  checkCertificates,
  checkKeyPair,
  checkTokenFile,
  duration,
  helpRows,
  loadSettings,
  LOG_LEVELS,
  logLevel,
  natsStreamName,
  oneOf,
  path,
  positiveDuration,
  positiveInt,
  renderHelp,
  SettingError,
  text,
  upstream,
  type Address,
  type Setting,
  type SettingValues,
  type Upstream,
} from './settings/index.js';
import { containerMemoryLimitBytes, deriveMemoryLimits, QUEUE_MAX_BYTES } from './memory-limits.js';

export type { Address, Upstream };
/** The one settings error (src/settings), under the name callers of loadConfig know. */
export { SettingError as ConfigError };

/** How the JetStream sink encodes a batch: the gRPC sink's AnalyticsStats bytes, or NDJSON lines. */
const NATS_PAYLOADS = ['protobuf', 'ndjson'] as const;
export type NatsPayload = (typeof NATS_PAYLOADS)[number];

/** On a startup failure: exit (2 for a bad setting, 1 otherwise), or log it and idle (docs/kubernetes.md "Startup"). */
const START_FAILURES = ['exit', 'idle'] as const;
export type StartFailure = (typeof START_FAILURES)[number];

export interface Config {
  grpcAddr: Address;
  httpAddr: Address;
  /** in milliseconds, default 30_000 */
  flushIntervalMs: number;
  /** in milliseconds, default 180_000 */
  closeWaitMs: number;
  /** in milliseconds, default 30_000 */
  leaseGraceMs: number;
  upstream: Upstream;
  upstreamTokenFile?: string;
  upstreamCaFile?: string;
  upstreamCertFile?: string;
  upstreamKeyFile?: string;
  grpcTokenFile?: string;
  /** Bearer token /metrics requires (re-read when the file changes); unset: /metrics is open. */
  metricsTokenFile?: string;
  nodeId: string;
  analyticsKey: string;
  batchMaxStats: number;
  /** in bytes, default 268_435_456 */
  queueMaxBytes: number;
  spoolDir?: string;
  /** NDJSON file sink: rotate before a batch takes the file past this; in bytes, default 64 MiB. */
  fileMaxBytes: number;
  /** NDJSON file sink: rotated files kept; default 3. */
  fileMaxFiles: number;
  /** Bytes of poison batches kept in SPOOL/quarantine; default 16 MiB. */
  quarantineMaxBytes: number;
  /** in milliseconds, default 20_000 */
  shutdownTimeoutMs: number;
  /** How long Flush{wait_delivered} waits for the upstream; in milliseconds, default 5_000 */
  flushWaitTimeoutMs: number;
  maxWorkers: number;
  maxTracksPerWorker: number;
  /** Guard ids held or remembered as released per worker; refused with RESOURCE_EXHAUSTED above it. */
  maxGuardsPerWorker: number;
  /** The memory guard's limit on held memory (V8 heap used + external); see docs/memory.md. */
  memoryLimitBytes: number;
  /** The container's memory limit as detected; undefined: none. */
  containerMemoryBytes?: number;
  logLevel: string;
  // NATS JetStream upstream (docs/jetstream.md); the token is SIDECAR_UPSTREAM_TOKEN_FILE
  natsCredsFile?: string;
  natsNkeyFile?: string;
  natsUser?: string;
  natsPasswordFile?: string;
  /** default protobuf */
  natsPayload: NatsPayload;
  /** Stream to create at start when no stream captures the subject; undefined: never create. */
  natsCreateStream?: string;
  /** Replicas of a created stream, default 1 */
  natsStreamReplicas: number;
  /** duplicate_window of a created stream, in milliseconds, default 3_600_000 */
  natsDuplicateWindowMs: number;
}

const SETTINGS = {
  grpcAddr: {
    env: 'SIDECAR_GRPC_ADDR',
    default: '127.0.0.1:50151',
    parse: address,
    help: 'gRPC listen address (localhost only by default)',
  },
  httpAddr: {
    env: 'SIDECAR_HTTP_ADDR',
    default: '0.0.0.0:9464',
    parse: address,
    help: 'HTTP address for /metrics, /healthz, /readyz',
  },
  flushIntervalMs: {
    env: 'SIDECAR_FLUSH_INTERVAL',
    default: '30s',
    parse: positiveDuration,
    help: 'how often every worker is flushed (> 0)',
  },
  closeWaitMs: {
    env: 'SIDECAR_CLOSE_WAIT',
    default: '3m',
    parse: duration,
    help: 'how long a closed worker lingers for late stats (0: reaped at the next flush)',
  },
  leaseGraceMs: {
    env: 'SIDECAR_LEASE_GRACE',
    default: '30s',
    parse: duration,
    help: "how long a dead Session stream's guards wait for a re-Hello (0: released at once)",
  },
  upstream: {
    env: 'SIDECAR_UPSTREAM',
    default: 'file:./data/analytics-stats.ndjson',
    parse: upstream,
    help: 'file:PATH | stdout: | grpc://host:port | grpcs://host:port | nats://host:port[,...]/SUBJECT | tls://...',
  },
  upstreamTokenFile: {
    env: 'SIDECAR_UPSTREAM_TOKEN_FILE',
    parse: path,
    help: 'bearer token file for the upstream (re-read on change)',
  },
  upstreamCaFile: { env: 'SIDECAR_UPSTREAM_CA_FILE', parse: path, help: 'PEM CA bundle for grpcs:// and tls://' },
  upstreamCertFile: { env: 'SIDECAR_UPSTREAM_CERT_FILE', parse: path, help: 'PEM client certificate for mTLS' },
  upstreamKeyFile: { env: 'SIDECAR_UPSTREAM_KEY_FILE', parse: path, help: 'PEM client key for mTLS' },
  grpcTokenFile: {
    env: 'SIDECAR_GRPC_TOKEN_FILE',
    parse: path,
    help: 'if set, every RPC needs "authorization: Bearer <token>"',
  },
  metricsTokenFile: {
    env: 'SIDECAR_METRICS_TOKEN_FILE',
    parse: path,
    help: 'if set, /metrics needs "Authorization: Bearer <token>" (re-read on change; /healthz, /readyz stay open)',
  },
  startFailure: {
    env: 'SIDECAR_START_FAILURE',
    default: 'exit',
    parse: oneOf(START_FAILURES),
    help: 'exit | idle: on a startup failure exit (2 bad setting, 1 otherwise) or log it and stay up doing nothing',
  },
  startedFile: {
    env: 'SIDECAR_STARTED_FILE',
    parse: path,
    help: 'file written once serving, once idle after a startup failure, or 20 s after start (startup probe gate)',
  },
  nodeId: { env: 'SIDECAR_NODE_ID', parse: text, help: 'node stamped on every stat (default: hostname)' },
  analyticsKey: { env: 'SIDECAR_ANALYTICS_KEY', default: '', parse: text, help: 'analytics_key stamped on every stat' },
  batchMaxStats: {
    env: 'SIDECAR_BATCH_MAX_STATS',
    default: '1000',
    parse: positiveInt,
    help: 'stats per upstream batch',
  },
  queueMaxBytes: {
    env: 'SIDECAR_QUEUE_MAX_BYTES',
    parse: byteSize,
    help: `delivery queue bound (bytes, or 256Mi); oldest batches dropped beyond it (default: 1/8 of the container's memory limit, at most ${QUEUE_MAX_BYTES / 2 ** 20}Mi)`,
  },
  spoolDir: { env: 'SIDECAR_SPOOL_DIR', parse: path, help: 'directory for the on-disk spool (unset: no spool)' },
  fileMaxBytes: {
    env: 'SIDECAR_FILE_MAX_BYTES',
    default: '64Mi',
    parse: byteSize,
    help: 'file: sink: rotate the file before a batch takes it past this size',
  },
  fileMaxFiles: {
    env: 'SIDECAR_FILE_MAX_FILES',
    default: '3',
    parse: positiveInt,
    help: 'file: sink: rotated files kept (PATH.1 .. PATH.N); older ones are removed, counted reason=file_rotated',
  },
  quarantineMaxBytes: {
    env: 'SIDECAR_QUARANTINE_MAX_BYTES',
    default: '16Mi',
    parse: byteSize,
    help: 'bytes of poison batches kept in SPOOL_DIR/quarantine; the oldest are deleted beyond it',
  },
  shutdownTimeoutMs: {
    env: 'SIDECAR_SHUTDOWN_TIMEOUT',
    default: '20s',
    parse: positiveDuration,
    help: 'time to deliver after SIGTERM (> 0)',
  },
  flushWaitTimeoutMs: {
    env: 'SIDECAR_FLUSH_WAIT_TIMEOUT',
    default: '5s',
    parse: positiveDuration,
    help: 'longest a Flush with wait_delivered waits for upstream acks before answering delivered=false',
  },
  maxWorkers: { env: 'SIDECAR_MAX_WORKERS', default: '100000', parse: positiveInt, help: 'workers held at once' },
  maxTracksPerWorker: {
    env: 'SIDECAR_MAX_TRACKS_PER_WORKER',
    default: '1000',
    parse: positiveInt,
    help: 'pending (track, direction) pairs per worker',
  },
  maxGuardsPerWorker: {
    env: 'SIDECAR_MAX_GUARDS_PER_WORKER',
    default: String(DEFAULT_MAX_GUARDS_PER_WORKER),
    parse: positiveInt,
    help: 'guard ids held or recently released per worker',
  },
  memoryLimitMb: {
    env: 'SIDECAR_MEMORY_LIMIT_MB',
    parse: positiveInt,
    help: "memory guard limit on V8 heap used + external memory: load is shed from 85% of it (default: 50% of the container's memory limit, less below 190 MiB, at most 80% of V8's heap limit; see docs/memory.md)",
  },
  logLevel: {
    env: 'LOG_LEVEL',
    default: 'info',
    parse: logLevel,
    help: LOG_LEVELS.join(' | '),
  },
  natsCredsFile: { env: 'SIDECAR_NATS_CREDS_FILE', parse: path, help: 'NATS .creds file (user JWT and NKey seed)' },
  natsNkeyFile: { env: 'SIDECAR_NATS_NKEY_FILE', parse: path, help: 'NATS NKey seed file' },
  natsUser: { env: 'SIDECAR_NATS_USER', parse: text, help: 'NATS user name (with SIDECAR_NATS_PASSWORD_FILE)' },
  natsPasswordFile: { env: 'SIDECAR_NATS_PASSWORD_FILE', parse: path, help: 'NATS password file' },
  natsPayload: {
    env: 'SIDECAR_NATS_PAYLOAD',
    default: 'protobuf',
    parse: oneOf(NATS_PAYLOADS),
    help: 'JetStream message body: protobuf (livekit.AnalyticsStats) | ndjson',
  },
  natsCreateStream: {
    env: 'SIDECAR_NATS_CREATE_STREAM',
    parse: natsStreamName,
    help: 'create this stream at start if no stream captures the subject',
  },
  natsStreamReplicas: {
    env: 'SIDECAR_NATS_STREAM_REPLICAS',
    default: '1',
    parse: positiveInt,
    help: 'replicas of a created stream',
  },
  natsDuplicateWindowMs: {
    env: 'SIDECAR_NATS_DUPLICATE_WINDOW',
    default: '1h',
    parse: positiveDuration,
    help: 'duplicate_window of a created stream',
  },
} satisfies Record<string, Setting<unknown>>;

type SettingKey = keyof typeof SETTINGS;
const TABLE_OPTIONS = { envPrefix: 'SIDECAR_', flagAlias: 'sidecar-' };

/** Which name supplied each setting of a loaded config (a flag as written, else the env var). */
const NAMES = new WeakMap<Readonly<Config>, Record<SettingKey, string>>();

export interface ConfigSources {
  env: NodeJS.ProcessEnv;
  argv: string[];
  /** The container's memory limit in bytes; undefined: none. */
  memoryLimitBytes?: () => number | undefined;
  /** V8's heap limit in bytes (`--max-old-space-size` and the young generation). */
  heapLimitBytes?: () => number;
}

/** Parses env and flags; throws SettingError with one line naming the bad setting. */
export function loadConfig({
  env,
  argv,
  memoryLimitBytes = containerMemoryLimitBytes,
  heapLimitBytes = () => getHeapStatistics().heap_size_limit,
}: ConfigSources): Readonly<Config> {
  const { values: p, names } = loadSettings(SETTINGS, { env, argv }, TABLE_OPTIONS);

  const containerLimit = memoryLimitBytes();
  const derived = deriveMemoryLimits(containerLimit, heapLimitBytes());
  const config: Config = {
    grpcAddr: p.grpcAddr!,
    httpAddr: p.httpAddr!,
    flushIntervalMs: p.flushIntervalMs!,
    closeWaitMs: p.closeWaitMs!,
    leaseGraceMs: p.leaseGraceMs!,
    upstream: p.upstream!,
    nodeId: p.nodeId ?? hostname(),
    analyticsKey: p.analyticsKey ?? '',
    batchMaxStats: p.batchMaxStats!,
    queueMaxBytes: p.queueMaxBytes ?? derived.queueMaxBytes,
    fileMaxBytes: p.fileMaxBytes!,
    fileMaxFiles: p.fileMaxFiles!,
    quarantineMaxBytes: p.quarantineMaxBytes!,
    shutdownTimeoutMs: p.shutdownTimeoutMs!,
    flushWaitTimeoutMs: p.flushWaitTimeoutMs!,
    maxWorkers: p.maxWorkers!,
    maxTracksPerWorker: p.maxTracksPerWorker!,
    maxGuardsPerWorker: p.maxGuardsPerWorker!,
    memoryLimitBytes: p.memoryLimitMb === undefined ? derived.guardLimitBytes : p.memoryLimitMb * 1024 * 1024,
    logLevel: p.logLevel!,
    natsPayload: p.natsPayload!,
    natsStreamReplicas: p.natsStreamReplicas!,
    natsDuplicateWindowMs: p.natsDuplicateWindowMs!,
  };
  if (containerLimit !== undefined) config.containerMemoryBytes = containerLimit;
  if (p.upstreamTokenFile) config.upstreamTokenFile = p.upstreamTokenFile;
  if (p.upstreamCaFile) config.upstreamCaFile = p.upstreamCaFile;
  if (p.upstreamCertFile) config.upstreamCertFile = p.upstreamCertFile;
  if (p.upstreamKeyFile) config.upstreamKeyFile = p.upstreamKeyFile;
  if (p.grpcTokenFile) config.grpcTokenFile = p.grpcTokenFile;
  if (p.metricsTokenFile) config.metricsTokenFile = p.metricsTokenFile;
  if (p.spoolDir) config.spoolDir = p.spoolDir;
  if ((config.upstreamCertFile === undefined) !== (config.upstreamKeyFile === undefined)) {
    const missing = config.upstreamCertFile === undefined ? 'upstreamCertFile' : 'upstreamKeyFile';
    throw new SettingError(
      names[missing],
      'SIDECAR_UPSTREAM_CERT_FILE and SIDECAR_UPSTREAM_KEY_FILE must be set together for mTLS',
    );
  }
  checkNats(config, p, names);
  const frozen = Object.freeze(config);
  NAMES.set(frozen, names);
  return frozen;
}

/** The flag or env var that set `key` in this config, for startup errors (the env var for hand-made configs). */
export function settingName(config: Readonly<Config>, key: SettingKey): string {
  return NAMES.get(config)?.[key] ?? SETTINGS[key].env;
}

/** NATS settings: one way to authenticate, and only with a nats:// or tls:// upstream. */
function checkNats(config: Config, p: SettingValues<typeof SETTINGS>, names: Record<SettingKey, string>): void {
  if (p.natsCredsFile) config.natsCredsFile = p.natsCredsFile;
  if (p.natsNkeyFile) config.natsNkeyFile = p.natsNkeyFile;
  if (p.natsUser) config.natsUser = p.natsUser;
  if (p.natsPasswordFile) config.natsPasswordFile = p.natsPasswordFile;
  if (p.natsCreateStream) config.natsCreateStream = p.natsCreateStream;
  const given = (keys: readonly SettingKey[]) => keys.filter((k) => p[k] !== undefined);
  const upstream = config.upstream;
  if (upstream.kind !== 'nats') {
    const stray = given(['natsCredsFile', 'natsNkeyFile', 'natsUser', 'natsPasswordFile', 'natsCreateStream'])[0];
    if (stray) throw new SettingError(names[stray], 'only applies to a nats:// or tls:// SIDECAR_UPSTREAM');
    return;
  }
  if ((config.natsUser === undefined) !== (config.natsPasswordFile === undefined)) {
    const missing = config.natsUser === undefined ? 'natsUser' : 'natsPasswordFile';
    throw new SettingError(names[missing], 'SIDECAR_NATS_USER and SIDECAR_NATS_PASSWORD_FILE must be set together');
  }
  const auth = given(['upstreamTokenFile', 'natsCredsFile', 'natsNkeyFile', 'natsUser']);
  if (auth.length > 1) {
    throw new SettingError(auth.map((k) => names[k]).join(' and '), 'choose one way to authenticate to NATS');
  }
  for (const key of ['upstreamCaFile', 'upstreamCertFile'] as const) {
    if (!upstream.tls && config[key])
      throw new SettingError(names[key], 'needs a tls:// SIDECAR_UPSTREAM (TLS to NATS)');
  }
}

/** What the entry point needs even when the rest of the configuration is bad (see docs/kubernetes.md "Startup"). */
export interface StartupSettings {
  startFailure: StartFailure;
  startedFile?: string;
  /** Where an idle sidecar still answers /healthz, if this one setting is valid. */
  httpAddr?: Address;
}

/** Reads each startup setting on its own; a missing or bad one falls back to its default. Never throws. */
export function loadStartupSettings({ env, argv }: Pick<ConfigSources, 'env' | 'argv'>): StartupSettings {
  // one setting at a time, unknown flags ignored: another bad setting must not hide these
  const read = <T>(setting: Setting<T>): T | undefined => {
    try {
      return loadSettings({ setting }, { env, argv }, { ...TABLE_OPTIONS, lenient: true }).values.setting as T;
    } catch {
      return undefined;
    }
  };
  const startup: StartupSettings = { startFailure: read(SETTINGS.startFailure) ?? 'exit' };
  const startedFile = read(SETTINGS.startedFile);
  const httpAddr = read(SETTINGS.httpAddr);
  if (startedFile) startup.startedFile = startedFile;
  if (httpAddr) startup.httpAddr = httpAddr;
  return startup;
}

/**
 * Checks the files the config names before anything starts: tokens readable
 * and non-empty, PEM files parseable, the client key matching its certificate,
 * the NDJSON file writable. Throws SettingError naming the setting (exit code 2).
 */
export function checkConfigFiles(config: Readonly<Config>): void {
  const name = (key: SettingKey) => settingName(config, key);
  if (config.upstream.kind === 'file') checkAppendableFile(name('upstream'), config.upstream.path);
  if (config.grpcTokenFile) checkTokenFile(name('grpcTokenFile'), config.grpcTokenFile);
  for (const key of ['natsCredsFile', 'natsNkeyFile', 'natsPasswordFile'] as const) {
    const file = config[key];
    if (file) checkTokenFile(name(key), file);
  }
  if (config.metricsTokenFile) checkTokenFile(name('metricsTokenFile'), config.metricsTokenFile);
  if (config.upstreamTokenFile) checkTokenFile(name('upstreamTokenFile'), config.upstreamTokenFile);
  if (config.upstreamCaFile) checkCertificates(name('upstreamCaFile'), config.upstreamCaFile);
  if (config.upstreamCertFile && config.upstreamKeyFile) {
    checkKeyPair(
      { setting: name('upstreamCertFile'), path: config.upstreamCertFile },
      { setting: name('upstreamKeyFile'), path: config.upstreamKeyFile },
    );
  }
}

/** The --help text: every setting with its flag, env name and default. */
export function configHelp(): string {
  return renderHelp(helpRows(SETTINGS, TABLE_OPTIONS.envPrefix));
}
