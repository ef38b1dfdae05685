/**
 * Real nats-server processes for the JetStream tests: one node, or a
 * three-node JetStream cluster, on 127.0.0.1 with free ports and temp store
 * dirs. A server can be killed and started again on the same ports and store.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { freePort } from './ports.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JetStreamApiError, jetstreamManager, type JetStreamManager, type StreamConfig } from '@nats-io/jetstream';
import { connect, type NatsConnection, type NodeConnectionOptions } from '@nats-io/transport-node';

export const NATS_SERVER = process.env.NATS_SERVER_BIN ?? '/usr/sbin/nats-server';

export interface NatsServerOptions {
  name?: string;
  /** Extra nats-server config lines (authorization, max_payload, ...). */
  config?: string;
  jetstream?: boolean;
  cluster?: { name: string; port: number; routes: number[] };
}

export class NatsServer {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private output = '';
  readonly name: string;
  readonly dir: string;

  constructor(
    readonly port: number,
    options: NatsServerOptions = {},
  ) {
    this.name = options.name ?? `n${port}`;
    this.dir = mkdtempSync(join(tmpdir(), 'nats-test-'));
    const lines = [`server_name: ${this.name}`, `listen: 127.0.0.1:${port}`];
    if (options.jetstream ?? true) lines.push(`jetstream { store_dir: "${join(this.dir, 'js')}" }`);
    const c = options.cluster;
    if (c) {
      const routes = c.routes.map((p) => `nats-route://127.0.0.1:${p}`).join(', ');
      lines.push(`cluster { name: ${c.name}, listen: 127.0.0.1:${c.port}, routes: [${routes}] }`);
    }
    if (options.config) lines.push(options.config);
    writeFileSync(join(this.dir, 'server.conf'), lines.join('\n') + '\n');
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  log(): string {
    return this.output;
  }

  /** Starts the process and resolves once it says it is ready for clients. */
  start(): Promise<void> {
    const child = spawn(NATS_SERVER, ['-c', join(this.dir, 'server.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.exited = new Promise((resolve) =>
      child.on('exit', () => {
        if (this.child === child) this.child = undefined;
        resolve();
      }),
    );
    return new Promise((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        this.output += chunk.toString();
        if (this.output.includes('Server is ready')) {
          child.stderr!.off('data', onData);
          child.stderr!.on('data', (c: Buffer) => (this.output += c.toString()));
          resolve();
        }
      };
      child.stderr!.on('data', onData);
      void this.exited.then(() => reject(new Error(`nats-server ${this.name} exited before ready:\n${this.output}`)));
    });
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const exited = this.exited;
    this.child?.kill(signal);
    await exited;
  }

  async destroy(): Promise<void> {
    await this.kill('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** One JetStream-enabled server, started. */
export async function startNatsServer(options: NatsServerOptions = {}): Promise<NatsServer> {
  const server = new NatsServer(await freePort(), options);
  await server.start();
  return server;
}

export interface NatsCluster {
  servers: NatsServer[];
  urls: string[];
  destroy(): Promise<void>;
}

/** Three JetStream servers routed to each other, started, with a metadata leader elected. */
export async function startNatsCluster(size = 3): Promise<NatsCluster> {
  const ports = await Promise.all(Array.from({ length: size }, () => freePort()));
  const routes = await Promise.all(Array.from({ length: size }, () => freePort()));
  const servers = ports.map(
    (port, i) =>
      new NatsServer(port, { name: `n${i + 1}`, cluster: { name: 'telemetry-test', port: routes[i]!, routes } }),
  );
  await Promise.all(servers.map((s) => s.start()));
  const nc = await connect({ servers: servers.map((s) => s.url) });
  try {
    await untilOk(async () => (await jetstreamManager(nc)).getAccountInfo(), 20_000);
  } finally {
    await nc.close();
  }
  return {
    servers,
    urls: servers.map((s) => s.url),
    destroy: async () => {
      await Promise.all(servers.map((s) => s.destroy()));
    },
  };
}

/**
 * Retries `fn` until it resolves: for cluster state that has no event to await
 * from outside (a metadata or stream leader being elected).
 */
export async function untilOk<T>(fn: () => Promise<T>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** A client connection and JetStream manager for a test's own reads and setup. */
export async function natsAdmin(
  servers: string | string[],
  options: Partial<NodeConnectionOptions> = {},
): Promise<{ nc: NatsConnection; jsm: JetStreamManager }> {
  const nc = await connect({ servers, ...options });
  return { nc, jsm: await jetstreamManager(nc) };
}

/** JSClusterNoPeersErrF: a new cluster's metadata leader may not know every peer yet. */
const NO_PEERS_YET = 10005;

/** Adds a stream, waiting out a young cluster that cannot place its replicas yet. */
export async function addStream(
  jsm: JetStreamManager,
  config: Partial<StreamConfig> & { name: string },
): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      await jsm.streams.add(config);
      return;
    } catch (err) {
      if (!(err instanceof JetStreamApiError && err.code === NO_PEERS_YET) || Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
