/**
 * The `tail` program's composition: its own flags (cli/tail.ts), the
 * sidecar's settings for the stream and credentials (config.ts), and the
 * stream reader (upstream/jetstream-reader.ts). main.ts runs it.
 */
import { natsConnection } from './app.js';
import { loadConfig, settingName } from './config.js';
import { parseTailArgs } from './cli/tail.js';
import { SettingError } from './settings/index.js';
import { readStream } from './upstream/jetstream-reader.js';

/** Runs until --count stats were printed (or forever); throws SettingError for a bad flag or setting. */
export async function runTail(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  out: NodeJS.WritableStream = process.stdout,
): Promise<void> {
  const { options, rest } = parseTailArgs(argv);
  const config = loadConfig({ env, argv: rest, memoryLimitBytes: () => undefined });
  const upstream = config.upstream;
  if (upstream.kind !== 'nats') {
    throw new SettingError(settingName(config, 'upstream'), 'tail reads a nats://host:port/SUBJECT or tls:// upstream');
  }
  await readStream(
    natsConnection(config, upstream, `telemetry-sidecar tail ${config.nodeId}`),
    upstream.subject,
    options,
    out,
  );
}
