/**
 * `telemetry-sidecar loadgen`: simulates an SFU against a sidecar (or any
 * server of the TelemetrySidecar Session RPC): participants × tracks over one
 * or more Session streams, Hello and Activate, then TrackStats requests at a
 * target rate or as fast as a bounded number of unacknowledged requests per
 * stream allows, with optional participant churn. Messages are pre-encoded
 * (loadgen-plan.ts) so the generator is not what limits the rate.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, credentials, Metadata, type ServiceDefinition, type ServiceError } from '@grpc/grpc-js';
import type { FlushRequest } from '../generated/telemetry/sidecar/v1/FlushRequest.js';
import type { FlushResponse__Output } from '../generated/telemetry/sidecar/v1/FlushResponse.js';
import {
  formatAddress,
  helpRows,
  loadSettings,
  nonNegativeInt,
  positiveDuration,
  positiveInt,
  readTokenFile,
  renderHelp,
  SettingError,
  type Setting,
} from '../settings/index.js';
import { loadPackageDefinition } from '../wire/protos.js';
import { LatencyRecorder, type LatencySummary } from './latency.js';
import { buildPlan, type PlanOptions, type StreamPlan } from './loadgen-plan.js';
import { LoadStream, zeroCounts, type StreamCounts } from './loadgen-stream.js';
import { TARGET_OPTION, TOKEN_FILE_OPTION } from './client-options.js';

const OPTIONS = {
  target: TARGET_OPTION,
  participants: {
    flag: 'participants',
    default: '1000',
    parse: positiveInt,
    help: 'participants to simulate, one worker each',
  },
  tracks: {
    flag: 'tracks',
    default: '10',
    parse: positiveInt,
    help: 'tracks per participant, half published, half subscribed',
  },
  statsPerMessage: {
    flag: 'stats-per-message',
    default: '100',
    parse: positiveInt,
    help: 'TrackStat entries per TrackStats request',
  },
  streams: {
    flag: 'streams',
    default: '1',
    parse: positiveInt,
    help: 'Session streams; participants are split between them',
  },
  roomSize: { flag: 'room-size', default: '10', parse: positiveInt, help: 'participants per room' },
  durationMs: { flag: 'duration', default: '10s', parse: positiveDuration, help: 'how long to send stats' },
  messages: { flag: 'messages', parse: positiveInt, help: 'instead: send exactly N TrackStats requests per stream' },
  rate: {
    flag: 'rate',
    default: '0',
    parse: nonNegativeInt,
    help: 'target stats/s over all streams; 0 = as fast as --in-flight allows',
  },
  inFlight: { flag: 'in-flight', default: '8', parse: positiveInt, help: 'unacknowledged requests allowed per stream' },
  churn: {
    flag: 'churn',
    default: '0',
    parse: nonNegativeInt,
    help: 'participants released and re-activated per second',
  },
  tokenFile: TOKEN_FILE_OPTION,
} satisfies Record<string, Setting<unknown>>;

const BOOLEANS = ['flush', 'json'];

export const LOADGEN_HELP = `telemetry-sidecar loadgen [options]
${renderHelp([
  ...helpRows(OPTIONS),
  { flag: 'flush', help: 'end with Flush{wait_delivered} and report what it emitted' },
  { flag: 'json', help: 'print the report as one JSON object' },
])}`;

const SERVICE = 'telemetry.sidecar.v1.TelemetrySidecar';

export interface LoadgenOptions extends Omit<PlanOptions, 'runId' | 'nowMs'> {
  target: string;
  token?: string;
  /** Unacknowledged requests allowed per stream. */
  inFlight: number;
}

export interface IngestPhase {
  /** Stop sending after this long; in milliseconds. */
  durationMs?: number;
  /** Stop after this many TrackStats requests per stream. */
  messages?: number;
  /** Target stats/s over all streams; 0 or absent: as fast as acks allow. */
  rate?: number;
  /** Participants released and re-activated per second, over all streams. */
  churnPerSecond?: number;
  /** Ends the phase early (the bench stops background load this way). */
  signal?: AbortSignal;
}

export interface PhaseReport {
  /** Sending start to last ack; in seconds. */
  seconds: number;
  statsAcked: number;
  /** Acknowledged stats per second. */
  statsPerSecond: number;
  /** Participants released and re-activated. */
  churned: number;
  ackLatencyMs: LatencySummary;
}

export interface LoadgenReport extends StreamCounts {
  target: string;
  streams: number;
  participants: number;
  tracksPerParticipant: number;
  statsPerMessage: number;
  /** Hello and Activate for every participant; in seconds. */
  setupSeconds: number;
  ingest: PhaseReport;
  flush?: { statsEmitted: number; workersFlushed: number; delivered: boolean; seconds: number };
  firstError?: string;
}

