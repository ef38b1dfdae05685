/**
 * The memory the sidecar may use, and the defaults that follow from it
 * (docs/memory.md): the container's limit as the kernel enforces it, and the
 * memory guard's limit and the delivery queue's bound derived from it.
 */
import { readFileSync } from 'node:fs';

const MiB = 1024 * 1024;

/** cgroup v1 reports "no limit" as 2^63 rounded down to a page; anything this large is no limit. */
const NO_LIMIT = 2 ** 60;

/**
 * The guard's limit as a share of the container's: the rest is V8's young
 * generation and free heap pages, Node's own native memory and the mapped
 * binary, which the guard's signal does not see.
 */
const GUARD_SHARE_OF_CONTAINER = 0.5;
/**
 * In small containers the part the signal does not see weighs more. Measured
 * (docs/memory.md): RSS is about 47 MiB (the mapped binary, native memory)
 * plus 1.3 times the held memory; the guard's limit keeps that under 90 % of
 * the container's limit.
 */
const RSS_OUTSIDE_SIGNAL_BYTES = 47 * MiB;
const RSS_PER_HELD_BYTE = 1.3;
const RSS_SHARE_OF_CONTAINER = 0.9;
/** Near V8's heap limit the collector thrashes and then the process dies: keep the guard below it. */
const GUARD_SHARE_OF_V8_HEAP = 0.8;
/** The queue is the first thing shed, so it must fill well before the guard trips. */
const QUEUE_SHARE_OF_CONTAINER = 1 / 8;
/** The queue bound without a container limit (and the most it gets with one). */
export const QUEUE_MAX_BYTES = 256 * MiB;

export interface MemoryLimits {
  /** The memory guard's limit: held bytes (V8 heap used + external) at which every new stat is refused. */
  guardLimitBytes: number;
  /** The delivery queue's bound when SIDECAR_QUEUE_MAX_BYTES is not set. */
  queueMaxBytes: number;
}

/** The defaults that follow from the container's memory limit (undefined: none) and V8's heap limit. */
export function deriveMemoryLimits(containerBytes: number | undefined, v8HeapLimitBytes: number): MemoryLimits {
  const heapBound = Math.floor(v8HeapLimitBytes * GUARD_SHARE_OF_V8_HEAP);
  if (containerBytes === undefined) return { guardLimitBytes: heapBound, queueMaxBytes: QUEUE_MAX_BYTES };
  return {
    guardLimitBytes: Math.max(
      0,
      Math.min(
        heapBound,
        Math.floor(containerBytes * GUARD_SHARE_OF_CONTAINER),
        Math.floor((containerBytes * RSS_SHARE_OF_CONTAINER - RSS_OUTSIDE_SIGNAL_BYTES) / RSS_PER_HELD_BYTE),
      ),
    ),
    queueMaxBytes: Math.min(QUEUE_MAX_BYTES, Math.floor(containerBytes * QUEUE_SHARE_OF_CONTAINER)),
  };
}

export interface CgroupSources {
  /** Reads a file, throwing when it does not exist. */
  read?: (path: string) => string;
  /** Where the cgroup filesystems are mounted. */
  sysfs?: string;
  procSelfCgroup?: string;
  /** libuv's answer (`process.constrainedMemory`, Node >= 19.6): 0 or huge when there is no limit. */
  constrained?: () => number | undefined;
}

/**
 * The memory limit the kernel enforces on this process (cgroup v2 `memory.max`
 * of its cgroup and every ancestor, cgroup v1 `hierarchical_memory_limit` or
 * `memory.limit_in_bytes`), the lowest that applies; undefined when there is none.
 */
export function containerMemoryLimitBytes({
  read = (p) => readFileSync(p, 'utf8'),
  sysfs = '/sys/fs/cgroup',
  procSelfCgroup = '/proc/self/cgroup',
  constrained = () => process.constrainedMemory?.(),
}: CgroupSources = {}): number | undefined {
  const found: number[] = [];
  const add = (raw: string | undefined) => {
    const bytes = raw === undefined ? NaN : Number(raw.trim());
    if (Number.isFinite(bytes) && bytes > 0 && bytes < NO_LIMIT) found.push(bytes);
  };
  const tryRead = (path: string): string | undefined => {
    try {
      return read(path);
    } catch {
      return undefined;
    }
  };

  add(String(constrained() ?? ''));
  const own = parseProcCgroup(tryRead(procSelfCgroup) ?? '');
  // v2: every ancestor's memory.max applies. In a container with its own cgroup
  // namespace the path is "/" and /sys/fs/cgroup is the container's cgroup.
  for (const dir of ancestors(own.v2 ?? '/')) add(tryRead(`${sysfs}${dir}memory.max`));
  // v1: a container usually sees its own cgroup mounted at the root, whatever /proc says.
  for (const dir of new Set([...(own.v1 === undefined ? [] : [own.v1]), '/'])) {
    const base = `${sysfs}/memory${dir}`;
    const stat = tryRead(`${base}memory.stat`);
    add(stat === undefined ? undefined : /^hierarchical_memory_limit (\d+)$/m.exec(stat)?.[1]);
    add(tryRead(`${base}memory.limit_in_bytes`));
  }
  return found.length === 0 ? undefined : Math.min(...found);
}

/** The cgroup paths of this process, each ending in "/": v2's unified one and v1's memory controller's. */
function parseProcCgroup(text: string): { v2?: string; v1?: string } {
  const own: { v2?: string; v1?: string } = {};
  for (const line of text.split('\n')) {
    const m = /^\d+:([^:]*):(\/.*)$/.exec(line.trim());
    if (!m) continue;
    const path = m[2]!.endsWith('/') ? m[2]! : `${m[2]}/`;
    if (m[1] === '') own.v2 = path;
    else if (m[1]!.split(',').includes('memory')) own.v1 = path;
  }
  return own;
}

/** "/a/b/" → ["/a/b/", "/a/", "/"] */
function ancestors(path: string): string[] {
  const parts = path.split('/').filter(Boolean);
  return parts.map((_, i) => `/${parts.slice(0, parts.length - i).join('/')}/`).concat('/');
}
