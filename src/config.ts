/**
 * Configuration, parsed once into a frozen typed object. Every setting is an
 * env var (SPEC §7) and a --kebab-case flag of the same name, with or without
 * the `sidecar-` prefix (`--flush-interval 5s` = SIDECAR_FLUSH_INTERVAL=5s);
 * flags win. Nothing else in the program reads process.env.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';

export type Upstream =
  | { kind: 'file'; path: string }
  | { kind: 'stdout' }
  | { kind: 'grpc'; target: string; tls: boolean }
  /** NATS JetStream (docs/jetstream.md): `servers` as host:port, publishing to `subject`. */
  | { kind: 'nats'; servers: string[]; subject: string; tls: boolean };

/** How the JetStream sink encodes a batch: the gRPC sink's AnalyticsStats bytes, or NDJSON lines. */
export type NatsPayload = 'protobuf' | 'ndjson';

export interface Address {
  host: string;
  port: number;
}

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
  nodeId: string;
  analyticsKey: string;
  batchMaxStats: number;
  queueMaxBytes: number;
  spoolDir?: string;
  /** in milliseconds, default 20_000 */
  shutdownTimeoutMs: number;
  maxWorkers: number;
  maxTracksPerWorker: number;
  /** Above this RSS new stats are refused; undefined: no limit. */
  memoryLimitBytes?: number;
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

export class ConfigError extends Error {}

type Parser<T> = (raw: string, name: string) => T;

