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
  { kind: 'file'; path: string } | { kind: 'stdout' } | { kind: 'grpc'; target: string; tls: boolean };

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
  /** How long Flush{wait_delivered} waits for the upstream; in milliseconds, default 5_000 */
  flushWaitTimeoutMs: number;
  maxWorkers: number;
  maxTracksPerWorker: number;
  /** Above this RSS new stats are refused; undefined: no limit. */
  memoryLimitBytes?: number;
  logLevel: string;
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
  throw new ConfigError(`${name}: expected file:PATH, stdout:, grpc://host:port or grpcs://host:port, got "${raw}"`);
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
    help: 'file:PATH | stdout: | grpc://host:port | grpcs://host:port',
  },
  upstreamTokenFile: {
    env: 'SIDECAR_UPSTREAM_TOKEN_FILE',
    parse: text,
    help: 'bearer token file for the upstream (re-read on change)',
  },
  upstreamCaFile: { env: 'SIDECAR_UPSTREAM_CA_FILE', parse: text, help: 'CA bundle for grpcs://' },
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
  flushWaitTimeoutMs: {
    env: 'SIDECAR_FLUSH_WAIT_TIMEOUT',
    default: '5s',
    parse: duration,
    help: 'longest a Flush with wait_delivered waits for upstream acks before answering delivered=false',
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
    flushWaitTimeoutMs: positive(p.flushWaitTimeoutMs!, SETTINGS.flushWaitTimeoutMs.env),
    maxWorkers: p.maxWorkers!,
    maxTracksPerWorker: p.maxTracksPerWorker!,
    logLevel: p.logLevel!,
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
  return Object.freeze(config);
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
