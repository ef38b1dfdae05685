/**
 * The JetStream sink against one real nats-server: what a message holds,
 * de-duplication of retries, splitting to fit max_payload, and the permanent
 * failures (no stream, permission denied, a stat over max_payload).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { nanos } from '@nats-io/transport-node';
import { AnalyticsStat as LkStat } from '@livekit/protocol';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SidecarMetrics } from '../../src/observe/metrics.js';
import { Backoff } from '../../src/upstream/backoff.js';
import { Delivery } from '../../src/upstream/delivery.js';
import { GrpcSink } from '../../src/upstream/grpc-sink.js';
import { SinkError, type Batch, type Sink } from '../../src/upstream/sink.js';
import { jetStreamSink, readStream, statIds, stats } from '../helpers/jetstream.js';
import { natsAdmin, startNatsServer, type NatsServer } from '../helpers/nats-server.js';
import { httpGet, Scrape } from '../helpers/scrape.js';
import { StreamType } from '../../src/core/analytics.js';
import { unary } from '../helpers/rpc.js';
import { startTestSidecar } from '../helpers/sidecar.js';
import { sample, stream as statStream } from '../helpers/stats.js';
import { recordingDeliveryMetrics } from '../helpers/delivery-metrics.js';
import { encodeAllWith } from '../helpers/encode.js';

const silent = pino({ level: 'silent' });
const cleanup: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

let server: NatsServer;
let admin: Awaited<ReturnType<typeof natsAdmin>>;
let streamSeq = 0;
let passwordFile: string;

beforeAll(async () => {
  server = await startNatsServer({
    config: [
      'max_payload: 4096',
      'authorization { users: [',
      '  { user: writer, password: pw }',
      // may ask JetStream's API and read replies, but not publish stats
      '  { user: reader, password: pw, permissions: { publish: { allow: ["$JS.API.>"] }, subscribe: { allow: ["_INBOX.>"] } } }',
      '] }',
    ].join('\n'),
  });
  admin = await natsAdmin(server.url, { user: 'writer', pass: 'pw' });
  passwordFile = join(server.dir, 'password');
  writeFileSync(passwordFile, 'pw\n');
});
afterAll(async () => {
  await admin?.nc.close();
  await server?.destroy();
});

/** A fresh stream on a fresh subject, so tests do not see each other's messages. */
async function newStream(): Promise<{ stream: string; subject: string }> {
  const n = ++streamSeq;
  const stream = `STATS${n}`;
  const subject = `lk.stats${n}`;
  await admin.jsm.streams.add({ name: stream, subjects: [subject], duplicate_window: nanos(3_600_000) });
  return { stream, subject };
}

function writerSink(subject: string, extra: Parameters<typeof jetStreamSink>[2] = {}) {
  const made = jetStreamSink([`127.0.0.1:${server.port}`], subject, {
    auth: { natsUser: 'writer', natsPasswordFile: passwordFile },
    ...extra,
  });
  cleanup.push(() => made.sink.close());
  return made;
}

/** Exactly what the gRPC sink sends for these stats: its encodings, concatenated. */
function grpcBytes(list: ReturnType<typeof stats>): Buffer {
  const grpc = new GrpcSink({ target: '127.0.0.1:1', tls: false });
  cleanup.push(() => grpc.close());
  return encodeAllWith(grpc, list);
}

const deliveryCounter = recordingDeliveryMetrics;

const fast = () => new Backoff(10, 50);