export class Loadgen {
  readonly latency = new LatencyRecorder();
  readonly streams: LoadStream[];
  private readonly plans: StreamPlan[];
  private readonly client: Client;
  private readonly metadata = new Metadata();
  /** Per stream: next stats message of the ring, next participant to churn. */
  private readonly statsCursor: number[];
  private readonly churnCursor: number[];

  constructor(options: LoadgenOptions) {
    this.plans = buildPlan({ ...options, runId: randomUUID().slice(0, 8), nowMs: Date.now() });
    if (options.token) this.metadata.set('authorization', `Bearer ${options.token}`);
    this.client = new Client(options.target, credentials.createInsecure());
    this.streams = this.plans.map(
      () => new LoadStream(this.client, options.token, this.latency, options.statsPerMessage, options.inFlight),
    );
    this.statsCursor = this.plans.map(() => 0);
    this.churnCursor = this.plans.map(() => 0);
  }

  /** Hello on every stream (naming it for guard leases), then Activate for every participant. */
  async setup(): Promise<void> {
    await this.hello();
    await this.activateAll();
  }

  async hello(): Promise<void> {
    await this.each(async (stream, plan) => {
      stream.send(plan.hello, 'hello');
      await stream.settled();
    });
  }

  async activateAll(): Promise<void> {
    await this.each(async (stream, plan) => {
      for (const p of plan.participants) await stream.sendPaced(p.activate, 'activate');
      await stream.settled();
    });
  }

  /** TrackStats requests per stream that report every track once. */
  get messagesPerRound(): number {
    return Math.max(...this.plans.map((p) => p.stats.length));
  }

  /** Releases and re-activates `n` participants (spread over the streams), as participants leaving and joining. */
  async churn(n: number): Promise<void> {
    await this.each(async (stream, plan) => {
      const index = this.plans.indexOf(plan);
      const share = Math.ceil(n / this.plans.length);
      for (let i = 0; i < share; i++) {
        const p = plan.participants[this.churnCursor[index]!++ % plan.participants.length]!;
        await stream.sendPaced(p.release, 'release');
        await stream.sendPaced(p.activate, 'activate');
      }
      await stream.settled();
    });
  }

  async ingest(phase: IngestPhase): Promise<PhaseReport> {
    const before = this.totals().statsAcked;
    const started = performance.now();
    const streams = this.streams.length;
    const churned = await Promise.all(
      this.streams.map((stream, i) =>
        this.ingestOn(stream, i, {
          ...phase,
          rate: (phase.rate ?? 0) / streams,
          churnPerSecond: (phase.churnPerSecond ?? 0) / streams,
        }),
      ),
    );
    const ended = performance.now();
    const statsAcked = this.totals().statsAcked - before;
    const seconds = (ended - started) / 1000;
    return {
      seconds,
      statsAcked,
      statsPerSecond: seconds > 0 ? statsAcked / seconds : 0,
      churned: churned.reduce((a, b) => a + b, 0),
      ackLatencyMs: this.latency.summary(started, ended),
    };
  }

  /** Unary Flush; resolves with its response and how long it took. */
  flush(waitDelivered: boolean): Promise<FlushResponse__Output & { seconds: number }> {
    const method = (loadPackageDefinition()[SERVICE] as ServiceDefinition).Flush!;
    const started = performance.now();
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest(
        method.path,
        method.requestSerialize as (req: FlushRequest) => Buffer,
        method.responseDeserialize as (bytes: Buffer) => FlushResponse__Output,
        { waitDelivered },
        this.metadata,
        (err: ServiceError | null, res?: FlushResponse__Output) => {
          if (err || !res) reject(err ?? new Error('Flush: no response'));
          else resolve({ ...res, seconds: (performance.now() - started) / 1000 });
        },
      );
    });
  }

  async releaseAll(): Promise<void> {
    await this.each(async (stream, plan) => {
      for (const p of plan.participants) await stream.sendPaced(p.release, 'release');
      await stream.settled();
    });
  }

  totals(): StreamCounts {
    const sum = zeroCounts();
    for (const s of this.streams) {
      for (const key of Object.keys(sum) as (keyof StreamCounts)[]) sum[key] += s.counts[key];
    }
    return sum;
  }

  get firstError(): string | undefined {
    return this.streams.find((s) => s.firstError !== undefined)?.firstError;
  }

  /** Ends every stream once answered, then the channel. */
  async close(): Promise<void> {
    try {
      await Promise.all(this.streams.map((s) => s.end()));
    } finally {
      this.client.close();
    }
  }

  private async each(work: (stream: LoadStream, plan: StreamPlan) => Promise<void>): Promise<void> {
    await Promise.all(this.streams.map((stream, i) => work(stream, this.plans[i]!)));
  }

  /** One stream's share of a phase; returns how many participants it churned. */
  private async ingestOn(stream: LoadStream, index: number, phase: IngestPhase): Promise<number> {
    const plan = this.plans[index]!;
    const started = performance.now();
    const endAt = phase.durationMs === undefined ? Infinity : started + phase.durationMs;
    const limit = phase.messages ?? Infinity;
    const msgRate = (phase.rate ?? 0) / plan.statsPerMessage;
    const churnRate = phase.churnPerSecond ?? 0;
    let sent = 0;
    let churned = 0;
    for (;;) {
      const now = performance.now();
      if (sent >= limit || now >= endAt || phase.signal?.aborted) break;
      if (churnRate > 0 && churned < Math.floor(((now - started) / 1000) * churnRate)) {
        // a participant leaves (its worker closes) and joins again (a new worker replaces it)
        const p = plan.participants[this.churnCursor[index]!++ % plan.participants.length]!;
        await stream.sendPaced(p.release, 'release');
        await stream.sendPaced(p.activate, 'activate');
        churned++;
        continue;
      }
      if (msgRate > 0) {
        const due = started + (sent / msgRate) * 1000;
        if (now < due) {
          await sleep(Math.max(1, Math.min(due - now, endAt - now)));
          continue;
        }
      }
      if (!stream.canSend) {
        await stream.room();
        continue;
      }
      const cursor = this.statsCursor[index]!;
      this.statsCursor[index] = (cursor + 1) % plan.stats.length;
      stream.send(plan.stats[cursor]!, 'stats');
      sent++;
    }
    await stream.settled();
    return churned;
  }
}

