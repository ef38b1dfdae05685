/**
 * Child-process entry of the bench: runs one server (the sidecar, the bare
 * baseline, or the counting upstream) on its own event loop, apart from the
 * load generator, and answers the runner's measurement requests over IPC.
 *
 *   node --expose-gc dist/bench/server.js sidecar '{"SIDECAR_UPSTREAM":"grpc://..."}'
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { startSidecar } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { startBareServer } from './bare-server.js';
import { startCountingUpstream } from './counting-upstream.js';
import type { ChildMode, ChildReply, ChildRequest, CpuReading, LoopDelay, MemoryReading, Received } from './ipc.js';
import { STATS_PER_MESSAGE } from './settings.js';
import { StallMonitor } from './stall-monitor.js';
import { startTransportServer } from './transport-server.js';

const NS_PER_MS = 1e6;

/** V8 hands freed pages back on background threads: give it a moment so RSS settles. */
const SETTLE_MS = 200;

async function memory(): Promise<MemoryReading> {
  const gc = globalThis.gc;
  if (!gc) throw new Error('run with --expose-gc');
  // twice: the first pass may only schedule finalisers whose memory the second frees
  gc();
  gc();
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  gc();
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, external: m.external };
}

async function main(): Promise<void> {
  const mode = process.argv[2] as ChildMode;
  const env = JSON.parse(process.argv[3] ?? '{}') as Record<string, string>;
  let port: number;
  let stop: () => Promise<unknown>;
  let received: Received | undefined;
  if (mode === 'sidecar') {
    const config = loadConfig({
      env: { SIDECAR_GRPC_ADDR: '127.0.0.1:0', SIDECAR_HTTP_ADDR: '127.0.0.1:0', ...env },
      argv: [],
      memoryLimitBytes: () => undefined,
    });
    const sidecar = await startSidecar(config);
    port = sidecar.grpcPort;
    stop = () => sidecar.shutdown();
  } else if (mode === 'bare') {
    const bare = await startBareServer();
    port = bare.port;
    stop = async () => bare.close();
  } else if (mode === 'transport') {
    const transport = await startTransportServer(STATS_PER_MESSAGE);
    port = transport.port;
    stop = async () => transport.close();
  } else if (mode === 'upstream') {
    const upstream = await startCountingUpstream();
    port = upstream.port;
    received = upstream.received;
    stop = async () => upstream.close();
  } else {
    throw new Error(`unknown mode ${String(mode)}`);
  }

  let delay: IntervalHistogram | undefined;
  let stalls: StallMonitor | undefined;
  let profiler: Session | undefined;
  const handle = async (req: ChildRequest): Promise<unknown> => {
    switch (req.cmd) {
      case 'memory':
        return memory();
      case 'cpu': {
        const { user, system } = process.cpuUsage();
        return { user, system } satisfies CpuReading;
      }
      case 'profile-start':
        profiler = new Session();
        profiler.connect();
        await profiler.post('Profiler.enable');
        await profiler.post('Profiler.start');
        return null;
      case 'profile-stop': {
        if (!profiler || !req.path) throw new Error('profile-start first, and a path');
        const { profile } = await profiler.post('Profiler.stop');
        profiler.disconnect();
        profiler = undefined;
        writeFileSync(req.path, JSON.stringify(profile));
        return req.path;
      }
      case 'loop-delay-start':
        delay?.disable();
        delay = monitorEventLoopDelay({ resolution: 1 });
        delay.enable();
        stalls?.stop();
        stalls = new StallMonitor();
        stalls.start();
        return null;
      case 'loop-delay-stop': {
        if (!delay) throw new Error('loop-delay-start first');
        delay.disable();
        const worst = stalls?.stop() ?? [];
        stalls = undefined;
        const result: LoopDelay = {
          maxMs: delay.max / NS_PER_MS,
          p99Ms: delay.percentile(99) / NS_PER_MS,
          meanMs: delay.mean / NS_PER_MS,
          cpuMaxMs: worst[0]?.cpuMs ?? 0,
          worst,
        };
        return result;
      }
      case 'received':
        return received ?? null;
      case 'stop':
        await stop();
        setImmediate(() => process.exit(0));
        return null;
    }
  };
  process.on('message', (req: ChildRequest) => {
    handle(req).then(
      (result) => process.send?.({ id: req.id, result } satisfies ChildReply),
      (err: unknown) => process.send?.({ id: req.id, error: (err as Error).message } satisfies ChildReply),
    );
  });
  process.send?.({ ready: true, port });
}

main().catch((err: unknown) => {
  process.stderr.write(`bench server: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
