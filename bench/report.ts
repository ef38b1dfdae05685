/** The bench's results as JSON and as the markdown table bench/results/latest.md (the README quotes its headline rows). */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import type { FlushResult, FlushRound, FlushSinkKind } from './flush.js';
import type { IngestResult } from './ingest.js';
import type { JetStreamResult } from './jetstream.js';
import type { MemoryResult } from './memory.js';
import type { ScalingPoint, ScalingResult } from './scaling.js';
import {
  INGEST_MEASURE_MS,
  MEMORY_CYCLES,
  PACED_MEASURE_MS,
  PACED_SHARE,
  PARTICIPANTS,
  QUICK,
  RSS_GROWTH_TOLERANCE,
  SCALE,
  TRACKS,
} from './settings.js';

export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  date: string;
}

export interface BenchResults {
  machine: Machine;
  scale: number;
  participants: number;
  tracksPerParticipant: number;
  seconds: number;
  ingest?: IngestResult;
  flush?: FlushResult;
  scaling?: ScalingResult;
  memory?: MemoryResult;
  jetstream?: JetStreamResult;
}

export function machine(): Machine {
  const cpu = cpus();
  return {
    cpu: cpu[0]?.model.trim() ?? 'unknown',
    cores: cpu.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    date: new Date().toISOString(),
  };
}

interface Row {
  scenario: string;
  figure: string;
  measured: string;
  target: string;
  pass?: boolean;
}

const n = (x: number) => Math.round(x).toLocaleString('en-US');
const ms = (x: number) => `${x.toFixed(1)} ms`;
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
const pct = (share: number) => `${share >= 0 ? '+' : ''}${(share * 100).toFixed(1)} %`;

function rows(r: BenchResults): Row[] {
  const out: Row[] = [];
  const { ingest, flush, scaling, memory } = r;
  if (ingest) out.push(...ingestRows(ingest));
  if (flush) out.push(...flushRows(flush));
  if (memory) {
    const first = memory.cycles[0]!;
    const last = memory.cycles[memory.cycles.length - 1]!;
    out.push(
      {
        scenario: '3 memory',
        figure: `per idle worker (${n(memory.workers)} workers): RSS / V8 heap growth`,
        measured: `${n(memory.perIdleWorkerBytes)} B / ${n(memory.heapPerIdleWorkerBytes)} B`,
        target: '< 2 KB (both)',
        pass: Math.max(memory.perIdleWorkerBytes, memory.heapPerIdleWorkerBytes) < 2048,
      },
      {
        scenario: '3 memory',
        figure: `per active track (${n(memory.tracks)} tracks): RSS / V8 heap growth`,
        measured: `${n(memory.perActiveTrackBytes)} B / ${n(memory.heapPerActiveTrackBytes)} B`,
        target: '< 1 KB (both)',
        pass: Math.max(memory.perActiveTrackBytes, memory.heapPerActiveTrackBytes) < 1024,
      },
      {
        scenario: '3 memory',
        figure: `RSS after flush cycle 1 → ${MEMORY_CYCLES} (10 % churn per cycle)`,
        measured: `${mib(first.rss)} → ${mib(last.rss)} (${pct(memory.growthShare)})`,
        target: `no growth (≤ ${RSS_GROWTH_TOLERANCE * 100} %)`,
        pass: memory.growthShare <= RSS_GROWTH_TOLERANCE,
      },
      {
        scenario: '3 memory',
        figure: `V8 heap used after flush cycle 1 → ${MEMORY_CYCLES}`,
        measured: `${mib(first.heapUsed)} → ${mib(last.heapUsed)} (${pct(memory.heapGrowthShare)})`,
        target: `no growth (≤ ${RSS_GROWTH_TOLERANCE * 100} %)`,
        pass: memory.heapGrowthShare <= RSS_GROWTH_TOLERANCE,
      },
      {
        scenario: '4 delivery',
        figure: `stats/s delivered to a gRPC upstream on loopback (median of ${MEMORY_CYCLES} flushes of ${n(first.statsEmitted)})`,
        measured: n(memory.deliveryStatsPerSecond),
        target: '',
      },
    );
  }
  if (scaling) out.push(...scalingRows(scaling));
  if (r.jetstream) out.push(...jetstreamRows(r.jetstream));
  return out;
}

