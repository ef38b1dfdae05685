/**
 * The composition root: builds the sidecar from its config as the pipeline
 * runs — observe, core, delivery, schedule, service, serve — one small
 * function per stage, starts it, and shuts it down in the documented order
 * (docs/configuration.md). main.ts and the integration tests both start the
 * product through here.
 */
import { format } from 'node:util';
import { getHeapStatistics } from 'node:v8';
import { setLogger as setGrpcLogger } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { checkConfigFiles, settingName, type Config, type Upstream } from './config.js';
import { WorkerRegistry } from './core/registry.js';
import type { StatsWorker } from './core/worker.js';
import { startHttpServer, type HttpServer } from './observe/http.js';
import { createLogger, LogRateLimiter, workerLogFields } from './observe/log.js';
import { logOutput } from './observe/log-output.js';
import { SidecarMetrics } from './observe/metrics.js';
import { FlushScheduler } from './schedule/scheduler.js';
import { StatStamper } from './schedule/stamp.js';
import { MemoryGuard, v8Collector, type MemoryReading } from './service/memory-guard.js';
import { GrpcServer } from './service/server.js';
import { SidecarService } from './service/sidecar.js';
import { formatAddress, SettingError, TokenFile, type Address } from './settings/index.js';
import { Backoff } from './upstream/backoff.js';
import { BatchIds, randomBase62 } from './upstream/batch-id.js';
import { Delivery, type DeliveryOptions } from './upstream/delivery.js';
import { GrpcSink, type GrpcSinkOptions } from './upstream/grpc-sink.js';
import { JetStreamSink, type JetStreamSinkMetrics, type JetStreamSinkOptions } from './upstream/jetstream-sink.js';
import { natsAuth, type NatsConnectionSettings } from './upstream/nats-connection.js';
import { NdjsonFileSink, StdoutSink } from './upstream/ndjson-sink.js';
import type { Sink } from './upstream/sink.js';
import { Spool, SpoolDirError, type SpoolOpenResult } from './upstream/spool.js';

/** Invalid-stat warnings: at most this many per interval, the rest counted. */
const INVALID_STAT_LOG_MAX = 10;
const INVALID_STAT_LOG_INTERVAL_MS = 60_000;

export interface SidecarOptions {
  logger?: Logger;
  /** Replaces the sink the config names (e.g. a test's). */
  sink?: Sink;
  now?: () => number;
  /** Retry and call timing of delivery; production defaults: backoff 1 s to 30 s, 30 s per call. */
  delivery?: { retryInitialMs?: number; retryMaxMs?: number; callTimeoutMs?: number; quarantineStrikes?: number };
  /** Replaces the memory guard's reading of process.memoryUsage() (and its forced collection) for a test. */
  memoryReading?: () => MemoryReading;
}

export interface ShutdownReport {
  statsEmitted: number;
  delivered: boolean;
  undeliveredStats: number;
  /** The undelivered stats are in the spool for the next start. */
  spooled: boolean;
}

export interface Sidecar {
  readonly grpcPort: number;
  readonly httpPort: number;
  readonly registry: WorkerRegistry;
  readonly metrics: SidecarMetrics;
  readonly memory: MemoryGuard;
  readonly logger: Logger;
  shutdown(): Promise<ShutdownReport>;
}

/** What a sink reports through besides its send results: file rotation, the NATS connection and duplicates. */
export interface SinkContext {
  logger: Logger;
  metrics: JetStreamSinkMetrics & { statsDropped(reason: 'file_rotated', n: number): void };
  /** Deadline of one send (gRPC call, JetStream publish); in milliseconds. */
  callTimeoutMs?: number;
}

