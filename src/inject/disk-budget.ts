/**
 * What the injected sidecar may write to its data emptyDir, held well under the
 * volume's sizeLimit: past it the kubelet evicts the whole pod, SFU included.
 * Read from the env the container is given, with the sidecar's own parsers and
 * defaults, so the webhook bounds what the sidecar will really do. The formula
 * is docs/kubernetes.md "Disk" (the sidecar's side: docs/delivery.md "Disk arithmetic").
 */
import { posix } from 'node:path';
import { byteSize, path, positiveInt, readSetting, SettingError, upstream } from '../settings/index.js';
import type { Parser, Upstream } from '../settings/index.js';
import { DATA_MOUNT_PATH, parseMemory } from './settings.js';
import type { SidecarSettings } from './settings.js';
import { renderSidecarContainer } from './sidecar-container.js';

const KiB = 1024;
const MiB = 1024 * KiB;

// The sidecar's own defaults (src/config.ts, src/memory-limits.ts); test/inject/disk-budget.test.ts
// holds them equal by reading the same env with the sidecar's loadConfig.
const SIDECAR_UPSTREAM_DEFAULT = 'file:./data/analytics-stats.ndjson';
const SIDECAR_FILE_MAX_BYTES_DEFAULT = 64 * MiB;
const SIDECAR_FILE_MAX_FILES_DEFAULT = 3;
const SIDECAR_QUARANTINE_MAX_BYTES_DEFAULT = 16 * MiB;
/** The queue bound the sidecar derives: 1/8 of its container's memory limit, at most 256 MiB (docs/memory.md). */
const QUEUE_MAX_BYTES_CAP = 256 * MiB;
const QUEUE_SHARE_OF_CONTAINER = 1 / 8;

/** The start-gate file and the spool's state file, one 4 KiB block each. */
const STATE_FILES_BYTES = 8 * KiB;
/**
 * What the sidecar's files may fill. The rest is for what the formula does not
 * see: block rounding and directories, a batch in flight while a file rotates or
 * a record moves to quarantine, anything else pointed at /data through extraEnv.
 */
const BUDGET_SHARE = 3 / 4;

/** The queue bound the sidecar derives from its container's memory limit when SIDECAR_QUEUE_MAX_BYTES is unset. */
export function derivedQueueMaxBytes(containerLimitBytes: number): number {
  return Math.min(QUEUE_MAX_BYTES_CAP, Math.floor(containerLimitBytes * QUEUE_SHARE_OF_CONTAINER));
}

/** The settings that decide what the sidecar writes, as it will read them from its env. */
export interface DiskSettings {
  upstream: Upstream;
  fileMaxBytes: number;
  fileMaxFiles: number;
  spoolDir: string | undefined;
  queueMaxBytes: number;
  quarantineMaxBytes: number;
}

/** Env vars read here: operators may set any of them through extraEnv. */
const READ = [
  'SIDECAR_UPSTREAM',
  'SIDECAR_FILE_MAX_BYTES',
  'SIDECAR_FILE_MAX_FILES',
  'SIDECAR_SPOOL_DIR',
  'SIDECAR_QUEUE_MAX_BYTES',
  'SIDECAR_QUARANTINE_MAX_BYTES',
] as const;
type ReadName = (typeof READ)[number];

/**
 * The container's env as the sidecar sees it: the last entry of a name wins, as
 * in Kubernetes. Throws SettingError for a value the webhook cannot know
 * (valueFrom) or the sidecar would refuse.
 */