interface Setting<T> {
  env: string;
  default?: string;
  parse: Parser<T>;
  help: string;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

const duration: Parser<number> = (raw, name) => {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(raw.trim());
  if (!m) throw new ConfigError(`${name}: expected a duration such as 500ms, 30s, 3m or 1h, got "${raw}"`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
  return Math.round(Number(m[1]) * unit);
};

const positiveInt: Parser<number> = (raw, name) => {
  if (!/^\d+$/.test(raw.trim()) || Number(raw) < 1 || !Number.isSafeInteger(Number(raw))) {
    throw new ConfigError(`${name}: expected a positive whole number, got "${raw}"`);
  }
  return Number(raw);
};

const text: Parser<string> = (raw) => raw;

const address: Parser<Address> = (raw, name) => {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(raw.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new ConfigError(`${name}: expected host:port such as 127.0.0.1:50151, got "${raw}"`);
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
};

const upstream: Parser<Upstream> = (raw, name) => {
  if (raw.startsWith('file:')) {
    const path = raw.slice('file:'.length).replace(/^\/\/(?=\/)/, '');
    if (path === '') throw new ConfigError(`${name}: file: needs a path, e.g. file:./data/analytics-stats.ndjson`);
    return { kind: 'file', path };
  }
  if (raw === 'stdout:' || raw === 'stdout') return { kind: 'stdout' };
  const m = /^(grpcs?):\/\/([^/]+?)\/?$/.exec(raw);
  if (m) {
    address(m[2]!, name);
    return { kind: 'grpc', target: m[2]!, tls: m[1] === 'grpcs' };
  }
  if (/^(nats|tls):\/\//.test(raw)) return natsUpstream(raw, name);
  throw new ConfigError(
    `${name}: expected file:PATH, stdout:, grpc://host:port, grpcs://host:port or nats://host:port[,host:port...]/SUBJECT, got "${raw}"`,
  );
};

/** A subject to publish to: dot-separated tokens, no wildcards or whitespace. */
const NATS_SUBJECT = /^[^\s.*>]+(\.[^\s.*>]+)*$/;
const NATS_DEFAULT_PORT = 4222;

/** `nats://host:port[,host:port...]/SUBJECT` or `tls://...`; credentials come from files, never the URL. */
const natsUpstream: Parser<Upstream> = (raw, name) => {
  const m = /^(nats|tls):\/\/([^/]*)\/(.*)$/.exec(raw);
  const example = 'e.g. nats://nats-0:4222,nats-1:4222/livekit.analytics';
  if (!m || m[2] === '') throw new ConfigError(`${name}: expected nats://host:port[,host:port...]/SUBJECT, ${example}`);
  if (m[2]!.includes('@')) {
    throw new ConfigError(
      `${name}: put NATS credentials in files (SIDECAR_UPSTREAM_TOKEN_FILE, SIDECAR_NATS_CREDS_FILE, ...), not in the URL`,
    );
  }
  if (!NATS_SUBJECT.test(m[3]!)) {
    throw new ConfigError(
      `${name}: "${m[3]}" is not a NATS subject to publish to (no wildcards or spaces), ${example}`,
    );
  }
  const servers = m[2]!.split(',').map((hostPort) => {
    const withPort = /:\d+$/.test(hostPort) ? hostPort : `${hostPort}:${NATS_DEFAULT_PORT}`;
    const a = address(withPort, name);
    return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
  });
  return { kind: 'nats', servers, subject: m[3]!, tls: m[1] === 'tls' };
};

const natsPayload: Parser<NatsPayload> = (raw, name) => {
  if (raw !== 'protobuf' && raw !== 'ndjson')
    throw new ConfigError(`${name}: expected protobuf or ndjson, got "${raw}"`);
  return raw;
};

const natsStreamName: Parser<string> = (raw, name) => {
  if (!/^[^\s.*>/\\]{1,255}$/.test(raw)) {
    throw new ConfigError(`${name}: expected a stream name (no spaces, '.', '*', '>', '/'), got "${raw}"`);
  }
  return raw;
};

const logLevel: Parser<string> = (raw, name) => {
  if (!LOG_LEVELS.includes(raw))
    throw new ConfigError(`${name}: expected one of ${LOG_LEVELS.join(', ')}, got "${raw}"`);
  return raw;
};

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
    parse: duration,
    help: 'how often every worker is flushed',
  },
  closeWaitMs: {
    env: 'SIDECAR_CLOSE_WAIT',
    default: '3m',
    parse: duration,
    help: 'how long a closed worker lingers for late stats',
  },
  leaseGraceMs: {
    env: 'SIDECAR_LEASE_GRACE',
    default: '30s',
    parse: duration,
    help: "how long a dead Session stream's guards wait for a re-Hello",
  },
  upstream: {
    env: 'SIDECAR_UPSTREAM',
    default: 'file:./data/analytics-stats.ndjson',
    parse: upstream,
    help: 'file:PATH | stdout: | grpc://host:port | grpcs://host:port | nats://host:port[,...]/SUBJECT | tls://...',
  },
  upstreamTokenFile: {
    env: 'SIDECAR_UPSTREAM_TOKEN_FILE',
    parse: text,
    help: 'bearer token file for the upstream (re-read on change)',
  },
  upstreamCaFile: { env: 'SIDECAR_UPSTREAM_CA_FILE', parse: text, help: 'CA bundle for grpcs:// and tls://' },
  upstreamCertFile: { env: 'SIDECAR_UPSTREAM_CERT_FILE', parse: text, help: 'client certificate for mTLS' },
  upstreamKeyFile: { env: 'SIDECAR_UPSTREAM_KEY_FILE', parse: text, help: 'client key for mTLS' },
  grpcTokenFile: {
    env: 'SIDECAR_GRPC_TOKEN_FILE',
    parse: text,
    help: 'if set, every RPC needs "authorization: Bearer <token>"',
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
    default: '268435456',
    parse: positiveInt,
    help: 'delivery queue bound; oldest batches dropped beyond it',
  },
  spoolDir: { env: 'SIDECAR_SPOOL_DIR', parse: text, help: 'directory for the on-disk spool (unset: no spool)' },
  shutdownTimeoutMs: {
    env: 'SIDECAR_SHUTDOWN_TIMEOUT',
    default: '20s',
    parse: duration,
    help: 'time to deliver after SIGTERM',
  },
  maxWorkers: { env: 'SIDECAR_MAX_WORKERS', default: '100000', parse: positiveInt, help: 'workers held at once' },
  maxTracksPerWorker: {
    env: 'SIDECAR_MAX_TRACKS_PER_WORKER',
    default: '1000',
    parse: positiveInt,
    help: 'pending (track, direction) pairs per worker',
  },
  memoryLimitMb: {
    env: 'SIDECAR_MEMORY_LIMIT_MB',
    parse: positiveInt,
    help: "refuse new stats above this RSS (default: 80% of the container's limit)",
  },
  logLevel: { env: 'LOG_LEVEL', default: 'info', parse: logLevel, help: LOG_LEVELS.join(' | ') },
  natsCredsFile: { env: 'SIDECAR_NATS_CREDS_FILE', parse: text, help: 'NATS .creds file (user JWT and NKey seed)' },
  natsNkeyFile: { env: 'SIDECAR_NATS_NKEY_FILE', parse: text, help: 'NATS NKey seed file' },
  natsUser: { env: 'SIDECAR_NATS_USER', parse: text, help: 'NATS user name (with SIDECAR_NATS_PASSWORD_FILE)' },
  natsPasswordFile: { env: 'SIDECAR_NATS_PASSWORD_FILE', parse: text, help: 'NATS password file' },
  natsPayload: {
    env: 'SIDECAR_NATS_PAYLOAD',
    default: 'protobuf',
    parse: natsPayload,
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
    parse: duration,
    help: 'duplicate_window of a created stream',
  },
} satisfies Record<string, Setting<unknown>>;

type Settings = typeof SETTINGS;
type Parsed = { [K in keyof Settings]: ReturnType<Settings[K]['parse']> | undefined };

const flagName = (env: string) =>
  env
    .replace(/^SIDECAR_/, '')
    .toLowerCase()
    .replace(/_/g, '-');

/** Reads the container's memory limit (cgroup v2, then v1); undefined when there is none. */
export function containerMemoryLimitBytes(
  read: (path: string) => string = (p) => readFileSync(p, 'utf8'),
): number | undefined {
  for (const path of ['/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes']) {
    let raw: string;
    try {
      raw = read(path).trim();
    } catch {
      continue;
    }
    const bytes = Number(raw);
    // cgroup v1 reports "no limit" as a huge page-aligned number
    if (raw === 'max' || !Number.isFinite(bytes) || bytes >= 2 ** 60) return undefined;
    return bytes;
  }
  return undefined;
}

export interface ConfigSources {
  env: NodeJS.ProcessEnv;
  argv: string[];
  memoryLimitBytes?: () => number | undefined;
}

/** Parses env and flags; throws ConfigError with one line naming the bad setting. */
export function loadConfig({
  env,
  argv,
  memoryLimitBytes = containerMemoryLimitBytes,
}: ConfigSources): Readonly<Config> {
  const options: Record<string, { type: 'string' }> = {};
  for (const s of Object.values(SETTINGS)) {
    options[flagName(s.env)] = { type: 'string' };
    options[`sidecar-${flagName(s.env)}`] = { type: 'string' };
  }
  let flags: Record<string, string | boolean | undefined>;
  try {
    flags = parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw new ConfigError((err as Error).message.split('\n')[0] ?? 'bad arguments');
  }

  const parsed: Partial<Record<keyof Settings, unknown>> = {};
  for (const [key, s] of Object.entries(SETTINGS) as [keyof Settings, Setting<unknown>][]) {
    const flag = flagName(s.env);
    const fromFlag = flags[flag] ?? flags[`sidecar-${flag}`];
    const raw = typeof fromFlag === 'string' ? fromFlag : (env[s.env] ?? s.default);
    const name = typeof fromFlag === 'string' ? `--${flag}` : s.env;
    parsed[key] = raw === undefined || (raw === '' && s.default === undefined) ? undefined : s.parse(raw, name);
  }
  const p = parsed as Parsed;

  const limitMb = p.memoryLimitMb;
  const containerLimit = limitMb === undefined ? memoryLimitBytes() : undefined;
  const config: Config = {
    grpcAddr: p.grpcAddr!,
    httpAddr: p.httpAddr!,
    flushIntervalMs: positive(p.flushIntervalMs!, SETTINGS.flushIntervalMs.env),
    closeWaitMs: p.closeWaitMs!,
    leaseGraceMs: p.leaseGraceMs!,
    upstream: p.upstream!,
    nodeId: p.nodeId ?? hostname(),
    analyticsKey: p.analyticsKey ?? '',
    batchMaxStats: p.batchMaxStats!,
    queueMaxBytes: p.queueMaxBytes!,
    shutdownTimeoutMs: p.shutdownTimeoutMs!,
    maxWorkers: p.maxWorkers!,
    maxTracksPerWorker: p.maxTracksPerWorker!,
    logLevel: p.logLevel!,
    natsPayload: p.natsPayload!,
    natsStreamReplicas: p.natsStreamReplicas!,
    natsDuplicateWindowMs: positive(p.natsDuplicateWindowMs!, SETTINGS.natsDuplicateWindowMs.env),
  };
  if (p.upstreamTokenFile) config.upstreamTokenFile = p.upstreamTokenFile;
  if (p.upstreamCaFile) config.upstreamCaFile = p.upstreamCaFile;
  if (p.upstreamCertFile) config.upstreamCertFile = p.upstreamCertFile;
  if (p.upstreamKeyFile) config.upstreamKeyFile = p.upstreamKeyFile;
  if (p.grpcTokenFile) config.grpcTokenFile = p.grpcTokenFile;
  if (p.spoolDir) config.spoolDir = p.spoolDir;
  if (limitMb !== undefined) config.memoryLimitBytes = limitMb * 1024 * 1024;
  else if (containerLimit !== undefined) config.memoryLimitBytes = Math.floor(containerLimit * 0.8);
  if ((config.upstreamCertFile === undefined) !== (config.upstreamKeyFile === undefined)) {
    throw new ConfigError('SIDECAR_UPSTREAM_CERT_FILE and SIDECAR_UPSTREAM_KEY_FILE must be set together for mTLS');
  }
  checkNats(config, p);
  return Object.freeze(config);
}

/** NATS settings: one way to authenticate, and only with a nats:// or tls:// upstream. */
function checkNats(config: Config, p: Parsed): void {
  if (p.natsCredsFile) config.natsCredsFile = p.natsCredsFile;
  if (p.natsNkeyFile) config.natsNkeyFile = p.natsNkeyFile;
  if (p.natsUser) config.natsUser = p.natsUser;
  if (p.natsPasswordFile) config.natsPasswordFile = p.natsPasswordFile;
  if (p.natsCreateStream) config.natsCreateStream = p.natsCreateStream;
  const set = (
    [
      ['SIDECAR_NATS_CREDS_FILE', config.natsCredsFile],
      ['SIDECAR_NATS_NKEY_FILE', config.natsNkeyFile],
      ['SIDECAR_NATS_USER', config.natsUser],
      ['SIDECAR_NATS_PASSWORD_FILE', config.natsPasswordFile],
      ['SIDECAR_NATS_CREATE_STREAM', config.natsCreateStream],
    ] as const
  ).filter(([, v]) => v !== undefined);
  const upstream = config.upstream;
  if (upstream.kind !== 'nats') {
    if (set[0]) throw new ConfigError(`${set[0][0]}: only applies to a nats:// or tls:// SIDECAR_UPSTREAM`);
    return;
  }
  if ((config.natsUser === undefined) !== (config.natsPasswordFile === undefined)) {
    throw new ConfigError('SIDECAR_NATS_USER and SIDECAR_NATS_PASSWORD_FILE must be set together');
  }
  const auth = [
    config.upstreamTokenFile && 'SIDECAR_UPSTREAM_TOKEN_FILE',
    config.natsCredsFile && 'SIDECAR_NATS_CREDS_FILE',
    config.natsNkeyFile && 'SIDECAR_NATS_NKEY_FILE',
    config.natsUser && 'SIDECAR_NATS_USER',
  ].filter(Boolean);
  if (auth.length > 1) throw new ConfigError(`${auth.join(' and ')}: choose one way to authenticate to NATS`);
  if (!upstream.tls && config.upstreamCaFile) {
    throw new ConfigError('SIDECAR_UPSTREAM_CA_FILE: needs a tls:// SIDECAR_UPSTREAM (TLS to NATS)');
  }
  if (!upstream.tls && config.upstreamCertFile) {
    throw new ConfigError('SIDECAR_UPSTREAM_CERT_FILE: needs a tls:// SIDECAR_UPSTREAM (TLS to NATS)');
  }
}

function positive(ms: number, name: string): number {
  if (ms <= 0) throw new ConfigError(`${name}: must be greater than zero`);
  return ms;
}

/** The --help text: every setting with its env name, flag and default. */
export function configHelp(): string {
  const rows = Object.values(SETTINGS as Record<string, Setting<unknown>>).map(
    (s) =>
      `  --${flagName(s.env).padEnd(24)} ${s.env.padEnd(30)} ${s.help}${s.default !== undefined ? ` (default: ${s.default === '' ? '""' : s.default})` : ''}`,
  );
  return rows.join('\n');
}
