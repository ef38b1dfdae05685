#!/usr/bin/env node
/**
 * Entry point: `telemetry-sidecar [serve] [flags]` runs the sidecar;
 * `simulate` runs the example SFU client against one; `loadgen` measures it. Bad configuration
 * stops startup with one line naming the setting, exit code 2.
 */
import { startSidecar, type Sidecar } from './app.js';
import { DEV_UPSTREAM_HELP, runDevUpstream } from './cli/dev-upstream.js';
import { LOADGEN_HELP, runLoadgen } from './cli/loadgen.js';
import { runSimulate, SIMULATE_HELP } from './cli/simulate.js';
import { runTail, TAIL_HELP } from './cli/tail.js';
import { runInjectWebhook } from './inject/cli.js';
import { ConfigError, configHelp, loadConfig } from './config.js';

const HELP = `telemetry-sidecar: coalesces SFU track stats as LiveKit's statsworker does and ships them upstream.

Usage:
  telemetry-sidecar [serve] [flags]     run the sidecar (flags override env vars of the same name)
  telemetry-sidecar simulate [options]  run the example SFU client against a sidecar
  telemetry-sidecar loadgen [options]   simulate a whole SFU's load against a sidecar and report rate and ack latency
  telemetry-sidecar dev-upstream [opts] run a development AnalyticsRecorderService (writes NDJSON)
  telemetry-sidecar tail [options]      print the stats in the NATS JetStream stream as NDJSON
  telemetry-sidecar inject-webhook [..] run the Kubernetes sidecar-injection webhook (see inject-webhook --help)
  telemetry-sidecar --help

Settings (flag, env var, meaning):
${configHelp()}

${SIMULATE_HELP}

${LOADGEN_HELP}

${DEV_UPSTREAM_HELP}

${TAIL_HELP}
`;

/** Exit codes: 0 clean, 1 failure, 2 bad configuration or usage. */
const EXIT_USAGE = 2;

async function serve(argv: string[]): Promise<void> {
  let sidecar: Sidecar;
  try {
    const config = loadConfig({ env: process.env, argv });
    sidecar = await startSidecar(config);
  } catch (err) {
    const usage = err instanceof ConfigError;
    process.stderr.write(`telemetry-sidecar: ${(err as Error).message}\n`);
    process.exit(usage ? EXIT_USAGE : 1);
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

/** A subcommand that runs to completion: its failure is one line on stderr and exit code 1. */
async function client(command: string, run: () => Promise<unknown>): Promise<void> {
  try {
    await run();
  } catch (err) {
    process.stderr.write(`telemetry-sidecar ${command}: ${(err as Error).message}\n`);
    process.exit(1);
  }
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(HELP);
    return;
  }
  const subHelp: Record<string, string> = {
    simulate: SIMULATE_HELP,
    loadgen: LOADGEN_HELP,
    'dev-upstream': DEV_UPSTREAM_HELP,
    tail: TAIL_HELP,
  };
  if (command !== undefined && subHelp[command] && (rest.includes('--help') || rest.includes('-h'))) {
    process.stdout.write(`${subHelp[command]}\n`);
    return;
  }
  if (command === 'simulate') return client(command, () => runSimulate(rest));
  if (command === 'loadgen') return client(command, () => runLoadgen(rest));
  if (command === 'dev-upstream') {
    try {
      const upstream = await runDevUpstream(rest);
      const stop = () => void upstream.close().then(() => process.exit(0));
      process.on('SIGTERM', stop);
      process.on('SIGINT', stop);
    } catch (err) {
      process.stderr.write(`telemetry-sidecar dev-upstream: ${(err as Error).message}\n`);
      process.exit(EXIT_USAGE);
    }
    return;
  }
  if (command === 'inject-webhook') return runInjectWebhook(rest, process.env);
  if (command === 'tail') {
    try {
      await runTail(rest, process.env);
    } catch (err) {
      process.stderr.write(`telemetry-sidecar tail: ${(err as Error).message}\n`);
      process.exit(err instanceof ConfigError ? EXIT_USAGE : 1);
    }
    return;
  }
  if (command === 'serve') return serve(rest);
  if (command === undefined || command.startsWith('-')) return serve(argv);
  process.stderr.write(`telemetry-sidecar: unknown command "${command}" (see --help)\n`);
  process.exit(EXIT_USAGE);
}

void main(process.argv.slice(2));
