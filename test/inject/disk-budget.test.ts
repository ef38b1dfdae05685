/**
 * The webhook's disk check reads the sidecar's settings from the env it injects,
 * as the sidecar itself does, and bounds NDJSON files + spool + quarantine +
 * state files against 3/4 of the data volume's sizeLimit (docs/kubernetes.md "Disk").
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { deriveMemoryLimits } from '../../src/memory-limits.js';
import { loadSidecarDefaults } from '../../src/inject/config.js';
import {
  derivedQueueMaxBytes,
  diskBudgetProblem,
  diskSettings,
  diskUse,
  formatBytes,
} from '../../src/inject/disk-budget.js';
import { BUILTIN_DEFAULTS } from '../../src/inject/settings.js';
import type { EnvVar, SidecarSettings } from '../../src/inject/settings.js';
import { renderSidecarContainer } from '../../src/inject/sidecar-container.js';
import { byteSize, SettingError } from '../../src/settings/index.js';
import { kubeletEnv } from '../helpers/kubelet-env.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const STATE = 8 * KiB;

function settings(over: Partial<SidecarSettings> & { memoryLimit?: string } = {}): SidecarSettings {
  const { memoryLimit, ...rest } = over;
  const s: SidecarSettings = { ...BUILTIN_DEFAULTS, ...rest };
  if (memoryLimit !== undefined) {
    s.resources = { requests: { cpu: '50m', memory: '64Mi' }, limits: { cpu: '1', memory: memoryLimit } };
  }
  return s;
}
const env = (...pairs: [string, string][]): EnvVar[] => pairs.map(([name, value]) => ({ name, value }));

describe('the queue bound the webhook derives', () => {
  it('equals the sidecar’s derivation from its container’s memory limit', () => {
    const limit = fc.oneof(
      fc.integer({ min: 1, max: 64 * MiB }),
      fc.integer({ min: 1, max: 16 * 1024 }).map((n) => n * MiB),
      fc.integer({ min: 1, max: 2 ** 45 }),
    );
    let capped = 0;
    fc.assert(
      fc.property(limit, fc.integer({ min: 16 * MiB, max: 8 * 1024 * MiB }), (bytes, heap) => {
        const ours = derivedQueueMaxBytes(bytes);
        if (ours === 256 * MiB) capped++;
        expect(ours).toBe(deriveMemoryLimits(bytes, heap).queueMaxBytes);
      }),
      { numRuns: 2000 },
    );
    // both sides of the 2 GiB knee are reached
    expect(capped).toBeGreaterThan(200);
    expect(capped).toBeLessThan(1800);
  });
});

describe('the settings the disk check reads', () => {
  const UPSTREAMS = [
    'file:/data/analytics-stats.ndjson',
    'file:/data/x/../y.ndjson',
    'file:/var/log/stats.ndjson',
    'file:stats.ndjson',
    'grpc://analytics:443',
    'stdout:',
    'nats://nats:4222/livekit.analytics',
  ];
  const VALUES: Record<string, readonly string[]> = {
    SIDECAR_UPSTREAM: [...UPSTREAMS, ''],
    SIDECAR_FILE_MAX_BYTES: ['1Mi', '64Mi', '100M', '268435456', ' 2Gi ', ''],
    SIDECAR_FILE_MAX_FILES: ['1', '3', '10', ''],
    SIDECAR_SPOOL_DIR: ['/data/spool', '/data', '/database/spool', '/tmp/spool', 'spool', '/data/../tmp', ''],
    SIDECAR_QUEUE_MAX_BYTES: ['64Mi', '1G', '268435456', '1', '0.5Gi', ''],
    SIDECAR_QUARANTINE_MAX_BYTES: ['1Mi', '16Mi', '2G', ''],
    SIDECAR_ANALYTICS_KEY: ['k'],
  };
  const entry = fc
    .constantFrom(...Object.keys(VALUES))
    .chain((name) => fc.constantFrom(...VALUES[name]!).map((value) => ({ name, value })));
  const memoryLimit = fc.oneof(
    fc.constantFrom('256Mi', '160Mi', '512Mi', '1Gi', '2Gi', '4Gi', '1G', '300M', '0.5Gi'),
    fc.integer({ min: 64, max: 8192 }).map((n) => `${n}Mi`),
    fc.integer({ min: 2 ** 24, max: 2 ** 34 }).map(String),
  );
  const sidecar = fc.record({
    upstream: fc.constantFrom(...UPSTREAMS),
    memoryLimit,
    fileMaxBytes: fc.constantFrom(1, 64 * MiB, 96 * MiB, 1e9),
    fileMaxFiles: fc.integer({ min: 1, max: 10 }),
    extraEnv: fc.array(entry, { maxLength: 6 }),
  });

  it('are what the sidecar reads from the env the webhook injects (extraEnv, duplicates, sizes in Mi)', () => {
    const seen = { spool: 0, derivedQueue: 0, explicitQueue: 0, files: 0, sidecarFileDefaults: 0 };
    fc.assert(
      fc.property(sidecar, (over) => {
        const s = settings(over);
        const container = renderSidecarContainer(s);
        const config = loadConfig({
          env: kubeletEnv(container.env),
          argv: [],
          memoryLimitBytes: () => byteSize(over.memoryLimit),
        });
        const ours = diskSettings(s);
        expect(ours).toEqual({
          upstream: config.upstream,
          fileMaxBytes: config.fileMaxBytes,
          fileMaxFiles: config.fileMaxFiles,
          spoolDir: config.spoolDir,
          queueMaxBytes: config.queueMaxBytes,
          quarantineMaxBytes: config.quarantineMaxBytes,
        });
        const use = diskUse(s);
        if (use.spoolBytes > 0) seen.spool++;
        if (use.fileBytes > 0) seen.files++;
        if (container.env.every((e) => e.name !== 'SIDECAR_FILE_MAX_BYTES') && ours.upstream.kind === 'file') {
          seen.sidecarFileDefaults++;
        }
        const queueSet = kubeletEnv(container.env).SIDECAR_QUEUE_MAX_BYTES?.trim();
        if (queueSet) seen.explicitQueue++;
        else seen.derivedQueue++;
      }),
      { numRuns: 1000 },
    );
    // the generator reaches every branch
    for (const [what, n] of Object.entries(seen)) expect(n, what).toBeGreaterThan(30);
  });
});

describe('what the sidecar may write to /data', () => {
  const spoolAt = (dir: string) => env(['SIDECAR_SPOOL_DIR', dir]);

  it.each<[string, Partial<SidecarSettings> & { memoryLimit?: string }, Partial<ReturnType<typeof diskUse>>]>([
    ['the injected defaults: 96 MiB × (1 + 3) of NDJSON files', {}, { fileBytes: 384 * MiB, spoolBytes: 0 }],
    [
      'a spool on /data at the default 256Mi limit: a 32 MiB queue and the 16 MiB quarantine',
      { extraEnv: spoolAt('/data/spool') },
      { spoolBytes: 32 * MiB, quarantineBytes: 16 * MiB, totalBytes: (384 + 32 + 16) * MiB + STATE },
    ],
    [
      'a 160Mi memory limit: a 20 MiB queue',
      { extraEnv: spoolAt('/data/spool'), memoryLimit: '160Mi' },
      { spoolBytes: 20 * MiB },
    ],
    [
      'a 1G memory limit (decimal)',
      { extraEnv: spoolAt('/data/spool'), memoryLimit: '1G' },
      { spoolBytes: 125_000_000 },
    ],
    [
      'a 2Gi memory limit: the 256 MiB cap',
      { extraEnv: spoolAt('/data/spool'), memoryLimit: '2Gi' },
      { spoolBytes: 256 * MiB },
    ],
    [
      'a 16Gi memory limit: still the cap',
      { extraEnv: spoolAt('/data/spool'), memoryLimit: '16Gi' },
      { spoolBytes: 256 * MiB },
    ],
    [
      'SIDECAR_QUEUE_MAX_BYTES=64Mi over the derived bound',
      { extraEnv: env(['SIDECAR_SPOOL_DIR', '/data/spool'], ['SIDECAR_QUEUE_MAX_BYTES', '64Mi']), memoryLimit: '4Gi' },
      { spoolBytes: 64 * MiB },
    ],
    [
      'SIDECAR_QUEUE_MAX_BYTES=1G',
      { extraEnv: env(['SIDECAR_QUEUE_MAX_BYTES', '1G'], ['SIDECAR_SPOOL_DIR', '/data/spool']) },
      { spoolBytes: 1e9 },
    ],
    [
      'SIDECAR_QUARANTINE_MAX_BYTES=1Mi',
      { extraEnv: env(['SIDECAR_SPOOL_DIR', '/data/spool'], ['SIDECAR_QUARANTINE_MAX_BYTES', '1Mi']) },
      { quarantineBytes: MiB },
    ],
    ['a spool on /data itself', { extraEnv: spoolAt('/data') }, { spoolBytes: 32 * MiB }],
    ['a spool at /data/./spool//x', { extraEnv: spoolAt('/data/./spool//x') }, { spoolBytes: 32 * MiB }],
    ['a relative spool dir, counted', { extraEnv: spoolAt('spool') }, { spoolBytes: 32 * MiB }],
    [
      'a spool at /database/spool, not on /data',
      { extraEnv: spoolAt('/database/spool') },
      { spoolBytes: 0, quarantineBytes: 0 },
    ],
    ['a spool at /data/../tmp, not on /data', { extraEnv: spoolAt('/data/../tmp') }, { spoolBytes: 0 }],
    ['an empty SIDECAR_SPOOL_DIR: no spool', { extraEnv: spoolAt('') }, { spoolBytes: 0 }],
    [
      'the later of two SIDECAR_SPOOL_DIR entries wins (off /data)',
      { extraEnv: env(['SIDECAR_SPOOL_DIR', '/data/spool'], ['SIDECAR_SPOOL_DIR', '/tmp/spool']) },
      { spoolBytes: 0 },
    ],
    [
      'the later of two SIDECAR_SPOOL_DIR entries wins (on /data)',
      { extraEnv: env(['SIDECAR_SPOOL_DIR', '/tmp/spool'], ['SIDECAR_SPOOL_DIR', '/data/spool']) },
      { spoolBytes: 32 * MiB },
    ],
    ['a gRPC upstream: no NDJSON files', { upstream: 'grpc://analytics:443' }, { fileBytes: 0, totalBytes: STATE }],
    ['an NDJSON file off /data', { upstream: 'file:/var/log/stats.ndjson' }, { fileBytes: 0 }],
    [
      'extraEnv SIDECAR_UPSTREAM=file:/data/x over a gRPC upstream: the sidecar’s own 64 MiB × (1 + 3)',
      { upstream: 'grpc://analytics:443', extraEnv: env(['SIDECAR_UPSTREAM', 'file:/data/x.ndjson']) },
      { fileBytes: 256 * MiB },
    ],
    [
      'extraEnv SIDECAR_FILE_MAX_BYTES=256Mi over the injected one',
      { extraEnv: env(['SIDECAR_FILE_MAX_BYTES', '256Mi']) },
      { fileBytes: 1024 * MiB },
    ],
  ])('%s', (_name, over, expected) => {
    expect(diskUse(settings(over))).toMatchObject(expected);
  });

  it('holds the sum against 3/4 of dataSizeLimit, in the volume’s own units', () => {
    expect(diskUse(settings()).budgetBytes).toBe(768 * MiB);
    expect(diskUse(settings({ dataSizeLimit: '2Gi' })).budgetBytes).toBe(1536 * MiB);
    expect(diskUse(settings({ dataSizeLimit: '500M' })).budgetBytes).toBe(375_000_000);
  });

  it('fits the defaults with a spool at the largest queue bound the sidecar derives, and nothing more', () => {
    const worst = settings({ extraEnv: env(['SIDECAR_SPOOL_DIR', '/data/spool']), memoryLimit: '8Gi' });
    expect(diskUse(worst).totalBytes).toBe((384 + 256 + 16) * MiB + STATE);
    expect(diskBudgetProblem(worst)).toBeUndefined();
    // exactly at the budget fits; one byte over does not
    const room = 768 * MiB - (256 + 16) * MiB - STATE;
    expect(diskBudgetProblem({ ...worst, fileMaxBytes: room / 2, fileMaxFiles: 1 })).toBeUndefined();
    expect(diskBudgetProblem({ ...worst, fileMaxBytes: room / 2 + 1, fileMaxFiles: 1 })).toBe(
      'the sidecar could write 496.0 MiB of NDJSON files + 256 MiB of spool + 16 MiB of quarantine + 8 KiB of state files = 768.0 MiB to /data, more than 768 MiB (3/4 of dataSizeLimit 1Gi); the kubelet would evict the pod. Lower fileMaxBytes or SIDECAR_QUEUE_MAX_BYTES, or raise dataSizeLimit',
    );
  });

  it('writes sizes exactly where they are whole', () => {
    expect([0, 8 * KiB, 1536, 32 * MiB, 125_000_000, 1072 * MiB + 8 * KiB].map(formatBytes)).toEqual([
      '0 MiB',
      '8 KiB',
      '1.5 KiB',
      '32 MiB',
      '119.2 MiB',
      '1072.0 MiB',
    ]);
  });
});

describe('settings the disk check cannot read', () => {
  it.each<[string, EnvVar[], string]>([
    [
      'a queue bound the sidecar refuses',
      env(['SIDECAR_QUEUE_MAX_BYTES', '256MB']),
      'extraEnv SIDECAR_QUEUE_MAX_BYTES: must be a size',
    ],
    [
      'a quarantine bound of 0',
      env(['SIDECAR_QUARANTINE_MAX_BYTES', '0']),
      'extraEnv SIDECAR_QUARANTINE_MAX_BYTES: must be greater than zero',
    ],
    [
      'an upstream the sidecar refuses',
      env(['SIDECAR_UPSTREAM', 'http://x:1']),
      'extraEnv SIDECAR_UPSTREAM: must be file:PATH',
    ],
    [
      'a spool dir from a ConfigMap',
      [{ name: 'SIDECAR_SPOOL_DIR', valueFrom: { configMapKeyRef: { name: 'c', key: 'k' } } }],
      'extraEnv SIDECAR_SPOOL_DIR: must be a value, not valueFrom',
    ],
  ])('refuses %s naming the env var', (_name, extraEnv, message) => {
    const run = () => diskSettings(settings({ extraEnv }));
    expect(run).toThrow(SettingError);
    expect(run).toThrow(message);
  });

  describe('in the defaults file, at the webhook’s start', () => {
    let dir: string | undefined;
    afterEach(() => dir && rmSync(dir, { recursive: true, force: true }));

    it('stops startup naming the file and the env var', async () => {
      dir = mkdtempSync(join(tmpdir(), 'disk-budget-'));
      const path = join(dir, 'sidecar-defaults.yaml');
      writeFileSync(path, 'extraEnv:\n  - name: SIDECAR_QUEUE_MAX_BYTES\n    value: 256MB\n');
      await expect(loadSidecarDefaults(path)).rejects.toThrow(
        `INJECT_SIDECAR_DEFAULTS_FILE: ${path}: extraEnv SIDECAR_QUEUE_MAX_BYTES: must be a size`,
      );
      writeFileSync(path, 'extraEnv:\n  - name: SIDECAR_QUEUE_MAX_BYTES\n    value: 256Mi\n');
      expect((await loadSidecarDefaults(path)).extraEnv).toEqual(env(['SIDECAR_QUEUE_MAX_BYTES', '256Mi']));
    });
  });
});
