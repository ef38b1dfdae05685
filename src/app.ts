/**
 * The composition root: builds the sidecar from its config, starts it, and
 * shuts it down in the order SPEC §6 gives. main.ts and the integration tests
 * both start the product through here.
 */
import type { Logger } from 'pino';
import type { Config, Upstream } from './config.js';
import { WorkerRegistry } from './core/registry.js';
import { startHttpServer, type HttpServer } from './observe/http.js';
import { createLogger, LogRateLimiter, workerLogFields } from './observe/log.js';
import { SidecarMetrics } from './observe/metrics.js';
import { FlushScheduler } from './schedule/scheduler.js';
import { StatStamper } from './schedule/stamp.js';
import { MemoryGuard } from './service/memory-guard.js';
import { GrpcServer } from './service/server.js';
import { SidecarService } from './service/sidecar.js';
import { Backoff } from './upstream/backoff.js';
import { Delivery, type DeliveryOptions } from './upstream/delivery.js';
import { GrpcSink, type GrpcSinkOptions } from './upstream/grpc-sink.js';
import { NdjsonFileSink, StdoutSink } from './upstream/ndjson-sink.js';
import type { Sink } from './upstream/sink.js';
import { Spool } from './upstream/spool.js';

/** Invalid-stat warnings: at most this many per interval, the rest counted. */
const INVALID_STAT_LOG_MAX = 10;
const INVALID_STAT_LOG_INTERVAL_MS = 60_000;

export interface SidecarOptions {
  logger?: Logger;
  /** Replaces the sink the config names (e.g. a test's). */
  sink?: Sink;
  now?: () => number;
  /** Retry and call timing of delivery; production defaults: backoff 1 s to 30 s, 30 s per call. */
  delivery?: { retryInitialMs?: number; retryMaxMs?: number; callTimeoutMs?: number };
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
  readonly logger: Logger;
  shutdown(): Promise<ShutdownReport>;
}

export function createSink(config: Readonly<Config>, callTimeoutMs?: number): Sink {
  const upstream: Upstream = config.upstream;
  switch (upstream.kind) {
    case 'file':
      return new NdjsonFileSink(upstream.path);
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
  }
}

export async function startSidecar(config: Readonly<Config>, options: SidecarOptions = {}): Promise<Sidecar> {
  // stdout carries the stats themselves with the stdout: upstream, so logs go to stderr then
  const logger =
    options.logger ?? createLogger(config.logLevel, config.upstream.kind === 'stdout' ? process.stderr : undefined);
  const now = options.now ?? Date.now;
  const metrics = new SidecarMetrics();
  const registry = new WorkerRegistry({
    closeWaitMs: config.closeWaitMs,
    maxWorkers: config.maxWorkers,
    maxTracksPerWorker: config.maxTracksPerWorker,
  });
  const sink = options.sink ?? createSink(config, options.delivery?.callTimeoutMs);
  const spooled = config.spoolDir ? await Spool.open(config.spoolDir, sink.format) : undefined;
  const deliveryOptions: DeliveryOptions = {
    batchMaxStats: config.batchMaxStats,
    queueMaxBytes: config.queueMaxBytes,
    backoff: new Backoff(options.delivery?.retryInitialMs, options.delivery?.retryMaxMs),
  };
  if (spooled) deliveryOptions.spool = spooled.spool;
  const delivery = new Delivery(sink, deliveryOptions, metrics, logger);
  if (spooled) {
    const { restored, skipped } = spooled;
    if (skipped.records > 0) {
      logger.warn(
        { records: skipped.records, stats: skipped.stats, dir: config.spoolDir },
        'spool: skipped torn or corrupt records',
      );
      metrics.statsDropped('spool_corrupt', skipped.stats);
    }
    if (restored.length > 0) {
      const stats = restored.reduce((n, b) => n + b.count, 0);
      logger.info(
        { batches: restored.length, stats, dir: config.spoolDir },
        'spool: replaying batches from an earlier run',
      );
      delivery.restore(restored);
    }
  }
  const memory = new MemoryGuard(config.memoryLimitBytes);
  const service = new SidecarService({
    registry,
    flush: () => scheduler.flush(),
    memory,
    metrics,
    logger,
    invalidStatLog: new LogRateLimiter(INVALID_STAT_LOG_MAX, INVALID_STAT_LOG_INTERVAL_MS),
    workerFields: workerLogFields,
    leaseGraceMs: config.leaseGraceMs,
    flushWaitMs: config.flushWaitTimeoutMs,
    now,
  });
  const scheduler = new FlushScheduler(
    registry,
    new StatStamper(config.nodeId, config.analyticsKey),
    delivery,
    {
      observeFlush: (seconds, emitted, reaped) => metrics.observeFlush(seconds, emitted, reaped),
      workerReaped: (worker) => service.workerReaped(worker),
    },
    logger,
    { intervalMs: config.flushIntervalMs, now },
  );
  const grpc = new GrpcServer(service, logger, { address: config.grpcAddr, tokenFile: config.grpcTokenFile });

  let ready = false;
  let http: HttpServer | undefined;
  let grpcPort: number;
  try {
    grpcPort = await grpc.start();
    http = await startHttpServer({
      host: config.httpAddr.host,
      port: config.httpAddr.port,
      metrics,
      isReady: () => ready,
      logger,
    });
  } catch (err) {
    await grpc.shutdown();
    throw err;
  }
  metrics.bindWorkers(() => registry.counts());
  metrics.bindSessions(() => grpc.sessionCount);
  metrics.bindQueue(() => delivery.queuedStats);
  memory.start();
  scheduler.start();
  ready = true;
  logger.info(
    { grpcPort, httpPort: http.port, upstream: sink.description, flushIntervalMs: config.flushIntervalMs },
    'telemetry-sidecar serving',
  );

  let stopping: Promise<ShutdownReport> | undefined;
  const shutdown = async (): Promise<ShutdownReport> => {
    const deadline = Date.now() + config.shutdownTimeoutMs;
    ready = false;
    service.stopServing();
    await grpc.shutdown();
    scheduler.stop();
    memory.stop();
    const final = await scheduler.flush();
    const drained = await delivery.drain(Math.max(0, deadline - Date.now()));
    if (!drained.drained && drained.spooled) {
      logger.warn(
        { undeliveredStats: drained.remainingStats, dir: config.spoolDir },
        'shutdown timeout: undelivered stats stay in the spool for the next start',
      );
    } else if (!drained.drained) {
      logger.error(
        { undeliveredStats: drained.remainingStats, sink: sink.description },
        'shutdown timeout: stats not delivered upstream are lost',
      );
      metrics.statsDropped('shutdown', drained.remainingStats);
    }
    await sink.close().catch((err: unknown) => logger.warn({ err }, 'closing the sink failed'));
    await http.close();
    logger.info({ statsEmitted: final.statsEmitted, delivered: drained.drained }, 'telemetry-sidecar stopped');
    return {
      statsEmitted: final.statsEmitted,
      delivered: drained.drained,
      undeliveredStats: drained.remainingStats,
      spooled: !drained.drained && drained.spooled,
    };
  };

  return {
    grpcPort,
    httpPort: http.port,
    registry,
    metrics,
    logger,
    shutdown: () => (stopping ??= shutdown()),
  };
}
