/**
 * Scenario 6 (JetStream delivery): delivered stats/s through the NATS
 * JetStream sink into an R1 stream on one nats-server and into an R3 stream on
 * a three-node cluster, beside the gRPC sink, measured as scenario 4 does:
 * stats emitted ÷ Flush{wait_delivered} time (flush, encode, send, ack), the
 * median over flush cycles. Each sidecar runs in its own child process; the
 * nats-servers (NATS_SERVER_BIN or /usr/sbin/nats-server) on loopback.
 */
import { nanos } from '@nats-io/transport-node';
import { Loadgen } from '../src/cli/loadgen.js';
import { addStream as add, natsAdmin, startNatsCluster, startNatsServer } from '../test/helpers/nats-server.js';
import { BenchChild } from './child.js';
import { loadgenOptions, PARTICIPANTS, TRACKS } from './settings.js';

/** Flush cycles per sink; the first warms the JIT and the connection and is not counted. */
const CYCLES = 6;
const SUBJECT = 'bench.stats';

export interface JetStreamResult {
  participants: number;
  tracks: number;
  cycles: number;
  grpcStatsPerSecond: number;
  r1StatsPerSecond: number;
  r3StatsPerSecond: number;
  /** Messages in the R3 stream at the end: batches, as the sink published them. */
  r3Messages: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

/** One sidecar child on `upstream`: CYCLES × (one stat per track, Flush{wait_delivered}); the median rate. */
async function deliveredPerSecond(env: Record<string, string>, upstream: string): Promise<number> {
  const sidecar = await BenchChild.start('sidecar', {
    ...env,
    SIDECAR_UPSTREAM: upstream,
    SIDECAR_FLUSH_INTERVAL: '1h',
  });
  const loadgen = new Loadgen(loadgenOptions(sidecar.target));
  try {
    await loadgen.hello();
    await loadgen.activateAll();
    const rates: number[] = [];
    for (let c = 0; c < CYCLES; c++) {
      await loadgen.ingest({ messages: loadgen.messagesPerRound });
      const flush = await loadgen.flush(true);
      if (!flush.delivered) throw new Error(`${upstream}: cycle ${c + 1} was not delivered`);
      if (c > 0) rates.push(flush.statsEmitted / flush.seconds);
    }
    return median(rates);
  } finally {
    await loadgen.close().catch(() => undefined);
    await sidecar.stop();
  }
}

async function addStream(servers: string[], replicas: number): Promise<void> {
  const { nc, jsm } = await natsAdmin(servers);
  try {
    await add(jsm, {
      name: 'BENCH',
      subjects: [SUBJECT],
      num_replicas: replicas,
      duplicate_window: nanos(3_600_000),
    });
  } finally {
    await nc.close();
  }
}

export async function jetStreamScenario(
  env: Record<string, string>,
  log: (line: string) => void,
): Promise<JetStreamResult> {
  log(`jetstream: ${PARTICIPANTS * TRACKS} stats per flush, ${CYCLES - 1} measured flushes per sink`);
  const upstream = await BenchChild.start('upstream');
  let grpcStatsPerSecond: number;
  try {
    grpcStatsPerSecond = await deliveredPerSecond(env, `grpc://${upstream.target}`);
  } finally {
    await upstream.stop();
  }
  log(`  gRPC sink: ${Math.round(grpcStatsPerSecond)} stats/s`);

  const single = await startNatsServer();
  let r1StatsPerSecond: number;
  try {
    await addStream([single.url], 1);
    r1StatsPerSecond = await deliveredPerSecond(env, `nats://127.0.0.1:${single.port}/${SUBJECT}`);
  } finally {
    await single.destroy();
  }
  log(`  JetStream R1: ${Math.round(r1StatsPerSecond)} stats/s`);

  const cluster = await startNatsCluster(3);
  let r3StatsPerSecond: number;
  let r3Messages: number;
  try {
    await addStream(cluster.urls, 3);
    const servers = cluster.servers.map((s) => `127.0.0.1:${s.port}`).join(',');
    r3StatsPerSecond = await deliveredPerSecond(env, `nats://${servers}/${SUBJECT}`);
    const { nc, jsm } = await natsAdmin(cluster.urls);
    r3Messages = (await jsm.streams.info('BENCH')).state.messages;
    await nc.close();
  } finally {
    await cluster.destroy();
  }
  log(`  JetStream R3 (3 nodes): ${Math.round(r3StatsPerSecond)} stats/s`);
  return {
    participants: PARTICIPANTS,
    tracks: TRACKS,
    cycles: CYCLES - 1,
    grpcStatsPerSecond,
    r1StatsPerSecond,
    r3StatsPerSecond,
    r3Messages,
  };
}
