/** The runner's side of a bench server child process: spawn, ask, stop. */
import { mkdirSync, readFileSync } from 'node:fs';
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildMode, ChildReply, ChildRequest, ReadyMessage } from './ipc.js';

const SERVER = fileURLToPath(new URL('./server.js', import.meta.url));

/** The Dockerfile beside the sources, whether run from bench/ (tsx) or dist/bench/. */
const DOCKERFILE = fileURLToPath(
  new URL(import.meta.url.includes('/dist/') ? '../../Dockerfile' : '../Dockerfile', import.meta.url),
);

/**
 * The malloc settings the image sets (its `MALLOC_*` variables): glibc reads
 * them at process start, so a sidecar child gets them as the image's process does.
 */
const IMAGE_MALLOC_ENV = Object.fromEntries(
  Array.from(readFileSync(DOCKERFILE, 'utf8').matchAll(/\b(MALLOC_[A-Z_]+)=(\S+)/g), ([, name, value]) => [
    name!,
    value!,
  ]),
);

export class BenchChild {
  private nextId = 1;
  private readonly waiting = new Map<number, (reply: ChildReply) => void>();

  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
  ) {
    child.on('message', (m: ChildReply) => {
      this.waiting.get(m.id)?.(m);
      this.waiting.delete(m.id);
    });
  }

  /**
   * Starts a server child. `BENCH_CPU_PROF=DIR` profiles sidecar children
   * with --cpu-prof into DIR (the profile is written when the child stops);
   * `BENCH_NODE_ARGS` adds flags to sidecar children.
   */
  static start(mode: ChildMode, env: Record<string, string> = {}): Promise<BenchChild> {
    const execArgv = ['--expose-gc'];
    const profDir = process.env.BENCH_CPU_PROF;
    if (profDir && mode === 'sidecar') execArgv.push('--cpu-prof', `--cpu-prof-dir=${profDir}`);
    // diagnosis, e.g. BENCH_NODE_ARGS=--trace-gc: extra flags for sidecar children, whose stdout is then shown
    const extra = mode === 'sidecar' ? (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean) : [];
    execArgv.push(...extra);
    const child = fork(SERVER, [mode, JSON.stringify(env)], {
      execArgv,
      // the sidecar as the image runs it; the reference servers as Node runs by default
      env: mode === 'sidecar' ? { ...process.env, ...IMAGE_MALLOC_ENV } : process.env,
      // the sidecar logs at its production level; the lines go nowhere, as they would to a collector
      stdio: ['ignore', extra.length > 0 ? 'inherit' : 'ignore', 'inherit', 'ipc'],
    });
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`bench ${mode} child exited with ${code}`));
      child.once('exit', onExit);
      child.once('message', (m: ReadyMessage) => {
        child.off('exit', onExit);
        resolve(new BenchChild(child, m.port));
      });
    });
  }

  get target(): string {
    return `127.0.0.1:${this.port}`;
  }

  ask<T>(cmd: ChildRequest['cmd'], path?: string): Promise<T> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, (reply) => (reply.error ? reject(new Error(reply.error)) : resolve(reply.result as T)));
      this.child.send({ id, cmd, ...(path ? { path } : {}) } satisfies ChildRequest);
    });
  }

  /**
   * `BENCH_WINDOW_PROF=DIR`: a CPU profile of the child over exactly `work`
   * (a measured window), written to DIR/<name>.cpuprofile; otherwise just `work`.
   */
  async profiled<T>(name: string, work: () => Promise<T>): Promise<T> {
    const dir = process.env.BENCH_WINDOW_PROF;
    if (!dir) return work();
    mkdirSync(dir, { recursive: true });
    await this.ask('profile-start');
    const result = await work();
    await this.ask('profile-stop', join(dir, `${name}.cpuprofile`));
    return result;
  }

  async stop(): Promise<void> {
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    await this.ask('stop').catch(() => this.child.kill());
    await exited;
  }
}
