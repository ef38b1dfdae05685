#!/usr/bin/env node
/**
 * Entry point: `telemetry-sidecar [serve] [flags]` runs the sidecar;
 * `simulate` runs the example SFU client against one; `loadgen` measures it. Bad configuration
 * — a value, a file a setting names, a port that cannot be bound — stops startup with one
 * line naming the setting, exit code 2 (docs/configuration.md).
 */
import type { Sidecar } from './app.js';
import { checkConfigFiles, configHelp, loadConfig, loadStartupSettings } from './config.js';
import { START_DEADLINE_MS, StartGate } from './observe/start-gate.js';
import { SettingError } from './settings/errors.js';

// The commands load lazily: a bad setting is reported before grpc-js, protobufs and pino's
// transports are loaded, in a fifth of the time.
const simulate = () => import('./cli/simulate.js');
const loadgen = () => import('./cli/loadgen.js');
const devUpstream = () => import('./cli/dev-upstream.js');
const tailFlags = () => import('./cli/tail.js');

async function help(): Promise<string> {
  const [{ SIMULATE_HELP }, { LOADGEN_HELP }, { DEV_UPSTREAM_HELP }, { TAIL_HELP }] = await Promise.all([
    simulate(),
    loadgen(),
    devUpstream(),
    tailFlags(),
  ]);
  return `telemetry-sidecar: coalesces SFU track stats as LiveKit's statsworker does and ships them upstream.

Usage:
  telemetry-sidecar [serve] [flags]     run the sidecar (flags override env vars of the same name)
  telemetry-sidecar simulate [options]  run the example SFU client against a sidecar
  telemetry-sidecar loadgen [options]   simulate a whole SFU's load against a sidecar and report rate and ack latency
  telemetry-sidecar dev-upstream [opts] run a development AnalyticsRecorderService (writes NDJSON)
  telemetry-sidecar tail [options]      print the stats in the NATS JetStream stream as NDJSON
  telemetry-sidecar inject-webhook [..] run the Kubernetes sidecar-injection webhook (see inject-webhook --help)
  telemetry-sidecar --help

Settings (flag, env var, meaning). Durations: 500ms, 30s, 3m, 1h; sizes: bytes, 64Mi, 1Gi;
an empty value means unset. See docs/configuration.md.
${configHelp()}

${SIMULATE_HELP}

${LOADGEN_HELP}

${DEV_UPSTREAM_HELP}

${TAIL_HELP}
`;
}

/** Exit codes: 0 clean, 1 failure, 2 bad configuration or usage (a SettingError). */
const EXIT_USAGE = 2;

const exitCodeOf = (err: unknown) => (err instanceof SettingError ? EXIT_USAGE : 1);

