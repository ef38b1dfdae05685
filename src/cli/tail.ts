/**
 * `telemetry-sidecar tail`: reads the JetStream stream the sidecar publishes
 * to (an ordered, ephemeral consumer) and prints each stat as one protobuf-JSON
 * line, the NDJSON sink's format, so an operator can see what the fleet sends.
 * The stream, subject and credentials come from the same settings as `serve`.
 */
import {
  DeliverPolicy,
  jetstream,
  jetstreamManager,
  type JsMsg,
  type OrderedConsumerOptions,
} from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { AnalyticsStats } from '@livekit/protocol';
import { ConfigError, loadConfig } from '../config.js';
import { CONTENT_TYPES, HEADER_CONTENT_TYPE } from '../upstream/jetstream-sink.js';
import { connectionOptions, natsAuth } from '../upstream/nats-connection.js';

export const TAIL_HELP = `telemetry-sidecar tail [options] [settings flags]
  Prints the stats in the JetStream stream as NDJSON (one protobuf-JSON AnalyticsStat per line).
  Reads SIDECAR_UPSTREAM (nats://host:port[,...]/SUBJECT or tls://...) and the NATS credential
  settings, as env vars or flags, like the sidecar itself.
  --from new|first|SEQ|TIME   where to start: new stats only (default), the first kept,
                              a stream sequence, or an RFC 3339 time such as 2026-01-02T15:04:05Z
  --count N                   exit after N stats (default: run until interrupted)
  --stream NAME               the stream to read (default: the one capturing the subject)`;

interface TailOptions {
  from: string;
  count?: number;
  stream?: string;
}

/** Takes tail's own flags out of argv; the rest are settings flags for loadConfig. */
function parseTailArgs(argv: string[]): { options: TailOptions; rest: string[] } {
  const options: TailOptions = { from: 'new' };
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const m = /^--(from|count|stream)(?:=(.*))?$/.exec(arg);
    if (!m) {
      rest.push(arg);
      continue;
    }
    const value = m[2] ?? argv[++i];
    if (value === undefined) throw new ConfigError(`--${m[1]}: needs a value`);
    if (m[1] === 'from') options.from = value;
    else if (m[1] === 'stream') options.stream = value;
    else if (/^\d+$/.test(value) && Number(value) > 0) options.count = Number(value);
    else throw new ConfigError(`--count: expected a positive whole number, got "${value}"`);
  }
  return { options, rest };
}

function startAt(from: string): Partial<OrderedConsumerOptions> {
  if (from === 'new') return { deliver_policy: DeliverPolicy.New };
  if (from === 'first' || from === 'all') return { deliver_policy: DeliverPolicy.All };
  if (/^\d+$/.test(from) && Number(from) > 0) {
    return { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: Number(from) };
  }
  const time = Date.parse(from);
  if (!Number.isNaN(time) && /^\d{4}-\d\d-\d\dT/.test(from)) {
    return { deliver_policy: DeliverPolicy.StartTime, opt_start_time: new Date(time).toISOString() };
  }
  throw new ConfigError(`--from: expected new, first, a sequence number or an RFC 3339 time, got "${from}"`);
}

/** The stats of one message as JSON lines, whichever payload the sidecar was set to send. */
function lines(m: JsMsg): string[] {
  if (m.headers?.get(HEADER_CONTENT_TYPE) === CONTENT_TYPES.ndjson) {
    return Buffer.from(m.data).toString().split('\n').filter(Boolean);
  }
  return AnalyticsStats.fromBinary(m.data).stats.map((s) => s.toJsonString());
}

function write(out: NodeJS.WritableStream, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    if (out.write(text)) resolve();
    else out.once('drain', resolve).once('error', reject);
  });
}

/** Runs until --count stats were printed (or forever); throws ConfigError for bad settings. */
export async function runTail(
  argv: string[],
  env: NodeJS.ProcessEnv,
  out: NodeJS.WritableStream = process.stdout,
): Promise<void> {
  const { options, rest } = parseTailArgs(argv);
  const config = loadConfig({ env, argv: rest, memoryLimitBytes: () => undefined });
  const upstream = config.upstream;
  if (upstream.kind !== 'nats') {
    throw new ConfigError('SIDECAR_UPSTREAM: tail reads a nats://host:port/SUBJECT or tls:// upstream');
  }
  const deliver = startAt(options.from);
  const settings = {
    servers: upstream.servers,
    tls: upstream.tls,
    auth: natsAuth(config),
    name: `telemetry-sidecar tail ${config.nodeId}`,
    ...(config.upstreamCaFile ? { caFile: config.upstreamCaFile } : {}),
    ...(config.upstreamCertFile ? { certFile: config.upstreamCertFile } : {}),
    ...(config.upstreamKeyFile ? { keyFile: config.upstreamKeyFile } : {}),
  };
  const nc = await connect({ ...connectionOptions(settings), maxReconnectAttempts: 10 });
  try {
    const stream = options.stream ?? (await (await jetstreamManager(nc)).streams.find(upstream.subject));
    // one subject as a string: sent as filter_subject, which servers before 2.10 understand
    const consumer = await jetstream(nc).consumers.get(stream, { filter_subjects: upstream.subject, ...deliver });
    const messages = await consumer.consume();
    let printed = 0;
    for await (const m of messages) {
      for (const line of lines(m)) {
        await write(out, `${line}\n`);
        if (++printed === options.count) {
          messages.stop();
          return;
        }
      }
    }
  } finally {
    await nc.close();
  }
}
