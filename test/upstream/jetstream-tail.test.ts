/** `telemetry-sidecar tail` against a real stream the sink filled: the NDJSON sink's lines, from where asked. */
import { PassThrough } from 'node:stream';
import { nanos } from '@nats-io/transport-node';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTail } from '../../src/tail.js';
import { ConfigError } from '../../src/config.js';
import { Delivery } from '../../src/upstream/delivery.js';
import { toJsonLine } from '../../src/wire/to-livekit.js';
import { jetStreamSink, stats } from '../helpers/jetstream.js';
import { natsAdmin, startNatsServer, type NatsServer } from '../helpers/nats-server.js';
import { runCli } from '../helpers/process.js';
import { recordingDeliveryMetrics } from '../helpers/delivery-metrics.js';

let server: NatsServer;
const emitted = stats(12, 'tail');

beforeAll(async () => {
  server = await startNatsServer();
  const admin = await natsAdmin(server.url);
  await admin.jsm.streams.add({ name: 'TAIL', subjects: ['lk.tail'], duplicate_window: nanos(60_000) });
  await admin.nc.close();
  // first half as protobuf, second half as NDJSON: tail reads both
  for (const [payload, part] of [
    ['protobuf', emitted.slice(0, 6)],
    ['ndjson', emitted.slice(6)],
  ] as const) {
    const { sink } = jetStreamSink([`127.0.0.1:${server.port}`], 'lk.tail', { payload });
    const { metrics } = recordingDeliveryMetrics();
    const delivery = new Delivery(sink, { batchMaxStats: 4, queueMaxBytes: 1e9 }, metrics, pino({ level: 'silent' }));
    delivery.enqueue(part);
    expect(await delivery.seal().delivered).toBe(true);
    await sink.close();
  }
});
afterAll(async () => {
  await server?.destroy();
});

async function tail(args: string[]): Promise<string[]> {
  const out = new PassThrough();
  let text = '';
  out.on('data', (c: Buffer) => (text += c.toString()));
  await runTail(args, { SIDECAR_UPSTREAM: `nats://127.0.0.1:${server.port}/lk.tail` }, out);
  return text.split('\n').filter(Boolean);
}

const ndjson = (list: typeof emitted) => list.map((s) => toJsonLine(s).trimEnd());

describe('tail', () => {
  it('prints every stat in the stream as the NDJSON sink would write it', async () => {
    expect(await tail(['--from', 'first', '--count', '12'])).toEqual(ndjson(emitted));
  });

  it('starts at a stream sequence', async () => {
    // messages: [4 stats, 2 stats] protobuf, then [4, 2] NDJSON; sequence 3 is the first NDJSON message
    expect(await tail(['--from=3', '--count=6', '--stream', 'TAIL'])).toEqual(ndjson(emitted.slice(6)));
  });

  it('refuses a bad --from or a non-NATS upstream with a line naming it', async () => {
    await expect(tail(['--from', 'yesterday'])).rejects.toThrow(ConfigError);
    await expect(runTail([], { SIDECAR_UPSTREAM: 'stdout:' })).rejects.toThrow(/SIDECAR_UPSTREAM: tail reads a nats/);
    const cli = await runCli(['tail', '--from', 'yesterday', '--upstream', `nats://127.0.0.1:${server.port}/lk.tail`]);
    expect(cli.code).toBe(2);
    expect(cli.stderr).toBe(
      'telemetry-sidecar tail: --from: expected new, first, a sequence number or an RFC 3339 time, got "yesterday"\n',
    );
  });
});
