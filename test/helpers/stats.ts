/** Builders for test stats: every field defaulted, override what the test is about. */
import {
  emptyStream,
  StreamType,
  type AnalyticsStat,
  type AnalyticsStream,
  type AnalyticsVideoLayer,
} from '../../src/core/analytics.js';

/** A StatSample that is also a valid wire AnalyticsStat (mutable arrays). */
export interface Sample {
  score: number;
  mime: string;
  streams: AnalyticsStream[];
}

export function stream(fields: Partial<AnalyticsStream> = {}): AnalyticsStream {
  return { ...emptyStream(), ...fields };
}

export function layer(layer: number, packets = 0, bytes = 0, frames = 0): AnalyticsVideoLayer {
  return { layer, packets, bytes, frames };
}

export function sample(fields: { score?: number; mime?: string; streams?: AnalyticsStream[] } = {}): Sample {
  return { score: fields.score ?? 0, mime: fields.mime ?? 'video/VP8', streams: fields.streams ?? [stream()] };
}

export const ts = (seconds: number, nanos = 0) => ({ seconds, nanos });

/** A coalesced stat with every field at its default. */
export function blankStat(): AnalyticsStat {
  return {
    id: '',
    analyticsKey: '',
    kind: 0,
    timeStamp: null,
    node: '',
    roomId: '',
    roomName: '',
    participantId: '',
    trackId: '',
    score: 0,
    streams: [],
    mime: '',
    minScore: 0,
    medianScore: 0,
  };
}

/** One track's stat as a TrackStats request carries it, once in each direction (upstream first). */
export function bothDirections(stat: Sample, participantId = 'P', trackId = 'T', roomId = 'R') {
  return [StreamType.UPSTREAM, StreamType.DOWNSTREAM].map((kind) => ({ roomId, participantId, trackId, kind, stat }));
}
