/** Runs the built sidecar (dist/, as `npm start` does) as a real child process. */
import { spawn, type ChildProcess, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { onTestFinished } from 'vitest';

export const MAIN = fileURLToPath(new URL('../../dist/src/main.js', import.meta.url));

/**
 * A child outlives nothing it was started for: it is killed when the test that started it ends
 * (passed, failed or timed out), or when this test worker exits if it was started in a hook.
 */
export function reaped<C extends ChildProcess>(child: C): C {
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  try {
    onTestFinished(kill);
  } catch {
    // started in a beforeAll/beforeEach hook: its afterAll stops it; this is the fallback
    process.once('exit', kill);
    child.once('exit', () => process.off('exit', kill));
  }
  return child;
}

export interface RunningSidecar {
  child: ChildProcessWithoutNullStreams;
  grpcPort: number;
  httpPort: number;
  output: () => string;
  exited: Promise<number | null>;
}

/** Starts `node dist/src/main.js` on free ports and resolves once it logs that it is serving. */
export function spawnSidecar(
  cwd: string,
  env: Record<string, string> = {},
  args: string[] = [],
  main: string = MAIN,
  /** A command that runs node with the arguments it is given (e.g. a shell that joins a cgroup first). */
  launcher: string[] = [],
): Promise<RunningSidecar> {
  const [command = process.execPath, ...prefix] = [...launcher, ...(launcher.length > 0 ? [process.execPath] : [])];
  const child = reaped(
    spawn(command, [...prefix, main, '--grpc-addr', '127.0.0.1:0', '--http-addr', '127.0.0.1:0', ...args], {
      cwd,
      env: { PATH: process.env.PATH ?? '', SIDECAR_NODE_ID: 'proc-node', ...env },
    }),
  );
  let out = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const line = out.split('\n').find((l) => l.includes('"telemetry-sidecar serving"'));
      if (line) {
        const parsed = JSON.parse(line) as { grpcPort: number; httpPort: number };
        child.stdout.off('data', onData);
        child.stdout.on('data', (c: Buffer) => (out += c.toString()));
        resolve({ child, grpcPort: parsed.grpcPort, httpPort: parsed.httpPort, output: () => out, exited });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    void exited.then((code) => reject(new Error(`sidecar exited with ${code} before serving:\n${out}`)));
  });
}

/** Runs the CLI to completion and returns its exit code and output. */
export function runCli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = reaped(spawn(process.execPath, [MAIN, ...args], { env: { PATH: process.env.PATH ?? '', ...env } }));
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
}

export interface WatchedProcess {
  child: ChildProcessWithoutNullStreams;
  /** Resolves with the first output line (stdout or stderr) matching `pattern`; rejects if the process exits first. */
  line(pattern: RegExp): Promise<string>;
  output: () => string;
  exited: Promise<number | null>;
}

/** Starts `node dist/src/main.js ...args` with exactly `env` (plus PATH) and watches its output. */
export function spawnMain(args: string[], env: Record<string, string>, cwd?: string): WatchedProcess {
  const child = reaped(
    spawn(process.execPath, [MAIN, ...args], { cwd, env: { PATH: process.env.PATH ?? '', ...env } }),
  );
  let out = '';
  const waiters: { pattern: RegExp; resolve: (l: string) => void }[] = [];
  const check = () => {
    for (const w of [...waiters]) {
      const hit = out.split('\n').find((l) => w.pattern.test(l));
      if (hit !== undefined) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(hit);
      }
    }
  };
  const onData = (c: Buffer) => {
    out += c.toString();
    check();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    output: () => out,
    exited,
    line: (pattern) =>
      new Promise<string>((resolve, reject) => {
        waiters.push({ pattern, resolve });
        check();
        void exited.then((code) => reject(new Error(`exited with ${code} before printing ${pattern}:\n${out}`)));
      }),
  };
}
