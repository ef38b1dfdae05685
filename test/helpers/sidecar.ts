/** Starts a real sidecar on 127.0.0.1 port 0 with an NDJSON file sink in a temp dir, and a real client. */
import { mkdtempSync, readFileSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { startSidecar, type Sidecar, type SidecarOptions } from '../../src/app.js';
import { createSidecarClient, type TelemetrySidecarClient } from '../../src/client/sidecar-client.js';
import { loadConfig } from '../../src/config.js';
import type { Sink } from '../../src/upstream/sink.js';

export interface TestSidecar {
  sidecar: Sidecar;
  client: TelemetrySidecarClient;
  target: string;
  dir: string;
  ndjson: string;
  /** Log lines the sidecar wrote, parsed. */
  logs: Record<string, unknown>[];
  /** Resolves with the first log line (already written or to come) with this message. */
  logLine(msg: string): Promise<Record<string, unknown>>;
  /** The stats delivered to the NDJSON sink so far, parsed. */
  delivered(): Record<string, unknown>[];
  close(): Promise<void>;
}

export interface TestSidecarOptions {
  token?: string;
  /** A fake clock for the core (flush times, close_wait). */
  now?: () => number;
  /** Replaces the sink the config names. */
  sink?: Sink;
  /** Delivery retry and call timing, so failure tests need not wait for production backoff. */
  delivery?: SidecarOptions['delivery'];
  /** Replaces the memory guard's reading of process.memoryUsage(). */
  memoryReading?: SidecarOptions['memoryReading'];
}

export async function startTestSidecar(
  env: Record<string, string> = {},
  options: TestSidecarOptions = {},
): Promise<TestSidecar> {
  const dir = mkdtempSync(join(tmpdir(), 'sidecar-test-'));
  const ndjson = join(dir, 'out', 'stats.ndjson');
  const extra: Record<string, string> = {};
  if (options.token) {
    writeFileSync(join(dir, 'token'), `${options.token}\n`);
    extra.SIDECAR_GRPC_TOKEN_FILE = join(dir, 'token');
  }
  const config = loadConfig({
    env: {
      SIDECAR_GRPC_ADDR: '127.0.0.1:0',
      SIDECAR_HTTP_ADDR: '127.0.0.1:0',
      SIDECAR_UPSTREAM: `file:${ndjson}`,
      SIDECAR_FLUSH_INTERVAL: '1h',
      SIDECAR_NODE_ID: 'test-node',
      LOG_LEVEL: 'debug',
      ...extra,
      ...env,
    },
    argv: [],
    memoryLimitBytes: () => undefined,
  });
  const logs: Record<string, unknown>[] = [];
  const waiting: { msg: string; resolve: (line: Record<string, unknown>) => void }[] = [];
  const capture = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const text of chunk.toString().split('\n')) {
        if (!text) continue;
        const line = JSON.parse(text) as Record<string, unknown>;
        logs.push(line);
        for (const w of waiting.filter((w) => w.msg === line.msg)) {
          waiting.splice(waiting.indexOf(w), 1);
          w.resolve(line);
        }
      }
      done();
    },
  });
  const sidecar = await startSidecar(config, {
    logger: pino({ level: 'debug' }, capture),
    ...(options.now ? { now: options.now } : {}),
    ...(options.sink ? { sink: options.sink } : {}),
    ...(options.delivery ? { delivery: options.delivery } : {}),
    ...(options.memoryReading ? { memoryReading: options.memoryReading } : {}),
  });
  const target = `127.0.0.1:${sidecar.grpcPort}`;
  const client = createSidecarClient(target, options.token ? { token: options.token } : {});
  return {
    sidecar,
    client,
    target,
    dir,
    ndjson,
    logs,
    logLine: (msg) => {
      const written = logs.find((l) => l.msg === msg);
      return written ? Promise.resolve(written) : new Promise((resolve) => waiting.push({ msg, resolve }));
    },
    delivered: () =>
      existsSync(ndjson)
        ? readFileSync(ndjson, 'utf8')
            .split('\n')
            .filter(Boolean)
            .map((l) => JSON.parse(l) as Record<string, unknown>)
        : [],
    close: async () => {
      client.close();
      await sidecar.shutdown();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
