/**
 * Exactly-once into an R3 stream across a leader failure: a real sidecar keeps
 * flushing into a three-node JetStream cluster while the stream leader is
 * SIGKILLed with a publish in flight, then restarted. Every emitted stat must
 * be in the stream once.
 */
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

    const { sink, recorder } = jetStreamSink(
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

    // a PubAck means a quorum stored the message; after a failover, what reads see catches up a moment later
    await expect
      .poll(
        async () => {
          const info = await admin.jsm.streams.info('FLEET');
          return info.cluster?.replicas?.every((r) => r.current) && info.state.messages >= batches.size;
        },
        { timeout: 15_000 },
      )
      .toBe(true);
    const messages = await readStream(admin.jsm, 'FLEET');
    const inStream = statIds(messages);
    const sentIds = [...batches.values()].flat();
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
      dropped: t.logs
        .filter((l) => l.msg === 'upstream refused a batch: dropped')
        .map((l) => `${String(l.reason)}: ${(l.err as { message?: string } | undefined)?.message}`),
    };
    console.log(`jetstream failover: ${JSON.stringify(figures)}`);
    expect(sends).toBeGreaterThan(batches.size); // the failure made Delivery retry
    expect(inStream).toHaveLength(emitted);
    expect(new Set(inStream).size).toBe(emitted);
    expect(new Set(inStream)).toEqual(new Set(sentIds));
    expect(messages.map((m) => m.header.get('Nats-Msg-Id')).sort()).toEqual([...batches.keys()].sort());
  }, 60_000);
});
