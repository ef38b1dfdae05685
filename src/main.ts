#!/usr/bin/env node
/**
 * Entry point: `telemetry-sidecar [serve] [flags]` runs the sidecar;
 * `simulate` runs the example SFU client against one; `loadgen` measures it. Bad configuration
 * — a value, a file a setting names, a port that cannot be bound — stops startup with one
 * line naming the setting, exit code 2 (docs/configuration.md).
 */
import type { Sidecar } from './app.js';
import { checkConfigFiles, configHelp, loadConfig } from './config.js';
import { SettingError } from './settings/errors.js';

// The commands load lazily: a bad setting is reported before grpc-js, protobufs and pino's
// transports are loaded, in a fifth of the time.
const simulate = () => import('./cli/simulate.js');
const loadgen = () => import('./cli/loadgen.js');
const devUpstream = () => import('./cli/dev-upstream.js');

async function help(): Promise<string> {
  const [{ SIMULATE_HELP }, { LOADGEN_HELP }, { DEV_UPSTREAM_HELP }] = await Promise.all([
    simulate(),
    loadgen(),
    devUpstream(),
  ]);
  return `telemetry-sidecar: coalesces SFU track stats as LiveKit's statsworker does and ships them upstream.

Usage:
  telemetry-sidecar [serve] [flags]     run the sidecar (flags override env vars of the same name)
  telemetry-sidecar simulate [options]  run the example SFU client against a sidecar
  telemetry-sidecar loadgen [options]   simulate a whole SFU's load against a sidecar and report rate and ack latency
  telemetry-sidecar dev-upstream [opts] run a development AnalyticsRecorderService (writes NDJSON)
  telemetry-sidecar inject-webhook [..] run the Kubernetes sidecar-injection webhook (see inject-webhook --help)
  telemetry-sidecar --help

Settings (flag, env var, meaning). Durations: 500ms, 30s, 3m, 1h; sizes: bytes, 64Mi, 1Gi;
an empty value means unset. See docs/configuration.md.
${configHelp()}

${SIMULATE_HELP}

${LOADGEN_HELP}

${DEV_UPSTREAM_HELP}
`;
}

/** Exit codes: 0 clean, 1 failure, 2 bad configuration or usage (a SettingError). */
const EXIT_USAGE = 2;

const exitCodeOf = (err: unknown) => (err instanceof SettingError ? EXIT_USAGE : 1);

async function serve(argv: string[]): Promise<void> {
  let sidecar: Sidecar;
  try {
    const config = loadConfig({ env: process.env, argv });
    checkConfigFiles(config);
    const { startSidecar } = await import('./app.js');
    sidecar = await startSidecar(config);
  } catch (err) {
    process.stderr.write(`telemetry-sidecar: ${(err as Error).message}\n`);
    process.exit(exitCodeOf(err));
  }
  let signalled = false;
  const stop = (signal: NodeJS.Signals) => {
    if (signalled) {
      sidecar.logger.warn({ signal }, 'second signal: exiting without waiting for delivery');
      process.exit(1);
    }
    signalled = true;
    sidecar.logger.info({ signal }, 'shutting down');
    sidecar.shutdown().then(
      () => process.exit(0),
      (err: unknown) => {
        sidecar.logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
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
  if (command === 'serve') return serve(rest);
  if (command === undefined || command.startsWith('-')) return serve(argv);
  process.stderr.write(`telemetry-sidecar: unknown command "${command}" (see --help)\n`);
  process.exit(EXIT_USAGE);
}

void main(process.argv.slice(2));
