/**
 * The Dockerfile's runtime stage without Docker: a production-only install
 * (`npm ci --omit=dev --ignore-scripts`) plus dist/ and proto/ must start,
 * answer --help and serve /healthz, so no runtime import hides in devDependencies.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
