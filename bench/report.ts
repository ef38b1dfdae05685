/** The bench's results as JSON and as the markdown table the README's Performance section shows. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import type { FlushResult, FlushRound } from './flush.js';
import type { IngestResult } from './ingest.js';
import type { JetStreamResult } from './jetstream.js';
import type { MemoryResult } from './memory.js';
import { INGEST_MEASURE_MS, MEMORY_CYCLES, PARTICIPANTS, RSS_GROWTH_TOLERANCE, SCALE, TRACKS } from './settings.js';

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
  const { ingest, flush, memory } = r;
  if (ingest) {
    out.push(
      {
        scenario: '1 ingest',
        figure: `sidecar, stats/s (Session, 100 stats/msg; ${ingest.rounds.length} × ${INGEST_MEASURE_MS / 1000} s)`,
        measured: n(ingest.sidecar.statsPerSecond),
        target: '',
      },
      {
        scenario: '1 ingest',
        figure: 'bare grpc-js + proto-loader defaults, stats/s',
        measured: n(ingest.bare.statsPerSecond),
        target: '',
      },
      {
        scenario: '1 ingest',
        figure: `ratio sidecar / bare (per round: ${ingest.rounds.map((r) => (r.sidecar / r.bare).toFixed(2)).join(', ')})`,
        measured: ingest.ratio.toFixed(2),
        target: '≥ 1.0',
        pass: ingest.ratio >= 1,
      },
      {
        scenario: '1 ingest',
        figure: 'sidecar ack latency p50 / p99 at full speed',
        measured: `${ms(ingest.sidecar.ackLatencyMs.p50)} / ${ms(ingest.sidecar.ackLatencyMs.p99)}`,
        target: '',
      },
      {
        scenario: '1 ingest',
        figure: 'load generator CPU during the sidecar / bare windows (1 core = 100 %)',
        measured: `${(ingest.sidecar.loadgenCpu * 100).toFixed(0)} % / ${(ingest.bare.loadgenCpu * 100).toFixed(0)} %`,
        target: '',
      },
    );
  }
  if (flush) {
    const [cold, ...warm] = flush.rounds;
    const worst = (pick: (r: FlushRound) => number) => Math.max(...warm.map(pick));
    const stall = worst((r) => r.loopDelay.maxMs);
    const p99 = worst((r) => r.ackDuringFlush.p99);
    const rounds = `rounds 2–${flush.rounds.length}`;
    out.push(
      {
        scenario: '2 flush',
        figure: `flush of ${n(flush.pendingTracks)} pending tracks, delivered (under ${n(flush.loadStatsPerSecond)} stats/s ingest; per round)`,
        measured: flush.rounds.map((r) => `${r.flushSeconds.toFixed(2)} s`).join(', '),
        target: '',
        pass: flush.rounds.every((r) => r.delivered),
      },
      {
        scenario: '2 flush',
        figure: `longest event-loop stall during the flush, steady state (worst of ${rounds})`,
        measured: ms(stall),
        target: '< 20 ms',
        pass: stall < 20,
      },
      {
        scenario: '2 flush',
        figure: `Session ack p99 during the flush, steady state (worst of ${rounds})`,
        measured: ms(p99),
        target: '< 20 ms',
        pass: p99 < 20,
      },
      {
        scenario: '2 flush',
        figure: 'first flush after start (flush path not yet JIT-compiled): longest stall / ack p99',
        measured: `${ms(cold!.loopDelay.maxMs)} / ${ms(cold!.ackDuringFlush.p99)}`,
        target: '',
      },
    );
  }
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
  const js = r.jetstream;
  if (js) {
    const each = `median of ${js.cycles} flushes of ${n(js.participants * js.tracks)}`;
    out.push(
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
    );
  }
  return out;
}

export function markdown(r: BenchResults): string {
  const m = r.machine;
  const lines = [
    `Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, Node ${m.node}. Date: ${m.date}. Whole run: ${Math.round(r.seconds)} s.`,
    r.scale === 1
      ? `Workload: ${n(r.participants)} participants × ${r.tracksPerParticipant} tracks (SPEC §9 scale).`
      : `Workload: ${n(r.participants)} participants × ${r.tracksPerParticipant} tracks — scaled down to ${r.scale} of SPEC §9 (BENCH_SCALE).`,
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
