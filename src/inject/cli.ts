/**
 * `telemetry-sidecar inject-webhook`: wires config, logger, metrics and the
 * HTTPS server, and runs until SIGTERM/SIGINT.
 */
import { createLogger } from '../observe/json-logger.js';
import { checkWebhookFiles, ConfigError, loadWebhookConfig, optionName, USAGE, type WebhookConfig } from './config.js';
import { InjectMetrics } from './metrics.js';
import { startWebhookServer } from './server.js';

/**
 * Resolves once the server has stopped after SIGTERM/SIGINT (or at once after
 * --help). A bad flag, env var or defaults file prints one line to stderr and
 * sets exit code 2 instead of throwing.
 */
export async function runInjectWebhook(argv: string[], env: NodeJS.ProcessEnv): Promise<void> {
  let loaded;
  try {
    loaded = await loadWebhookConfig(argv, env);
    if (!loaded.help) checkWebhookFiles(loaded.config);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`telemetry-sidecar inject-webhook: ${err.message}\n`);
    process.exitCode = 2;
    return;
  }
  if (loaded.help) {
    process.stdout.write(USAGE);
    return;
  }
  const config = loaded.config;
  const logger = createLogger(config.logLevel, undefined, 'inject-webhook');
  // Handlers before the "listening" line: until a listener exists, SIGTERM's default action kills the
  // process at once, and whoever waits for that line may send it immediately.
  let onSignal: (signal: NodeJS.Signals) => void = () => undefined;
  const signalled = new Promise<NodeJS.Signals>((resolve) => (onSignal = resolve));
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  const server = await startWebhookServer({
    host: config.listenHost,
    port: config.listenPort,
    tlsCertFile: config.tlsCertFile,
    tlsKeyFile: config.tlsKeyFile,
    certReloadIntervalMs: config.certReloadIntervalMs,
    deps: { defaults: config.defaults, logger, metrics: new InjectMetrics() },
  }).catch(listenFailed(config));
  if (server === undefined) {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    return;
  }
  logger.info(
    { port: server.port, image: config.defaults.image, mode: config.defaults.mode },
    'injection webhook listening',
  );
  const signal = await signalled;
  logger.info({ signal }, 'shutting down injection webhook');
  await server.close();
}

/** A port in use or not allowed is a setting to change: one line naming it, exit code 2. */
function listenFailed(config: WebhookConfig): (err: unknown) => undefined {
  return (err) => {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EADDRINUSE' && code !== 'EACCES' && code !== 'EADDRNOTAVAIL') throw err;
    const setting = optionName(config, 'listenAddr');
    process.stderr.write(`telemetry-sidecar inject-webhook: ${setting}: cannot listen: ${(err as Error).message}\n`);
    process.exitCode = 2;
    return undefined;
  };
}