/** The sink SIDECAR_UPSTREAM names, with its TLS and credential settings. */
export function createSink(config: Readonly<Config>, { logger, metrics, callTimeoutMs }: SinkContext): Sink {
  const upstream = config.upstream;
  switch (upstream.kind) {
    case 'file':
      return new NdjsonFileSink(upstream.path, {
        maxBytes: config.fileMaxBytes,
        maxFiles: config.fileMaxFiles,
        rotatedAway: (stats) => metrics.statsDropped('file_rotated', stats),
      });
    case 'stdout':
      return new StdoutSink();
    case 'grpc': {
      const options: GrpcSinkOptions = { target: upstream.target, tls: upstream.tls };
      if (config.upstreamTokenFile) options.tokenFile = config.upstreamTokenFile;
      if (config.upstreamCaFile) options.caFile = config.upstreamCaFile;
      if (config.upstreamCertFile) options.certFile = config.upstreamCertFile;
      if (config.upstreamKeyFile) options.keyFile = config.upstreamKeyFile;
      if (callTimeoutMs !== undefined) options.callTimeoutMs = callTimeoutMs;
      return new GrpcSink(options);
    }
    case 'nats': {
      const connection = natsConnection(config, upstream, `telemetry-sidecar ${config.nodeId}`);
      const options: JetStreamSinkOptions = {
        connection,
        subject: upstream.subject,
        nodeId: config.nodeId,
        payload: config.natsPayload,
        logger,
        metrics,
      };
      if (callTimeoutMs !== undefined) options.publishTimeoutMs = callTimeoutMs;
      if (config.natsCreateStream) {
        options.createStream = {
          name: config.natsCreateStream,
          replicas: config.natsStreamReplicas,
          duplicateWindowMs: config.natsDuplicateWindowMs,
        };
      }
      return new JetStreamSink(options);
    }
  }
}

/** The NATS connection SIDECAR_UPSTREAM and the TLS and credential settings describe (the sink's, and tail's). */
export function natsConnection(
  config: Readonly<Config>,
  upstream: Extract<Upstream, { kind: 'nats' }>,
  name: string,
): NatsConnectionSettings {
  const connection: NatsConnectionSettings = {
    servers: upstream.servers,
    tls: upstream.tls,
    auth: natsAuth(config),
    name,
  };
  if (config.upstreamCaFile) connection.caFile = config.upstreamCaFile;
  if (config.upstreamCertFile) connection.certFile = config.upstreamCertFile;
  if (config.upstreamKeyFile) connection.keyFile = config.upstreamKeyFile;
  return connection;
}

/** The memory figures the sidecar runs with, in MiB, for its start line (docs/memory.md). */
function memorySettings(config: Readonly<Config>): Record<string, number | null> {
  const mib = (bytes: number | undefined) => (bytes === undefined ? null : Math.round((bytes / 2 ** 20) * 10) / 10);
  return {
    containerLimitMb: mib(config.containerMemoryBytes),
    guardLimitMb: mib(config.memoryLimitBytes),
    queueMaxMb: mib(config.queueMaxBytes),
    v8HeapLimitMb: mib(getHeapStatistics().heap_size_limit),
  };
}

export async function startSidecar(config: Readonly<Config>, options: SidecarOptions = {}): Promise<Sidecar> {
  checkConfigFiles(config);
  const observed = observe(config, options);
  const registry = core(config);
  const delivered = await delivery(config, options, observed);
  const scheduled = schedule(config, observed, registry, delivered, {
    workerReaped: (worker) => served.service.workerReaped(worker),
  });
  const served = service(config, options, observed, registry, scheduled, delivered);
  const serving = await serve(config, observed, served);
  bindGauges(observed.metrics, registry, served, delivered);
  served.memory.start();
  scheduled.start();
  serving.ready = true;
  observed.logger.info(
    {
      grpcPort: serving.grpcPort,
      httpPort: serving.http.port,
      upstream: delivered.sink.description,
      flushIntervalMs: config.flushIntervalMs,
      memory: memorySettings(config),
    },
    'telemetry-sidecar serving',
  );
  let stopping: Promise<ShutdownReport> | undefined;
  return {
    grpcPort: serving.grpcPort,
    httpPort: serving.http.port,
    registry,
    metrics: observed.metrics,
    memory: served.memory,
    logger: observed.logger,
    shutdown: () => (stopping ??= shutdown(config, { observed, delivered, scheduled, served, serving })),
  };
}

interface Observed {
  logger: Logger;
  metrics: SidecarMetrics;
  now: () => number;
}

/** Logs, metrics and the clock every later stage reports through. */
function observe(config: Readonly<Config>, options: SidecarOptions): Observed {
  // stdout carries the stats themselves with the stdout: upstream, so logs go to stderr then
  const logger =
    options.logger ??
    createLogger(config.logLevel, config.upstream.kind === 'stdout' ? logOutput(2) : undefined);
  // grpc-js prints its own errors (e.g. "No address added" for a port in use) to stderr: keep every line structured
  setGrpcLogger({
    error: (...args: unknown[]) => logger.warn({ source: 'grpc-js' }, format(...args)),
    info: (...args: unknown[]) => logger.debug({ source: 'grpc-js' }, format(...args)),
    debug: (...args: unknown[]) => logger.trace({ source: 'grpc-js' }, format(...args)),
  });
  return { logger, metrics: new SidecarMetrics(), now: options.now ?? Date.now };
}