async function serve(argv: string[]): Promise<void> {
  const startup = loadStartupSettings({ env: process.env, argv });
  const gate = new StartGate(startup.startedFile);
  // The handlers come first: whoever waits for the "serving" line or the start gate may stop us at
  // once, and a SIGTERM with no handler would kill the process without a shutdown. A signal that
  // arrives while starting is acted on as soon as the sidecar has started.
  let sidecar: Sidecar | undefined;
  let signalled: NodeJS.Signals | undefined;
  const stop = (signal: NodeJS.Signals) => {
    if (signalled) {
      sidecar?.logger.warn({ signal }, 'second signal: exiting without waiting for delivery');
      process.exit(1);
    }
    signalled = signal;
    if (sidecar) shutDown(sidecar, signal);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  try {
    await gate.reset();
    gate.armDeadline(
      START_DEADLINE_MS,
      () =>
        void import('./observe/json-logger.js').then(({ createLogger }) =>
          createLogger('warn').warn(
            { deadlineMs: START_DEADLINE_MS },
            'not serving yet: opening the start gate so the pod can start without waiting',
          ),
        ),
    );
    const config = loadConfig({ env: process.env, argv });
    checkConfigFiles(config);
    const { startSidecar } = await import('./app.js');
    sidecar = await startSidecar(config);
  } catch (err) {
    const code = exitCodeOf(err);
    process.stderr.write(`telemetry-sidecar: ${(err as Error).message}\n`);
    process.off('SIGTERM', stop);
    process.off('SIGINT', stop);
    if (startup.startFailure === 'idle' && !signalled) return idle(code, gate, startup.httpAddr);
    process.exit(code);
  }
  if (signalled) return shutDown(sidecar, signalled);
  if (startup.startedFile) {
    const started = sidecar;
    await gate.open('serving').then(
      () => started.logger.info({ file: startup.startedFile }, 'start gate opened'),
      (err: unknown) => started.logger.error({ err }, 'cannot write the start gate file; the startup probe will fail'),
    );
  }
}

/** The first SIGTERM/SIGINT: the documented shutdown, then exit 0 (1 if it failed). */
function shutDown(sidecar: Sidecar, signal: NodeJS.Signals): void {
  sidecar.logger.info({ signal }, 'shutting down');
  sidecar.shutdown().then(
    () => process.exit(0),
    (err: unknown) => {
      sidecar.logger.error({ err }, 'shutdown failed');
      process.exit(1);
    },
  );
}

/**
 * SIDECAR_START_FAILURE=idle: after a startup failure, stay up doing nothing rather
 * than exit, because the kubelet restarts an exited native sidecar and holds the SFU
 * back while it does. /healthz keeps answering (if the HTTP address can be bound) so
 * the liveness probe does not restart us either; /readyz says 503. Exits with the
 * failure's code on SIGTERM/SIGINT.
 */
async function idle(
  code: number,
  gate: StartGate,
  httpAddr: { host: string; port: number } | undefined,
): Promise<void> {
  const [{ createLogger }, { startHttpServer }] = await Promise.all([
    import('./observe/json-logger.js'),
    import('./observe/http.js'),
  ]);
  const logger = createLogger('info');
  const http = httpAddr
    ? await startHttpServer({ host: httpAddr.host, port: httpAddr.port, isReady: () => false }).catch(() => undefined)
    : undefined;
  const keepAlive = setInterval(() => undefined, 2 ** 30);
  const stop = () => {
    clearInterval(keepAlive);
    void (http?.close() ?? Promise.resolve()).finally(() => process.exit(code));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  await gate.open('start_failed').catch((err: unknown) => logger.error({ err }, 'cannot write the start gate file'));
  logger.error(
    { exitCode: code, httpPort: http?.port ?? null },
    'not started: idling until terminated (SIDECAR_START_FAILURE=idle)',
  );
}

/** A subcommand that runs to completion: its failure is one line on stderr, exit code 2 for a bad option, else 1. */
async function client(command: string, run: () => Promise<unknown>): Promise<void> {
  try {
    await run();
  } catch (err) {
    process.stderr.write(`telemetry-sidecar ${command}: ${(err as Error).message}\n`);
    process.exit(exitCodeOf(err));
  }
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(await help());
    return;
  }
  const subHelp: Record<string, () => Promise<string>> = {
    simulate: async () => (await simulate()).SIMULATE_HELP,
    loadgen: async () => (await loadgen()).LOADGEN_HELP,
    'dev-upstream': async () => (await devUpstream()).DEV_UPSTREAM_HELP,
    tail: async () => (await tailFlags()).TAIL_HELP,
  };
  const commandHelp = command === undefined ? undefined : subHelp[command];
  if (commandHelp && (rest.includes('--help') || rest.includes('-h'))) {
    process.stdout.write(`${await commandHelp()}\n`);
    return;
  }
  if (command === 'simulate') return client(command, async () => (await simulate()).runSimulate(rest));
  if (command === 'loadgen') return client(command, async () => (await loadgen()).runLoadgen(rest));
  if (command === 'dev-upstream') {
    try {
      const upstream = await (await devUpstream()).runDevUpstream(rest);
      const stop = () => void upstream.close().then(() => process.exit(0));
      process.on('SIGTERM', stop);
      process.on('SIGINT', stop);
    } catch (err) {
      process.stderr.write(`telemetry-sidecar dev-upstream: ${(err as Error).message}\n`);
      process.exit(EXIT_USAGE);
    }
    return;
  }
  if (command === 'inject-webhook') return (await import('./inject/cli.js')).runInjectWebhook(rest, process.env);
  if (command === 'tail') return client(command, async () => (await import('./tail.js')).runTail(rest, process.env));
  if (command === 'serve') return serve(rest);
  if (command === undefined || command.startsWith('-')) return serve(argv);
  process.stderr.write(`telemetry-sidecar: unknown command "${command}" (see --help)\n`);
  process.exit(EXIT_USAGE);
}

void main(process.argv.slice(2));
