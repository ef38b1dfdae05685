/** Runs the built sidecar (dist/, as `npm start` does) as a real child process. */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const MAIN = fileURLToPath(new URL('../../dist/src/main.js', import.meta.url));

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
  const child = spawn(command, [...prefix, main, '--grpc-addr', '127.0.0.1:0', '--http-addr', '127.0.0.1:0', ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? '', SIDECAR_NODE_ID: 'proc-node', ...env },
  });
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
  const child = spawn(process.execPath, [MAIN, ...args], { env: { PATH: process.env.PATH ?? '', ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
}