function jetstreamRows(js: JetStreamResult): Row[] {
  const each = `median of ${js.cycles} flushes of ${n(js.participants * js.tracks)}`;
  return [
    {
      scenario: '6 jetstream',
      figure: `stats/s to a gRPC upstream (${each})`,
      measured: n(js.grpcStatsPerSecond),
      target: '',
    },
    {
      scenario: '6 jetstream',
      figure: `stats/s into an R1 stream, 1 nats-server (${each})`,
      measured: n(js.r1StatsPerSecond),
      target: '',
    },
    {
      scenario: '6 jetstream',
      figure: `stats/s into an R3 stream, 3-node cluster (${each})`,
      measured: n(js.r3StatsPerSecond),
      target: '',
    },
  ];
}

const us = (x: number) => `${x.toFixed(2)} µs`;
const perRound = (values: number[]) => values.map((v) => v.toFixed(2)).join(', ');

function ingestRows(ingest: IngestResult): Row[] {
  const { transport, bare, sidecar, paced } = ingest;
  const window = `${ingest.rounds.length} × ${INGEST_MEASURE_MS / 1000} s`;
  return [
    {
      scenario: '1 ingest',
      figure: `transport-only grpc-js (no decoding, pre-encoded ack), stats/s (Session, 100 stats/msg; ${window})`,
      measured: n(transport.statsPerSecond),
      target: '',
    },
    {
      scenario: '1 ingest',
      figure: 'bare grpc-js + proto-loader defaults, stats/s',
      measured: n(bare.statsPerSecond),
      target: '',
    },
    { scenario: '1 ingest', figure: 'sidecar, stats/s', measured: n(sidecar.statsPerSecond), target: '' },
    {
      scenario: '1 ingest',
      figure: `ratio sidecar / transport-only (per round: ${perRound(ingest.rounds.map((x) => x.sidecar / x.transport))})`,
      measured: ingest.vsTransport.toFixed(2),
      target: '≥ 0.6',
      pass: ingest.vsTransport >= 0.6,
    },
    {
      scenario: '1 ingest',
      figure: `ratio sidecar / bare (per round: ${perRound(ingest.rounds.map((x) => x.sidecar / x.bare))})`,
      measured: ingest.vsBare.toFixed(2),
      target: '≥ 1.3',
      pass: ingest.vsBare >= 1.3,
    },
    {
      scenario: '1 ingest',
      figure: `sidecar process CPU per accepted stat (process.cpuUsage, all threads; transport-only ${us(transport.serverCpuUsPerStat)}, bare ${us(bare.serverCpuUsPerStat)})`,
      measured: us(sidecar.serverCpuUsPerStat),
      target: '≤ 2 µs',
      pass: sidecar.serverCpuUsPerStat <= 2,
    },
    {
      scenario: '1 ingest',
      figure: 'sidecar ack latency p50 / p99 at full speed',
      measured: `${ms(sidecar.ackLatencyMs.p50)} / ${ms(sidecar.ackLatencyMs.p99)}`,
      target: '',
    },
    {
      scenario: '1 ingest',
      figure: `Session ack p99 at ${PACED_SHARE * 100} % of the sidecar's maximum (${n(paced.offered)} stats/s offered, ${n(paced.statsPerSecond)} taken; ${PACED_MEASURE_MS / 1000} s)`,
      measured: ms(paced.ackLatencyMs.p99),
      target: '< 10 ms',
      pass: paced.ackLatencyMs.p99 < 10,
    },
    {
      scenario: '1 ingest',
      figure: 'load generator CPU during the transport / bare / sidecar windows (1 core = 100 %)',
      measured: [transport, bare, sidecar].map((m) => `${(m.loadgenCpu * 100).toFixed(0)} %`).join(' / '),
      target: '',
    },
  ];
}

/** stats emitted ÷ seconds, over every round. */
function sinkRate(rounds: FlushRound[]): number {
  return rounds.reduce((a, x) => a + x.statsEmitted, 0) / rounds.reduce((a, x) => a + x.flushSeconds, 0);
}