export async function runLoadgen(argv: string[], log: (line: string) => void = console.log): Promise<LoadgenReport> {
  const { values: v, names, booleans } = loadSettings(OPTIONS, { argv }, { booleans: BOOLEANS });
  const options: LoadgenOptions = {
    target: formatAddress(v.target!),
    participants: v.participants!,
    tracks: v.tracks!,
    statsPerMessage: v.statsPerMessage!,
    streams: v.streams!,
    roomSize: v.roomSize!,
    inFlight: v.inFlight!,
  };
  if (options.streams > options.participants) {
    throw new SettingError(names.streams, `must not exceed --participants (${options.participants})`);
  }
  if (v.tokenFile !== undefined) options.token = readTokenFile(names.tokenFile, v.tokenFile);
  const phase: IngestPhase = { rate: v.rate!, churnPerSecond: v.churn! };
  if (v.messages !== undefined) phase.messages = v.messages;
  else phase.durationMs = v.durationMs!;

  const loadgen = new Loadgen(options);
  try {
    const setupStarted = performance.now();
    await loadgen.setup();
    const setupSeconds = (performance.now() - setupStarted) / 1000;
    const ingest = await loadgen.ingest(phase);
    let flush: LoadgenReport['flush'];
    if (booleans.flush) {
      const f = await loadgen.flush(true);
      flush = {
        statsEmitted: f.statsEmitted,
        workersFlushed: f.workersFlushed,
        delivered: f.delivered,
        seconds: f.seconds,
      };
    }
    await loadgen.releaseAll();
    await loadgen.close();
    const report: LoadgenReport = {
      target: options.target,
      streams: options.streams,
      participants: options.participants,
      tracksPerParticipant: options.tracks,
      statsPerMessage: options.statsPerMessage,
      ...loadgen.totals(),
      setupSeconds,
      ingest,
      ...(flush ? { flush } : {}),
      ...(loadgen.firstError ? { firstError: loadgen.firstError } : {}),
    };
    log(booleans.json ? JSON.stringify(report) : describe(report));
    return report;
  } catch (err) {
    for (const s of loadgen.streams) s.cancel();
    throw err;
  }
}

function describe(r: LoadgenReport): string {
  const l = r.ingest.ackLatencyMs;
  const lines = [
    `loadgen: ${r.participants} participants × ${r.tracksPerParticipant} tracks over ${r.streams} stream(s), ${r.statsPerMessage} stats per message`,
    `  sent ${r.statsSent} stats in ${r.ingest.seconds.toFixed(2)} s: ${Math.round(r.ingest.statsPerSecond)} stats/s acknowledged`,
    `  accepted ${r.accepted}, invalid ${r.invalid}, no worker ${r.noWorker}, stream errors ${r.streamErrors}; churned ${r.ingest.churned}`,
    `  ack latency: p50 ${l.p50.toFixed(2)} ms, p99 ${l.p99.toFixed(2)} ms, max ${l.max.toFixed(2)} ms (${l.count} requests)`,
  ];
  if (r.flush) {
    lines.push(
      `  flush: ${r.flush.statsEmitted} stats from ${r.flush.workersFlushed} workers in ${r.flush.seconds.toFixed(2)} s (delivered: ${String(r.flush.delivered)})`,
    );
  }
  if (r.firstError) lines.push(`  first error: ${r.firstError}`);
  return lines.join('\n');
}
