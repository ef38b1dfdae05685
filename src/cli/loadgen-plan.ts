/**
 * The load generator's messages, encoded once before the run so that sending
 * costs a copy, not an encode: the generator must never be the bottleneck it
 * is measuring. Each SessionRequest is kept without its `seq` (field 1);
 * the Session client puts a fresh seq in front when it is sent
 * (SessionClient.sendEncoded), which protobuf allows since fields may come in any order.
 */
import type { ServiceDefinition } from '@grpc/grpc-js';
import { StreamType } from '../core/analytics.js';
import type { SessionRequest } from '../generated/telemetry/sidecar/v1/SessionRequest.js';
import type { TrackStat } from '../generated/telemetry/sidecar/v1/TrackStat.js';
import { loadPackageDefinition } from '../wire/protos.js';
import { sampleStat } from './sample-stats.js';

export interface PlanOptions {
  participants: number;
  /** per participant */
  tracks: number;
  statsPerMessage: number;
  /** Session streams; participants are split between them in contiguous blocks. */
  streams: number;
  /** participants per room */
  roomSize: number;
  /** Unique per run, so two load generators never share client ids. */
  runId: string;
  /** The stats' end time; in milliseconds since the epoch. */
  nowMs: number;
  /** Prefixed to room, participant and track ids, so two generators can share a sidecar without sharing workers. */
  idPrefix?: string;
}

export interface ParticipantPlan {
  activate: Buffer;
  release: Buffer;
}

export interface StreamPlan {
  hello: Buffer;
  participants: ParticipantPlan[];
  /** TrackStats requests covering every track of the stream's participants once, cycled through by the sender. */
  stats: Buffer[];
  statsPerMessage: number;
}

const SERVICE = 'telemetry.sidecar.v1.TelemetrySidecar';

export function sessionSerializer(): (value: SessionRequest) => Buffer {
  const service = loadPackageDefinition()[SERVICE] as ServiceDefinition;
  return service.Session!.requestSerialize as (value: SessionRequest) => Buffer;
}

/** mulberry32: reproducible stat contents from run to run. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function buildPlan(o: PlanOptions): StreamPlan[] {
  const encode = sessionSerializer();
  const random = seeded(0x5eed);
  const plans: StreamPlan[] = [];
  const perStream = Math.ceil(o.participants / o.streams);
  const pre = o.idPrefix ?? '';
  for (let s = 0; s < o.streams; s++) {
    const first = s * perStream;
    const last = Math.min(o.participants, first + perStream);
    const participants: ParticipantPlan[] = [];
    const trackStats: TrackStat[] = [];
    for (let p = first; p < last; p++) {
      const roomId = `RM_${pre}load_${Math.floor(p / o.roomSize)}`;
      const participantId = `PA_${pre}${p}`;
      const guardId = `join-${p}`;
      participants.push({
        activate: encode({
          activate: {
            roomId,
            roomName: `load-${Math.floor(p / o.roomSize)}`,
            participantId,
            participantIdentity: `user-${p}`,
            guardId,
            connected: true,
          },
        }),
        release: encode({ release: { roomId, participantId, guardId } }),
      });
      for (let t = 0; t < o.tracks; t++) {
        // an SFU reports what a participant publishes (upstream) and what it subscribes to (downstream)
        const kind = t % 2 === 0 ? StreamType.UPSTREAM : StreamType.DOWNSTREAM;
        const trackId = `TR_${pre}${p}_${t}`;
        trackStats.push({
          roomId,
          participantId,
          trackId,
          kind,
          stat: sampleStat({ trackId, video: t % 3 !== 0 }, 5, o.nowMs, random),
        });
      }
    }
    const stats: Buffer[] = [];
    // wraps around so every message carries exactly statsPerMessage stats
    for (let i = 0; i < trackStats.length; i += o.statsPerMessage) {
      const chunk: TrackStat[] = [];
      for (let j = 0; j < o.statsPerMessage; j++) chunk.push(trackStats[(i + j) % trackStats.length]!);
      stats.push(encode({ stats: { stats: chunk } }));
    }
    plans.push({
      hello: encode({ hello: { clientId: `loadgen-${o.runId}-${s}` } }),
      participants,
      stats,
      statsPerMessage: o.statsPerMessage,
    });
  }
  return plans;
}
