/**
 * Reads back what the JetStream sink published (an ordered, ephemeral
 * consumer) and writes each stat as one protobuf-JSON line, the NDJSON sink's
 * format, whichever payload the sink was set to send. `telemetry-sidecar tail` runs it.
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
import { CONTENT_TYPES, HEADER_CONTENT_TYPE } from './jetstream-sink.js';
import { connectionOptions, type NatsConnectionSettings } from './nats-connection.js';

export type ReadFrom =
  { kind: 'new' } | { kind: 'first' } | { kind: 'sequence'; sequence: number } | { kind: 'time'; iso: string };

export interface ReadOptions {
  from: ReadFrom;
  /** Stop after this many stats; undefined: run until the process ends. */
  count?: number;
  /** Default: the stream capturing `subject`. */
  stream?: string;
}

function deliverPolicy(from: ReadFrom): Partial<OrderedConsumerOptions> {
  switch (from.kind) {
    case 'new':
      return { deliver_policy: DeliverPolicy.New };
    case 'first':
      return { deliver_policy: DeliverPolicy.All };
    case 'sequence':
      return { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: from.sequence };
    case 'time':
      return { deliver_policy: DeliverPolicy.StartTime, opt_start_time: from.iso };
  }
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

/** Prints the stream's stats on `subject` to `out` as NDJSON, until `count` (or forever). */
export async function readStream(
  connection: NatsConnectionSettings,
  subject: string,
  options: ReadOptions,
  out: NodeJS.WritableStream,
): Promise<void> {
  const nc = await connect({ ...connectionOptions(connection), maxReconnectAttempts: 10 });
  try {
    const stream = options.stream ?? (await (await jetstreamManager(nc)).streams.find(subject));
    // one subject as a string: sent as filter_subject, which servers before 2.10 understand
    const consumer = await jetstream(nc).consumers.get(stream, {
      filter_subjects: subject,
      ...deliverPolicy(options.from),
    });
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
