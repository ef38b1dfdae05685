/**
 * The ingest path without the transport, for instruction counts and CPU
 * profiles that a shared machine cannot disturb: the load generator's own
 * pre-encoded Session requests go through a real Session (on a stand-in for
 * the grpc-js call that serializes each response as grpc-js would) into a
 * real SidecarService, registry and metrics.
 *
 *   node dist/bench/inprocess.js [rounds] [mode]
 *
 * Each round sends every track's stat once (`INPROC_PARTICIPANTS` × 10
 * tracks, 100 stats per request, default 500 participants). Modes:
 * `session` (default: peek, decode, record, metrics, response), `decode`
 * (decodeSessionRequest alone), `record` (SidecarService.trackStats on stats
 * decoded before the rounds: validation, registry, coalescing, metrics) and
 * `respond` (serializing a SessionResponse per request, as grpc-js does).
 * Their differences split the session's instructions by stage. The last line printed is JSON. Instructions
 * per stat: run under `valgrind --tool=cachegrind --cache-sim=no
 * --smc-check=all-non-file node --single-threaded ...` for 2 and for 12
 * rounds and divide the difference by the stats of 10 rounds, so start-up
 * and JIT warm-up cancel out (bench/README.md). `INPROC_PROF=FILE` writes a
 * CPU profile of the rounds alone (not the set-up) to FILE; run it under
 * `--no-allocation-site-pretenuring`, or the profiler tips V8 into pretenuring
 * the decoder's objects (bench/README.md, measuring notes). `allocatedBytesPerStat`
 * is the heap the rounds allocated (the growth of the used heap between
 * collections, summed over the collections V8 reports), divided by the stats.
 */
import { writeFileSync } from 'node:fs';
import { Session as InspectorSession } from 'node:inspector/promises';
import { GCProfiler, getHeapStatistics } from 'node:v8';
import type { ServiceDefinition } from '@grpc/grpc-js';
import { withSeq } from '../src/client/session-client.js';
import { WorkerRegistry } from '../src/core/registry.js';
import type { SessionResponse } from '../src/generated/telemetry/sidecar/v1/SessionResponse.js';
import { SidecarMetrics } from '../src/observe/metrics.js';
import type { PendingTrackStats } from '../src/service/sidecar.js';
import { loadPackageDefinition } from '../src/wire/protos.js';
import { sessionResponseSerializer } from '../src/wire/response-encoder.js';
import { decodeSessionRequest } from '../src/wire/session-decoder.js';
import { benchPlan, benchService, benchSession, STATS_PER_MESSAGE, StandInCall } from './session-harness.js';

const rounds = Number(process.argv[2] ?? '10');
const mode = process.argv[3] ?? 'session';
const participants = Number(process.env.INPROC_PARTICIPANTS ?? '500');
const plan = benchPlan(participants, 'inproc', 1_700_000_000_000);

const definition = loadPackageDefinition()['telemetry.sidecar.v1.TelemetrySidecar'] as ServiceDefinition;
// as the server does (src/service/server.ts)
const serialize = sessionResponseSerializer(
  definition.Session!.responseSerialize as (value: SessionResponse) => Buffer,
);

/** A stand-in call whose write() serializes each response as grpc-js would. */
class CountingCall extends StandInCall {
  bytes = 0;
  accepted = 0;
  errors = 0;

  protected override record(response: SessionResponse): void {
    this.bytes += serialize(response).length;
    this.accepted += response.stats?.accepted ?? 0;
    if (response.error) this.errors++;
  }
}

const metrics = new SidecarMetrics({ defaultMetrics: false });
const registry = new WorkerRegistry({ closeWaitMs: 180_000, maxWorkers: 1_000_000, maxTracksPerWorker: 1_000 });
const service = benchService(registry, metrics, () => Promise.reject(new Error('no flush in this bench')));
const call = new CountingCall();
const { send, sendEncoded } = benchSession(call, service);

async function main(): Promise<void> {
  await send([plan.hello, ...plan.participants.map((p) => p.activate)]);
  const stats = plan.stats.length * STATS_PER_MESSAGE;
  // encoded with their seq up front: the rounds measure the sidecar, not withSeq
  const requests = plan.stats.map((body, i) => withSeq(i + 1, body));
  // the record mode's input: the core does not mutate decoded stats, so one decode serves every round.
  // Only in that mode: holding 5 000 decoded stats taught V8 to allocate the decoder's objects in the
  // old generation (pretenuring), which made the other modes' rounds collect the old generation over and over
  const decoded: PendingTrackStats[] = (mode === 'record' ? requests : []).map((req) => {
    const stats = decodeSessionRequest(req).stats!;
    return { decode: () => stats, count: () => stats.stats.length };
  });
  const profileTo = process.env.INPROC_PROF;
  const inspector = profileTo ? new InspectorSession() : undefined;
  if (inspector) {
    inspector.connect();
    await inspector.post('Profiler.enable');
    await inspector.post('Profiler.start');
  }
  const gcs = new GCProfiler();
  gcs.start();
  const heapBefore = getHeapStatistics().used_heap_size;
  const started = process.cpuUsage();
  const acceptedBefore = call.accepted;
  let checksum = 0;
  for (let round = 0; round < rounds; round++) {
    if (mode === 'decode') {
      for (const req of requests) checksum += decodeSessionRequest(req).stats!.stats.length;
    } else if (mode === 'record') {
      for (const body of decoded) checksum += service.trackStats(body).accepted ?? 0;
    } else if (mode === 'respond') {
      for (let i = 0; i < requests.length; i++) {
        checksum += serialize({ seq: i + 1, stats: { accepted: STATS_PER_MESSAGE, invalid: 0, noWorker: 0 } }).length;
      }
    } else {
      await sendEncoded(requests);
    }
  }
  const cpu = process.cpuUsage(started);
  const allocated = allocatedSince(heapBefore, gcs.stop().statistics, getHeapStatistics().used_heap_size);
  if (inspector && profileTo) {
    const { profile } = await inspector.post('Profiler.stop');
    writeFileSync(profileTo, JSON.stringify(profile));
  }
  const accepted = call.accepted - acceptedBefore;
  if (mode === 'record' && checksum !== rounds * stats) {
    throw new Error(`expected ${rounds * stats} accepted stats, got ${checksum}`);
  }
  if (mode === 'session' && (accepted !== rounds * stats || call.errors > 0)) {
    throw new Error(`expected ${rounds * stats} accepted stats, got ${accepted} (${call.errors} errors)`);
  }
  console.log(
    JSON.stringify({
      mode,
      rounds,
      statsPerRound: stats,
      cpuUsPerStat: (cpu.user + cpu.system) / (rounds * stats),
      allocatedBytesPerStat: Math.round(allocated / (rounds * stats)),
      checksum: mode === 'session' ? accepted : checksum,
    }),
  );
}

interface GcRecord {
  beforeGC: { heapStatistics: { usedHeapSize: number } };
  afterGC: { heapStatistics: { usedHeapSize: number } };
}

/** Bytes allocated: what the used heap grew by between each collection and the next. */
function allocatedSince(before: number, collections: readonly GcRecord[], after: number): number {
  let total = 0;
  let from = before;
  for (const gc of collections) {
    total += gc.beforeGC.heapStatistics.usedHeapSize - from;
    from = gc.afterGC.heapStatistics.usedHeapSize;
  }
  return total + after - from;
}

await main();