export function diskSettings(s: SidecarSettings): DiskSettings {
  const env = new Map<ReadName, string | undefined>();
  for (const e of renderSidecarContainer(s).env) {
    if (!(READ as readonly string[]).includes(e.name)) continue;
    if (e.value === undefined) {
      throw new SettingError(
        `extraEnv ${e.name}`,
        'must be a value, not valueFrom: the webhook bounds the sidecar’s disk use with it',
      );
    }
    env.set(e.name as ReadName, e.value);
  }
  const read = <T>(name: ReadName, parse: Parser<T>): T | undefined =>
    readSetting(`extraEnv ${name}`, parse, env.get(name));
  const queue = read('SIDECAR_QUEUE_MAX_BYTES', byteSize);
  return {
    upstream: read('SIDECAR_UPSTREAM', upstream) ?? upstream(SIDECAR_UPSTREAM_DEFAULT),
    fileMaxBytes: read('SIDECAR_FILE_MAX_BYTES', byteSize) ?? SIDECAR_FILE_MAX_BYTES_DEFAULT,
    fileMaxFiles: read('SIDECAR_FILE_MAX_FILES', positiveInt) ?? SIDECAR_FILE_MAX_FILES_DEFAULT,
    spoolDir: read('SIDECAR_SPOOL_DIR', path),
    queueMaxBytes: queue ?? derivedQueueMaxBytes(parseMemory('resources.limits.memory', s.resources.limits.memory)),
    quarantineMaxBytes: read('SIDECAR_QUARANTINE_MAX_BYTES', byteSize) ?? SIDECAR_QUARANTINE_MAX_BYTES_DEFAULT,
  };
}

/**
 * On the data volume. A relative path counts as on it: the webhook does not know
 * the image's working directory, and over-counting only costs a warning.
 */
function onDataVolume(p: string): boolean {
  if (!p.startsWith('/')) return true;
  const normal = posix.normalize(p);
  return normal === DATA_MOUNT_PATH || normal.startsWith(`${DATA_MOUNT_PATH}/`);
}

export interface DiskUse {
  /** NDJSON files: fileMaxBytes × (1 + fileMaxFiles), with a file: upstream on the volume. */
  fileBytes: number;
  /** The spool, bounded by the delivery queue's bound, when SIDECAR_SPOOL_DIR is on the volume. */
  spoolBytes: number;
  /** SPOOL/quarantine, bounded by SIDECAR_QUARANTINE_MAX_BYTES, with a spool on the volume. */
  quarantineBytes: number;
  stateBytes: number;
  totalBytes: number;
  /** 3/4 of dataSizeLimit. */
  budgetBytes: number;
}

export function diskUse(s: SidecarSettings): DiskUse {
  const d = diskSettings(s);
  const fileBytes =
    d.upstream.kind === 'file' && onDataVolume(d.upstream.path) ? d.fileMaxBytes * (1 + d.fileMaxFiles) : 0;
  const spooled = d.spoolDir !== undefined && onDataVolume(d.spoolDir);
  const spoolBytes = spooled ? d.queueMaxBytes : 0;
  const quarantineBytes = spooled ? d.quarantineMaxBytes : 0;
  return {
    fileBytes,
    spoolBytes,
    quarantineBytes,
    stateBytes: STATE_FILES_BYTES,
    totalBytes: fileBytes + spoolBytes + quarantineBytes + STATE_FILES_BYTES,
    budgetBytes: Math.floor(parseMemory('dataSizeLimit', s.dataSizeLimit) * BUDGET_SHARE),
  };
}

/** `512 MiB`, `8 KiB`, `1072.0 MiB`: whole units when exact, else one decimal. */
export function formatBytes(bytes: number): string {
  const [unit, name] = bytes >= MiB || bytes === 0 ? [MiB, 'MiB'] : [KiB, 'KiB'];
  return `${bytes % unit === 0 ? bytes / unit : (bytes / unit).toFixed(1)} ${name}`;
}

/** Why the settings could fill the volume, or undefined when they fit. */
export function diskBudgetProblem(s: SidecarSettings): string | undefined {
  const use = diskUse(s);
  if (use.totalBytes <= use.budgetBytes) return undefined;
  const parts = [
    [use.fileBytes, 'NDJSON files'],
    [use.spoolBytes, 'spool'],
    [use.quarantineBytes, 'quarantine'],
    [use.stateBytes, 'state files'],
  ] as const;
  return (
    `the sidecar could write ${parts
      .filter(([bytes]) => bytes > 0)
      .map(([bytes, what]) => `${formatBytes(bytes)} of ${what}`)
      .join(' + ')} = ${formatBytes(use.totalBytes)} to ${DATA_MOUNT_PATH}, ` +
    `more than ${formatBytes(use.budgetBytes)} (3/4 of dataSizeLimit ${s.dataSizeLimit}); ` +
    `the kubelet would evict the pod. Lower fileMaxBytes or SIDECAR_QUEUE_MAX_BYTES, or raise dataSizeLimit`
  );
}