function flushRows(flush: FlushResult): Row[] {
  const out: Row[] = [];
  const label: Record<FlushSinkKind, string> = { grpc: 'gRPC upstream', ndjson: 'NDJSON file (default sink)' };
  for (const kind of ['grpc', 'ndjson'] as const) {
    const rounds = flush.sinks[kind];
    const cold = rounds[0]!;
    const stall = Math.max(...rounds.map((x) => x.loopDelay.maxMs));
    const p99 = Math.max(...rounds.map((x) => x.ackDuringFlush.p99));
    out.push(
      {
        scenario: '2 flush',
        figure: `${label[kind]}: flush of ${n(flush.pendingTracks)} pending tracks, delivered (under ${n(flush.loadStatsPerSecond)} stats/s ingest; per round, the first cold)`,
        measured: rounds.map((x) => `${x.flushSeconds.toFixed(2)} s`).join(', '),
        target: '',
        pass: rounds.every((x) => x.delivered),
      },
      {
        scenario: '2 flush',
        figure: `${label[kind]}: longest event-loop stall, every round including the first, cold one (per round: ${rounds.map((x) => x.loopDelay.maxMs.toFixed(1)).join(', ')} ms; in process CPU time: ${rounds.map((x) => x.loopDelay.cpuMaxMs.toFixed(1)).join(', ')} ms)`,
        measured: ms(stall),
        target: '< 20 ms',
        pass: stall < 20,
      },
      {
        scenario: '2 flush',
        figure: `${label[kind]}: Session ack p99 during the flush, every round (cold: ${ms(cold.ackDuringFlush.p99)})`,
        measured: ms(p99),
        target: '< 20 ms',
        pass: p99 < 20,
      },
    );
  }
  const ndjson = sinkRate(flush.sinks.ndjson);
  const grpc = sinkRate(flush.sinks.grpc);
  out.push({
    scenario: '2 flush',
    figure: `stats/s written by the NDJSON sink (flush to fdatasync'd file) / by the gRPC sink (flush to upstream ack), over every round`,
    measured: `${n(ndjson)} / ${n(grpc)}`,
    target: 'NDJSON ≥ gRPC',
    pass: ndjson >= grpc,
  });
  return out;
}

function scalingRows(scaling: ScalingResult): Row[] {
  const out: Row[] = scaling.points.map((p) => ({
    scenario: '5 scaling',
    figure: `${n(p.participants)} participants × ${p.tracks / p.participants} tracks: ingest stats/s; flush of ${n(p.tracks)} (µs per track); RSS / heap per track`,
    measured: `${n(p.statsPerSecond)}; ${p.flushSeconds.toFixed(2)} s (${((p.flushSeconds / p.tracks) * 1e6).toFixed(1)} µs); ${n(p.rssPerTrack)} B / ${n(p.heapPerTrack)} B`,
    target: '',
  }));
  const first = scaling.points[0];
  const last = scaling.points[scaling.points.length - 1];
  // per-track figures from the 10k point to the largest: the smallest point's memory is within noise
  const mid = scaling.points[1];
  if (first && mid && last && last !== mid) {
    const perTrack = (p: ScalingPoint) => p.flushSeconds / p.tracks;
    const flushGrowth = perTrack(last) / perTrack(mid) - 1;
    const heapGrowth = last.heapPerTrack / mid.heapPerTrack - 1;
    const rssGrowth = last.rssPerTrack / mid.rssPerTrack - 1;
    out.push(
      {
        scenario: '5 scaling',
        figure: `growth per track ${n(mid.tracks)} → ${n(last.tracks)} tracks: flush time / RSS / heap (linear in tracks = flat per track)`,
        measured: `${pct(flushGrowth)} / ${pct(rssGrowth)} / ${pct(heapGrowth)}`,
        target: 'flat (≤ +25 % each)',
        pass: Math.max(flushGrowth, rssGrowth, heapGrowth) <= 0.25,
      },
      {
        scenario: '5 scaling',
        figure: `ingest rate ${n(first.tracks)} → ${n(last.tracks)} tracks`,
        measured: pct(last.statsPerSecond / first.statsPerSecond - 1),
        target: '',
      },
    );
  }
  return out;
}

export function markdown(r: BenchResults): string {
  const m = r.machine;
  const lines = [
    `Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, Node ${m.node}. Date: ${m.date}. Whole run: ${Math.round(r.seconds)} s.`,
    r.scale === 1
      ? `Workload: ${n(r.participants)} participants × ${r.tracksPerParticipant} tracks (the full scale).`
      : `Workload: ${n(r.participants)} participants × ${r.tracksPerParticipant} tracks — scaled down to ${r.scale} of the full scale (BENCH_SCALE).`,
    ...(QUICK ? ['Short ingest windows, one round (BENCH_QUICK): checks the machinery, figures not comparable.'] : []),
    '',
    '| Scenario | Figure | Measured | Target | Result |',
    '| --- | --- | --- | --- | --- |',
    ...rows(r).map(
      (row) =>
        `| ${row.scenario} | ${row.figure} | ${row.measured} | ${row.target || '—'} | ${row.pass === undefined ? '—' : row.pass ? 'pass' : 'MISS'} |`,
    ),
  ];
  return lines.join('\n') + '\n';
}

export function writeResults(dir: string, r: BenchResults): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'latest.json'), JSON.stringify(r, null, 2) + '\n');
  const md = markdown(r);
  writeFileSync(join(dir, 'latest.md'), md);
  return md;
}

export const WORKLOAD = { participants: PARTICIPANTS, tracksPerParticipant: TRACKS, scale: SCALE };