describe('JetStream sink, one server', () => {
  it("publishes each batch as one message holding the gRPC sink's AnalyticsStats bytes, with the batch id", async () => {
    const { stream, subject } = await newStream();
    const { sink } = writerSink(subject);
    const { counts, metrics } = deliveryCounter();
    const delivery = new Delivery(sink, { batchMaxStats: 10, queueMaxBytes: 1e9 }, metrics, silent);
    const emitted = stats(25, 'one');
    delivery.enqueue(emitted);
    expect(await delivery.seal().delivered).toBe(true);

    const messages = await readStream(admin.jsm, stream);
    expect(messages.map((m) => m.header.get('Telemetry-Stat-Count'))).toEqual(['10', '10', '5']);
    expect(Buffer.concat(messages.map((m) => m.data))).toEqual(grpcBytes(emitted));
    expect(Buffer.from(messages[1]!.data)).toEqual(grpcBytes(emitted.slice(10, 20)));
    for (const m of messages) {
      expect(m.header.get('Nats-Msg-Id')).toMatch(/^[0-9A-Za-z]{12}-[0-9a-z]+$/);
      expect(m.header.get('Content-Type')).toBe('application/x-protobuf; messageType=livekit.AnalyticsStats');
      expect(m.header.get('Telemetry-Node')).toBe('test-node');
    }
    expect(new Set(messages.map((m) => m.header.get('Nats-Msg-Id'))).size).toBe(3);
    expect(statIds(messages)).toEqual(emitted.map((s) => s.id));
    expect(counts).toEqual({ delivered: 25 });
  });

  it('stores a batch once when its PubAck is lost and Delivery retries it: same id, the duplicate counted', async () => {
    const { stream, subject } = await newStream();
    const metrics = new SidecarMetrics({ defaultMetrics: false });
    const made = writerSink(subject, { metrics });
    const ids: string[] = [];
    let lost = 0;
    // the first send reaches the stream, then its ack is "lost": Delivery sees a transient failure
    const lossy: Sink = {
      description: made.sink.description,
      format: made.sink.format,
      get maxBatchBytes() {
        return made.sink.maxBatchBytes;
      },
      encodeInto: (stat, into, at) => made.sink.encodeInto(stat, into, at),
      send: async (batch: Batch) => {
        ids.push(batch.id);
        // a copy: the sink must not know this batch was acked, as when the ack never arrived
        await made.sink.send({ ...batch });
        if (lost++ === 0) throw SinkError.transient('PubAck lost', 'timeout');
      },
      close: () => made.sink.close(),
    };
    const delivery = new Delivery(lossy, { batchMaxStats: 100, queueMaxBytes: 1e9, backoff: fast() }, metrics, silent);
    const emitted = stats(7, 'retry');
    delivery.enqueue(emitted);
    expect(await delivery.seal().delivered).toBe(true);

    expect(ids).toHaveLength(2);
    expect(ids[1]).toBe(ids[0]);
    const messages = await readStream(admin.jsm, stream);
    expect(messages).toHaveLength(1);
    expect(messages[0]!.header.get('Nats-Msg-Id')).toBe(ids[0]);
    expect(statIds(messages)).toEqual(emitted.map((s) => s.id));
    const scrape = new Scrape(await metrics.registry.metrics());
    expect(scrape.value('telemetry_sidecar_nats_duplicates_total')).toBe(1);
    expect(scrape.value('telemetry_sidecar_nats_connected')).toBe(1);
    expect(scrape.value('telemetry_sidecar_upstream_stats_total', { result: 'delivered' })).toBe(7);
    expect(scrape.value('telemetry_sidecar_upstream_stats_total', { result: 'retried' })).toBe(7);
  });

  it('sends NDJSON lines when asked, with their content type', async () => {
    const { stream, subject } = await newStream();
    const { sink } = writerSink(subject, { payload: 'ndjson' });
    const delivery = new Delivery(sink, { batchMaxStats: 100, queueMaxBytes: 1e9 }, deliveryCounter().metrics, silent);
    const emitted = stats(3, 'json');
    delivery.enqueue(emitted);
    expect(await delivery.seal().delivered).toBe(true);
    const [message, ...rest] = await readStream(admin.jsm, stream);
    expect(rest).toHaveLength(0);
    expect(message!.header.get('Content-Type')).toBe('application/x-ndjson');
    const lines = Buffer.from(message!.data).toString().trimEnd().split('\n');
    expect(lines.map((l) => LkStat.fromJsonString(l).id)).toEqual(emitted.map((s) => s.id));
  });

  it("cuts batches to the server's max_payload, read from its INFO", async () => {
    const { stream, subject } = await newStream();
    const { sink, log } = writerSink(subject);
    await untilConnected(log);
    expect(sink.maxBatchBytes).toBeLessThan(4096);
    expect(sink.maxBatchBytes).toBeGreaterThan(3000);
    const { counts, metrics } = deliveryCounter();
    const delivery = new Delivery(sink, { batchMaxStats: 1000, queueMaxBytes: 1e9 }, metrics, silent);
    const emitted = stats(120, 'cut');
    delivery.enqueue(emitted);
    expect(await delivery.seal().delivered).toBe(true);
    const messages = await readStream(admin.jsm, stream);
    expect(messages.length).toBeGreaterThan(1);
    for (const m of messages) expect(m.data.length).toBeLessThanOrEqual(sink.maxBatchBytes);
    expect(statIds(messages)).toEqual(emitted.map((s) => s.id));
    expect(counts).toEqual({ delivered: 120 });
  });

  it('splits a batch over max_payload into parts with derived ids, the same on every retry', async () => {
    const { stream, subject } = await newStream();
    const { sink } = writerSink(subject);
    const emitted = stats(90, 'split');
    // cut under a larger limit (the server's was lowered since, or it came from the spool)
    const batch: Batch = { id: 'big-batch', payloads: [grpcBytes(emitted)], bytes: 0, count: emitted.length };
    await sink.send(batch);
    const messages = await readStream(admin.jsm, stream);
    const ids = messages.map((m) => m.header.get('Nats-Msg-Id'));
    expect(ids.length).toBeGreaterThan(2);
    for (const id of ids) expect(id).toMatch(/^big-batch(-[12])+$/);
    expect(Buffer.concat(messages.map((m) => m.data))).toEqual(grpcBytes(emitted));
    expect(messages.map((m) => Number(m.header.get('Telemetry-Stat-Count'))).reduce((a, b) => a + b)).toBe(90);

    // a retry from another process (a spool replay) derives the same ids: the server drops them all
    const again = writerSink(subject);
    await again.sink.send({ ...batch });
    expect(again.recorder.duplicates).toBe(ids.length);
    expect((await admin.jsm.streams.info(stream)).state.messages).toBe(ids.length);
  });

  it('drops a batch whose single stat exceeds max_payload (too_large) without publishing any of it', async () => {
    const { stream, subject } = await newStream();
    const { sink, log } = writerSink(subject);
    await untilConnected(log);
    const [big] = stats(1, 'big');
    big!.roomName = 'r'.repeat(5000);
    const { counts, metrics } = deliveryCounter();
    const delivery = new Delivery(sink, { batchMaxStats: 1000, queueMaxBytes: 1e9 }, metrics, silent);
    delivery.enqueue([...stats(2, 'small'), big!]);
    expect(await delivery.seal().delivered).toBe(false);
    expect(counts).toEqual({ delivered: 2, dropped: 1, 'dropped:too_large': 1 });
    expect(statIds(await readStream(admin.jsm, stream))).toEqual(['AS_small0', 'AS_small1']);
  });

  it('drops batches for a subject no stream captures (no_stream), and says so once at start', async () => {
    const { sink, log } = writerSink('lk.nowhere');
    await untilLogged(log, 'no JetStream stream captures subject lk.nowhere');
    const { counts, metrics } = deliveryCounter();
    const delivery = new Delivery(sink, { batchMaxStats: 1000, queueMaxBytes: 1e9, backoff: fast() }, metrics, silent);
    delivery.enqueue(stats(4, 'lost'));
    expect(await delivery.seal().delivered).toBe(false);
    expect(counts).toEqual({ dropped: 4, 'dropped:no_stream': 4 });
    expect(log.lines.filter((l) => l.level === 40).map((l) => l.msg)).toHaveLength(1);
  });

  it('drops batches the user may not publish (permission_denied)', async () => {
    const { subject } = await newStream();
    const { sink } = jetStreamSink([`127.0.0.1:${server.port}`], subject, {
      auth: { natsUser: 'reader', natsPasswordFile: passwordFile },
    });
    cleanup.push(() => sink.close());
    const err = await sink
      .send({ id: 'denied', payloads: [grpcBytes(stats(2, 'denied'))], bytes: 0, count: 2 })
      .catch((e) => e);
    expect(err).toBeInstanceOf(SinkError);
    expect(err).toMatchObject({ retryable: false, reason: 'permission_denied' });
    expect((err as Error).message).toContain(subject);
    const { counts, metrics } = deliveryCounter();
    const delivery = new Delivery(sink, { batchMaxStats: 1000, queueMaxBytes: 1e9, backoff: fast() }, metrics, silent);
    delivery.enqueue(stats(3, 'denied-too'));
    expect(await delivery.seal().delivered).toBe(false);
    expect(counts).toEqual({ dropped: 3, 'dropped:permission_denied': 3 });
  });

  it('creates the stream at start when asked to and none captures the subject', async () => {
    const { log } = writerSink('lk.created', {
      createStream: { name: 'CREATED', replicas: 1, duplicateWindowMs: 600_000 },
    });
    await untilLogged(log, 'NATS: created JetStream stream');
    const info = await admin.jsm.streams.info('CREATED');
    expect(info.config.subjects).toEqual(['lk.created']);
    expect(info.config.duplicate_window).toBe(nanos(600_000));
    expect(info.config.num_replicas).toBe(1);
  });

  it('is what SIDECAR_UPSTREAM=nats://... builds: a Flush waits for the PubAck, the scrape shows the connection', async () => {
    const { stream, subject } = await newStream();
    const t = await startTestSidecar({
      SIDECAR_UPSTREAM: `nats://127.0.0.1:${server.port}/${subject}`,
      SIDECAR_NATS_USER: 'writer',
      SIDECAR_NATS_PASSWORD_FILE: passwordFile,
    });
    cleanup.push(() => t.close());
    await unary(t.client, t.client.Activate, { roomId: 'R', participantId: 'P', guardId: 'g' });
    const stat = sample({ streams: [statStream({ primaryPackets: 5 })] });
    await unary(t.client, t.client.TrackStats, {
      stats: [{ roomId: 'R', participantId: 'P', trackId: 'T', kind: StreamType.UPSTREAM, stat }],
    });
    expect(await unary(t.client, t.client.Flush, { waitDelivered: true })).toMatchObject({
      statsEmitted: 1,
      delivered: true,
    });
    const [message] = await readStream(admin.jsm, stream);
    expect(message!.header.get('Telemetry-Node')).toBe('test-node');
    expect(statIds([message!])).toHaveLength(1);
    const scrape = new Scrape((await t.sidecar.metrics.metricsText()).body);
    expect(scrape.value('telemetry_sidecar_nats_connected')).toBe(1);
    expect(scrape.value('telemetry_sidecar_upstream_stats_total', { result: 'delivered' })).toBe(1);
    expect(t.logs.map((l) => l.msg)).toContain('NATS: publishing to JetStream stream');
  });

  it('runs a whole sidecar whose subject no stream captures: one warning at start, ready, flushed stats dropped as no_stream', async () => {
    const subject = 'lk.unstreamed';
    const t = await startTestSidecar({
      SIDECAR_UPSTREAM: `nats://127.0.0.1:${server.port}/${subject}`,
      SIDECAR_NATS_USER: 'writer',
      SIDECAR_NATS_PASSWORD_FILE: passwordFile,
      // the Flush below answers once its batch is dropped; a batch wrongly retried is not waited for at close
      SIDECAR_FLUSH_WAIT_TIMEOUT: '10s',
      SIDECAR_SHUTDOWN_TIMEOUT: '1s',
    });
    cleanup.push(() => t.close());
    expect((await httpGet(t.sidecar.httpPort, '/readyz')).status).toBe(200);

    for (const p of ['P1', 'P2', 'P3']) {
      await unary(t.client, t.client.Activate, { roomId: 'R', participantId: p, guardId: 'g' });
      const stat = sample({ streams: [statStream({ primaryPackets: 5 })] });
      await unary(t.client, t.client.TrackStats, {
        stats: [{ roomId: 'R', participantId: p, trackId: 'T', kind: StreamType.UPSTREAM, stat }],
      });
    }
    expect(await unary(t.client, t.client.Flush, { waitDelivered: true })).toMatchObject({
      statsEmitted: 3,
      delivered: false,
    });
    const scrape = new Scrape((await t.sidecar.metrics.metricsText()).body);
    expect(scrape.value('telemetry_sidecar_stats_dropped_total', { reason: 'no_stream' })).toBe(3);
    expect(scrape.value('telemetry_sidecar_upstream_stats_total', { result: 'dropped' })).toBe(3);
    expect(scrape.value('telemetry_sidecar_upstream_stats_total', { result: 'retried' })).toBe(0);
    expect(scrape.value('telemetry_sidecar_nats_connected')).toBe(1);
    expect(t.logs.filter((l) => l.msg === 'upstream refused a batch: dropped')).toMatchObject([
      { level: 50, reason: 'no_stream', stats: 3 },
    ]);
    // said once, at start (before the first publish): not once per batch
    const warnings = t.logs.filter((l) => l.level === 40 && String(l.msg).includes('no JetStream stream captures'));
    expect(warnings).toMatchObject([
      {
        subject,
        msg: `NATS: no JetStream stream captures subject ${subject}: batches are dropped (reason no_stream) until one does; create it (docs/jetstream.md) or set SIDECAR_NATS_CREATE_STREAM`,
      },
    ]);
    expect((await httpGet(t.sidecar.httpPort, '/readyz')).status).toBe(200);
  });

  it('retries while no server answers: a send fails as transient until the connection is up', async () => {
    const { sink } = jetStreamSink(['127.0.0.1:1'], 'lk.none', { publishTimeoutMs: 50 });
    cleanup.push(() => sink.close());
    const err = await sink
      .send({ id: 'x', payloads: [grpcBytes(stats(1, 'down'))], bytes: 0, count: 1 })
      .catch((e) => e);
    expect(err).toMatchObject({ retryable: true, reason: 'not_connected' });
  });
});

function untilLogged(log: ReturnType<typeof jetStreamSink>['log'], text: string): Promise<void> {
  return expect.poll(() => log.messages().some((m) => m.includes(text)), { timeout: 10_000 }).toBe(true);
}

function untilConnected(log: ReturnType<typeof jetStreamSink>['log']): Promise<void> {
  return untilLogged(log, 'NATS: connected');
}
