/** Stats, sinks and stream readers shared by the JetStream tests. */
import { Writable } from 'node:stream';
import type { JetStreamManager, StoredMsg } from '@nats-io/jetstream';
import { AnalyticsStats } from '@livekit/protocol';
import pino, { type Logger } from 'pino';
import { StreamType, type AnalyticsStat } from '../../src/core/analytics.js';
import { TrackAggregate } from '../../src/core/coalesce.js';
import { JetStreamSink, type JetStreamSinkOptions } from '../../src/upstream/jetstream-sink.js';
import { natsAuth } from '../../src/upstream/nats-connection.js';

/** Stamped stats as a flush emits them, with ids `AS_<tag><i>` (unique per test). */
export function stats(n: number, tag: string): AnalyticsStat[] {
  return Array.from({ length: n }, (_, i) => ({
    ...new TrackAggregate().result(),
    id: `AS_${tag}${i}`,
    node: 'test-node',
    roomId: 'RM_1',
    roomName: 'room',
    participantId: `PA_${i}`,
    trackId: `TR_${i}`,
    kind: i % 2 === 0 ? StreamType.UPSTREAM : StreamType.DOWNSTREAM,
    timeStamp: { seconds: 1_700_000_000 + i, nanos: 0 },
  }));
}

export interface CapturedLog {
  logger: Logger;
  lines: Record<string, unknown>[];
  messages(): string[];
}

export function captureLog(): CapturedLog {
  const lines: Record<string, unknown>[] = [];
  const out = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n'))
        if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, out), lines, messages: () => lines.map((l) => String(l.msg)) };
}

export interface SinkRecorder {
  connected: boolean[];
  duplicates: number;
}

export function jetStreamSink(
  servers: string[],
  subject: string,
  options: Partial<JetStreamSinkOptions> & { auth?: Parameters<typeof natsAuth>[0] } = {},
): { sink: JetStreamSink; recorder: SinkRecorder; log: CapturedLog } {
  const recorder: SinkRecorder = { connected: [], duplicates: 0 };
  const log = captureLog();
  const { auth, ...rest } = options;
  const sink = new JetStreamSink({
    connection: { servers, tls: false, auth: natsAuth(auth ?? {}), name: 'test' },
    subject,
    nodeId: 'test-node',
    payload: 'protobuf',
    publishTimeoutMs: 2_000,
    logger: log.logger,
    metrics: {
      natsConnected: (up) => void recorder.connected.push(up),
      natsDuplicates: (n) => void (recorder.duplicates += n),
    },
    ...rest,
  });
  return { sink, recorder, log };
}

/** Every message of the stream, in sequence order. */
export async function readStream(jsm: JetStreamManager, stream: string): Promise<StoredMsg[]> {
  const info = await jsm.streams.info(stream);
  const out: StoredMsg[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const m = await jsm.streams.getMessage(stream, { seq });
    if (!m) throw new Error(`${stream}: sequence ${seq} of ${info.state.first_seq}-${info.state.last_seq} not found`);
    out.push(m);
  }
  return out;
}

/** The AS_ ids carried by protobuf messages, in order. */
export function statIds(messages: readonly StoredMsg[]): string[] {
  return messages.flatMap((m) => AnalyticsStats.fromBinary(m.data).stats.map((s) => s.id));
}
