import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { containerMemoryLimitBytes, deriveMemoryLimits, QUEUE_MAX_BYTES } from '../src/memory-limits.js';

const MiB = 1024 * 1024;
/** What cgroup v1 writes for "no limit". */
const V1_UNLIMITED = '9223372036854771712';

let root: string | undefined;
afterEach(() => {
  if (root) rmSync(root, { recursive: true, force: true });
  root = undefined;
});

/** A cgroup filesystem and /proc/self/cgroup laid out as real files in a temp dir. */
function host(files: Record<string, string>, constrained?: number) {
  root = mkdtempSync(join(tmpdir(), 'cgroup-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return containerMemoryLimitBytes({
    sysfs: join(root, 'sys/fs/cgroup'),
    procSelfCgroup: join(root, 'proc/self/cgroup'),
    constrained: () => constrained,
  });
}

describe('containerMemoryLimitBytes', () => {
  it('reads cgroup v2 memory.max inside a container with its own cgroup namespace', () => {
    expect(host({ 'proc/self/cgroup': '0::/\n', 'sys/fs/cgroup/memory.max': '268435456\n' })).toBe(256 * MiB);
    expect(host({ 'proc/self/cgroup': '0::/\n', 'sys/fs/cgroup/memory.max': 'max\n' })).toBeUndefined();
  });

  it("takes the lowest memory.max of the process's cgroup v2 and its ancestors", () => {
    const files = {
      'proc/self/cgroup': '0::/kubepods.slice/pod1.slice/cri-abc.scope\n',
      'sys/fs/cgroup/kubepods.slice/memory.max': '8589934592\n',
      'sys/fs/cgroup/kubepods.slice/pod1.slice/memory.max': '314572800\n',
      'sys/fs/cgroup/kubepods.slice/pod1.slice/cri-abc.scope/memory.max': 'max\n',
    };
    expect(host(files)).toBe(300 * MiB);
  });

  it('reads cgroup v1 hierarchical_memory_limit, which includes the ancestors', () => {
    const files = {
      'proc/self/cgroup': '12:pids:/x\n4:memory:/kubepods/pod1/abc\n0::/\n',
      'sys/fs/cgroup/memory/kubepods/pod1/abc/memory.limit_in_bytes': V1_UNLIMITED,
      'sys/fs/cgroup/memory/kubepods/pod1/abc/memory.stat': `cache 0\nrss 0\nhierarchical_memory_limit 536870912\n`,
      'sys/fs/cgroup/memory/memory.limit_in_bytes': V1_UNLIMITED,
    };
    expect(host(files)).toBe(512 * MiB);
  });

  it('reads cgroup v1 at the mount root when the container sees only its own cgroup there', () => {
    const files = {
      'proc/self/cgroup': '4:memory:/kubepods/burstable/pod1/abc\n',
      'sys/fs/cgroup/memory/memory.limit_in_bytes': '268435456\n',
    };
    expect(host(files)).toBe(256 * MiB);
  });

  it('treats cgroup v1 "unlimited", missing files and an unconstrained process as no limit', () => {
    expect(
      host({ 'proc/self/cgroup': '4:memory:/\n', 'sys/fs/cgroup/memory/memory.limit_in_bytes': V1_UNLIMITED }),
    ).toBeUndefined();
    expect(host({})).toBeUndefined();
    expect(host({}, 0)).toBeUndefined();
    expect(host({}, 2 ** 64)).toBeUndefined();
  });

  it("uses libuv's answer (process.constrainedMemory) where the files say less", () => {
    expect(host({}, 200 * MiB)).toBe(200 * MiB);
    expect(host({ 'proc/self/cgroup': '0::/\n', 'sys/fs/cgroup/memory.max': '268435456\n' }, 512 * MiB)).toBe(
      256 * MiB,
    );
  });
});

describe('deriveMemoryLimits', () => {
  const bigHeap = 4096 * MiB;

  it("gives the guard half the container's limit and the queue an eighth, so the queue is shed long before stats are refused", () => {
    expect(deriveMemoryLimits(256 * MiB, bigHeap)).toEqual({ guardLimitBytes: 128 * MiB, queueMaxBytes: 32 * MiB });
    expect(deriveMemoryLimits(1024 * MiB, bigHeap)).toEqual({ guardLimitBytes: 512 * MiB, queueMaxBytes: 128 * MiB });
  });

  it('keeps the guard lower in small containers, where Node itself takes a larger share', () => {
    // the whole process, ~47 MiB + 1.3 x held, stays under 90 % of the limit
    expect(deriveMemoryLimits(128 * MiB, bigHeap).guardLimitBytes).toBe(Math.floor(((128 * 0.9 - 47) * MiB) / 1.3));
    expect(deriveMemoryLimits(128 * MiB, bigHeap).queueMaxBytes).toBe(16 * MiB);
    expect(deriveMemoryLimits(192 * MiB, bigHeap).guardLimitBytes).toBe(96 * MiB);
  });

  it('caps the queue at 256 MiB and keeps the guard below V8 heap limit', () => {
    expect(deriveMemoryLimits(8192 * MiB, bigHeap)).toEqual({
      guardLimitBytes: Math.floor(bigHeap * 0.8),
      queueMaxBytes: QUEUE_MAX_BYTES,
    });
    expect(deriveMemoryLimits(256 * MiB, 131 * MiB).guardLimitBytes).toBe(Math.floor(131 * MiB * 0.8));
  });

  it('without a container limit: the 256 MiB queue and a guard against V8 running out of heap', () => {
    expect(deriveMemoryLimits(undefined, bigHeap)).toEqual({
      guardLimitBytes: Math.floor(bigHeap * 0.8),
      queueMaxBytes: 256 * MiB,
    });
  });
});
