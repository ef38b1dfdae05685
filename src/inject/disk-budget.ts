/**
 * What the injected sidecar may write to its data emptyDir, held well under the
 * volume's sizeLimit: past it the kubelet evicts the whole pod, SFU included.
 * The arithmetic is in docs/kubernetes.md ("Disk").
 */
import { DATA_MOUNT_PATH, parseMemory } from './settings.js';
import type { SidecarSettings } from './settings.js';

/** The sidecar's SIDECAR_QUEUE_MAX_BYTES default: what a spool holds at most unless extraEnv says less. */
const DEFAULT_QUEUE_MAX_BYTES = 256 * 1024 * 1024;
/** Files may fill three quarters of the volume; the rest is for the spool's quarantine and filesystem overhead. */
const BUDGET_SHARE = 0.75;

const onDataVolume = (path: string): boolean => path === DATA_MOUNT_PATH || path.startsWith(`${DATA_MOUNT_PATH}/`);

export interface DiskUse {
  /** NDJSON files: fileMaxBytes × (1 + fileMaxFiles) with a file: upstream on the volume. */
  fileBytes: number;
  /** The spool, bounded by the delivery queue, when SIDECAR_SPOOL_DIR is on the volume. */
  spoolBytes: number;
  budgetBytes: number;
}

export function diskUse(s: SidecarSettings): DiskUse {
  const env = (name: string): string | undefined => s.extraEnv.findLast((e) => e.name === name)?.value;
  const filePath = s.upstream.startsWith('file:') ? s.upstream.slice('file:'.length) : undefined;
  const fileBytes = filePath !== undefined && onDataVolume(filePath) ? s.fileMaxBytes * (1 + s.fileMaxFiles) : 0;
  const spoolDir = env('SIDECAR_SPOOL_DIR');
  const queue = Number(env('SIDECAR_QUEUE_MAX_BYTES'));
  const spoolBytes =
    spoolDir !== undefined && onDataVolume(spoolDir)
      ? Number.isSafeInteger(queue) && queue > 0
        ? queue
        : DEFAULT_QUEUE_MAX_BYTES
      : 0;
  return {
    fileBytes,
    spoolBytes,
    budgetBytes: Math.floor(parseMemory('dataSizeLimit', s.dataSizeLimit) * BUDGET_SHARE),
  };
}

const mib = (bytes: number): string => `${Math.round(bytes / 2 ** 20)} MiB`;

/** Why the settings could fill the volume, or undefined when they fit. */
export function diskBudgetProblem(s: SidecarSettings): string | undefined {
  const use = diskUse(s);
  if (use.fileBytes + use.spoolBytes <= use.budgetBytes) return undefined;
  return (
    `the sidecar could write ${mib(use.fileBytes)} of NDJSON files + ${mib(use.spoolBytes)} of spool to /data, ` +
    `more than ${mib(use.budgetBytes)} (3/4 of dataSizeLimit ${s.dataSizeLimit}); the kubelet would evict the pod`
  );
}