/** The pure domain: workers, guards and their limits. */
function core(config: Readonly<Config>): WorkerRegistry {
  return new WorkerRegistry({
    closeWaitMs: config.closeWaitMs,
    maxWorkers: config.maxWorkers,
    maxTracksPerWorker: config.maxTracksPerWorker,
    maxGuardsPerWorker: config.maxGuardsPerWorker,
  });
}

interface Delivered {
  sink: Sink;
  delivery: Delivery;
}

/** The sink, the bounded queue in front of it and the spool; batches spooled by an earlier run are replayed. */
async function delivery(
  config: Readonly<Config>,
  options: SidecarOptions,
  { metrics, logger }: Observed,
): Promise<Delivered> {
  const callTimeoutMs = options.delivery?.callTimeoutMs;
  const sink =
    options.sink ?? createSink(config, { logger, metrics, ...(callTimeoutMs !== undefined && { callTimeoutMs }) });
  const ids = new BatchIds();
  const spooled = config.spoolDir ? await openSpool(config, sink.format, ids) : undefined;
  const deliveryOptions: DeliveryOptions = {
    batchMaxStats: config.batchMaxStats,
    queueMaxBytes: config.queueMaxBytes,
    backoff: new Backoff(options.delivery?.retryInitialMs, options.delivery?.retryMaxMs),
    ids,
  };
  if (options.delivery?.quarantineStrikes) deliveryOptions.quarantineStrikes = options.delivery.quarantineStrikes;
  if (spooled) deliveryOptions.spool = spooled.spool;
  const delivery = new Delivery(sink, deliveryOptions, metrics, logger);
  if (spooled) delivery.restore(spooled);
  // not awaited: start-up does not wait for the disk; a failure shows again, and is retried, at the first send
  sink.prepare?.().catch((err: unknown) => logger.warn({ err }, 'preparing the sink before the first flush failed'));
  return { sink, delivery };
}

/** An unusable spool directory stops startup naming the setting (exit 2): its SIGKILL promise would be void. */
async function openSpool(config: Readonly<Config>, format: string, ids: BatchIds): Promise<SpoolOpenResult> {
  try {
    return await Spool.open(config.spoolDir!, {
      format,
      newId: () => ids.next(),
      quarantineMaxBytes: config.quarantineMaxBytes,
      maxBytes: config.queueMaxBytes,
    });
  } catch (err) {
    if (err instanceof SpoolDirError) throw new SettingError(settingName(config, 'spoolDir'), err.message);
    throw err;
  }
}

/** Flush timing: every worker every flush interval, stamped and handed to delivery. */
function schedule(
  config: Readonly<Config>,
  { metrics, logger, now }: Observed,
  registry: WorkerRegistry,
  { delivery }: Delivered,
  hooks: { workerReaped: (worker: StatsWorker) => void },
): FlushScheduler {
  return new FlushScheduler(
    registry,
    new StatStamper(config.nodeId, config.analyticsKey, randomBase62(12)),
    delivery,
    {
      observeFlush: (seconds, emitted, reaped) => metrics.observeFlush(seconds, emitted, reaped),
      workerReaped: hooks.workerReaped,
    },
    logger,
    { intervalMs: config.flushIntervalMs, now },
  );
}

interface Served {
  service: SidecarService;
  memory: MemoryGuard;
  grpc: GrpcServer;
}

/** The RPC layer: the service driving the core, its memory guard, and the gRPC adapter. */
function service(
  config: Readonly<Config>,
  options: SidecarOptions,
  { metrics, logger, now }: Observed,
  registry: WorkerRegistry,
  scheduler: FlushScheduler,
  { delivery }: Delivered,
): Served {
  // sheds the delivery queue first, then a share of new stats (docs/memory.md)
  const memory = new MemoryGuard({
    limitBytes: config.memoryLimitBytes,
    logger,
    shedQueue: (bytes) => delivery.shedOldest(bytes),
    dropReusable: () => {
      registry.dropSpares();
      delivery.dropSpareSlabs();
    },
    ...(options.memoryReading ? { read: options.memoryReading } : { collect: v8Collector() }),
  });
  const service = new SidecarService({
    registry,
    flush: () => scheduler.flush(),
    memory,
    metrics,
    logger,
    invalidStatLog: new LogRateLimiter(INVALID_STAT_LOG_MAX, INVALID_STAT_LOG_INTERVAL_MS, now),
    workerFields: workerLogFields,
    leaseGraceMs: config.leaseGraceMs,
    flushWaitMs: config.flushWaitTimeoutMs,
    now,
  });
  const grpc = new GrpcServer(service, logger, { address: config.grpcAddr, tokenFile: config.grpcTokenFile });
  return { service, memory, grpc };
}

