/**
 * Exactly-once into an R3 stream across a leader failure: a real sidecar keeps
 * flushing into a three-node JetStream cluster while the stream leader is
 * SIGKILLed with a publish in flight, then restarted. Every emitted stat must
 * be in the stream once.
 */
import type { StoredMsg } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { AnalyticsStats } from '@livekit/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { StreamType } from '../../src/core/analytics.js';
import type { Batch, Sink } from '../../src/upstream/sink.js';
import { jetStreamSink, readStream, statIds } from '../helpers/jetstream.js';
import { addStream, natsAdmin, startNatsCluster, untilOk } from '../helpers/nats-server.js';
import { unary } from '../helpers/rpc.js';
import { startTestSidecar } from '../helpers/sidecar.js';
import { sample, stream } from '../helpers/stats.js';

const cleanup: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

const PARTICIPANTS = 10;
const TRACKS = 5;
/** The send during which the leader dies: a few flushes in, with batches queued behind it. */
const KILL_AT_SEND = 12;
/** Flush rounds after the restarted node is back, so it rejoins while stats flow. */
const ROUNDS_AFTER_RESTART = 5;

describe('JetStream sink, three-node cluster', () => {
  it('stores every emitted stat exactly once when the R3 stream leader is SIGKILLed mid-publish and restarted', async () => {
    const cluster = await startNatsCluster(3);
    cleanup.push(() => cluster.destroy());
    const admin = await natsAdmin(cluster.urls);
    cleanup.push(() => admin.nc.close());
    await addStream(admin.jsm, {
      name: 'FLEET',
      subjects: ['lk.fleet'],
      num_replicas: 3,
      duplicate_window: nanos(3_600_000),
    });
    const leaderName = await untilOk(async () => {
      const leader = (await admin.jsm.streams.info('FLEET')).cluster?.leader;
      if (!leader) throw new Error('no stream leader yet');
      return leader;
    }, 10_000);
    const leader = cluster.servers.find((s) => s.name === leaderName)!;

    const { sink, recorder, log } = jetStreamSink(
      cluster.urls.map((u) => u.slice('nats://'.length)),
      'lk.fleet',
      { publishTimeoutMs: 1_000 },
    );
    cleanup.push(() => sink.close());
    const batches = new Map<string, string[]>();
    let sends = 0;
    let killed: Promise<void> | undefined;
    let deliveredAfterKill!: () => void;
    const recovered = new Promise<void>((resolve) => (deliveredAfterKill = resolve));
    const failover: Sink = {
      description: sink.description,
      format: sink.format,
      get maxBatchBytes() {
        return sink.maxBatchBytes;
      },
      encodeInto: (stat, into, at) => sink.encodeInto(stat, into, at),
      send: async (batch: Batch) => {
        batches.set(
          batch.id,
          AnalyticsStats.fromBinary(Buffer.concat(batch.payloads)).stats.map((s) => s.id),
        );
        const sent = sink.send(batch);
        // the publish has left for the leader: kill it now
        if (++sends === KILL_AT_SEND) killed = leader.kill('SIGKILL');
        await sent;
        if (killed) deliveredAfterKill();
      },
      close: () => sink.close(),
    };
    const t = await startTestSidecar(
      { SIDECAR_BATCH_MAX_STATS: '10' },
      { sink: failover, delivery: { retryInitialMs: 50, retryMaxMs: 500, callTimeoutMs: 1_000 } },
    );
    cleanup.push(() => t.close());
    for (let p = 0; p < PARTICIPANTS; p++) {
      await unary(t.client, t.client.Activate, { roomId: 'R', participantId: `P${p}`, guardId: 'g' });
    }

    let emitted = 0;
    let round = 0;
    const flushRound = async () => {
      round++;
      const stats = [];
      for (let p = 0; p < PARTICIPANTS; p++) {
        for (let k = 0; k < TRACKS; k++) {
          stats.push({
            roomId: 'R',
            participantId: `P${p}`,
            trackId: `T${k}`,
            kind: StreamType.UPSTREAM,
            stat: sample({ streams: [stream({ primaryPackets: round })] }),
          });
        }
      }
      await unary(t.client, t.client.TrackStats, { stats });
      emitted += (await unary(t.client, t.client.Flush, {})).statsEmitted;
    };
    // the sidecar keeps flushing, every 100 ms, through the failure and the restart
    let feeding = true;
    const feeder = (async () => {
      while (feeding) {
        await flushRound();
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();

    await recovered;
    await killed;
    const killedAtRound = round;
    await leader.start();
    const restartedAtRound = round;
    await expect.poll(() => round, { timeout: 10_000 }).toBeGreaterThanOrEqual(restartedAtRound + ROUNDS_AFTER_RESTART);
    feeding = false;
    await feeder;
    const final = await unary(t.client, t.client.Flush, { waitDelivered: true });
    expect(final.delivered).toBe(true);

    // A PubAck means a quorum stored the message. After a failover, what a read sees catches up a moment
    // later, and a leader elected after the check may answer before it has applied what it holds: so the
    // whole stream is read until it holds every batch, or until the deadline (then the figures tell).
    let messages: StoredMsg[] = [];
    const deadline = Date.now() + 20_000;
    for (;;) {
      try {
        const info = await admin.jsm.streams.info('FLEET');
        if (info.cluster?.replicas?.every((r) => r.current)) messages = await readStream(admin.jsm, 'FLEET');
      } catch {
        // a leader change under the read: read again
      }
      if (messages.length >= batches.size || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const inStream = statIds(messages);
    const sentIds = [...batches.values()].flat();
    // for a failure: each batch the stream lacks, with what its PubAck said (a sequence the stream no longer has is the server's loss)
    const storedIds = new Set(messages.map((m) => m.header.get('Nats-Msg-Id')));
    const acks = new Map(log.lines.filter((l) => l.msg === 'NATS: PubAck').map((l) => [String(l.id), l]));
    const missing = [...batches.keys()]
      .filter((id) => !storedIds.has(id))
      .map((id) => ({ id, seq: acks.get(id)?.seq, duplicate: acks.get(id)?.duplicate }));
    const figures = {
      rounds: round,
      killedAtRound,
      restartedAtRound,
      statsEmitted: emitted,
      batches: batches.size,
      sends,
      messagesInStream: messages.length,
      statsInStream: inStream.length,
      duplicatesSuppressed: recorder.duplicates,
      firstSeq: messages[0]?.seq,
      lastSeq: messages.at(-1)?.seq,
      missing,
      dropped: t.logs
        .filter((l) => l.msg === 'upstream refused a batch: dropped')
        .map((l) => `${String(l.reason)}: ${(l.err as { message?: string } | undefined)?.message}`),
      // what the sidecar said of the failure, so a CI failure can be read from the assertion alone
      warnings: [
        ...new Set(
          t.logs.filter((l) => Number(l.level) >= 40).map((l) => `${String(l.msg)} ${JSON.stringify(l.err ?? '')}`),
        ),
      ],
    };
    console.log(`jetstream failover: ${JSON.stringify(figures)}`);
    const said = JSON.stringify(figures);
    expect(sends, said).toBeGreaterThan(batches.size); // the failure made Delivery retry
    expect(inStream, said).toHaveLength(emitted);
    expect(new Set(inStream).size, said).toBe(emitted);
    expect(new Set(inStream), said).toEqual(new Set(sentIds));
    expect(messages.map((m) => m.header.get('Nats-Msg-Id')).sort()).toEqual([...batches.keys()].sort());
  }, 60_000);
});