interface Serving {
  grpcPort: number;
  http: HttpServer;
  /** /readyz: gRPC bound and not shutting down. */
  ready: boolean;
}

/** Binds gRPC, then HTTP; a port that cannot be bound is a setting to change (exit code 2). */
async function serve(config: Readonly<Config>, { metrics, logger }: Observed, { grpc }: Served): Promise<Serving> {
  const metricsToken = config.metricsTokenFile
    ? new TokenFile(config.metricsTokenFile, settingName(config, 'metricsTokenFile'))
    : undefined;
  const grpcPort = await grpc.start().catch((err: unknown) => {
    throw listenError(settingName(config, 'grpcAddr'), config.grpcAddr, err);
  });
  const state = { ready: false };
  try {
    const http = await startHttpServer({
      host: config.httpAddr.host,
      port: config.httpAddr.port,
      metrics,
      ...(metricsToken && { metricsToken }),
      isReady: () => state.ready,
      logger,
    });
    return Object.assign(state, { grpcPort, http });
  } catch (err) {
    await grpc.shutdown();
    throw listenError(settingName(config, 'httpAddr'), config.httpAddr, err);
  }
}

/** `SIDECAR_HTTP_ADDR: cannot listen on 0.0.0.0:9464: address already in use (EADDRINUSE)`. */
function listenError(setting: string, address: Address, err: unknown): SettingError {
  const message = (err as Error).message;
  // grpc-js wraps the socket error in its own message; both carry "listen <CODE>: <reason> <address>"
  const cause = /listen (E[A-Z]+): ([a-z ]+[a-z])/.exec(message);
  const why = cause ? `${cause[2]} (${cause[1]})` : message;
  return new SettingError(setting, `cannot listen on ${formatAddress(address)}: ${why}`);
}

/** The state gauges read the registry, the sessions and the queue at scrape time. */
function bindGauges(
  metrics: SidecarMetrics,
  registry: WorkerRegistry,
  { grpc, memory }: Served,
  { delivery }: Delivered,
): void {
  metrics.bindWorkers(() => registry.counts());
  metrics.bindSessions(() => grpc.sessionCount);
  metrics.bindQueue(() => delivery.queuedStats);
  metrics.bindMemory(() => memory.status());
}

/**
 * Stop taking work (readiness, NOT_SERVING, Session streams ended), flush
 * every worker, deliver within SIDECAR_SHUTDOWN_TIMEOUT, then spool or count
 * what is left, close the sink and the HTTP port.
 */
async function shutdown(
  config: Readonly<Config>,
  parts: { observed: Observed; delivered: Delivered; scheduled: FlushScheduler; served: Served; serving: Serving },
): Promise<ShutdownReport> {
  const { observed, delivered, scheduled, served, serving } = parts;
  const { logger } = observed;
  const deadline = Date.now() + config.shutdownTimeoutMs;
  serving.ready = false;
  served.service.stopServing();
  await served.grpc.shutdown();
  scheduled.stop();
  served.memory.stop();
  const final = await scheduled.flush();
  // counts and logs what stays spooled and what is lost (reason="shutdown")
  const drained = await delivered.delivery.drain(Math.max(0, deadline - Date.now()));
  await delivered.sink.close().catch((err: unknown) => logger.warn({ err }, 'closing the sink failed'));
  await serving.http.close();
  logger.info(
    {
      statsEmitted: final.statsEmitted,
      delivered: drained.drained,
      statsSpooled: drained.spooledStats,
      statsLost: drained.lostStats,
    },
    'telemetry-sidecar stopped',
  );
  return {
    statsEmitted: final.statsEmitted,
    delivered: drained.drained,
    undeliveredStats: drained.remainingStats,
    spooled: !drained.drained && drained.spooled,
  };
}
