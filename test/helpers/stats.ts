/** Builders for test stats: every field defaulted, override what the test is about. */
import {
  emptyStream,
  type AnalyticsStream,
  type AnalyticsVideoLayer,
  type StatSample,
} from '../../src/core/analytics.js';

export function stream(fields: Partial<AnalyticsStream> = {}): AnalyticsStream {
  return { ...emptyStream(), ...fields };
}

export function layer(layer: number, packets = 0, bytes = 0, frames = 0): AnalyticsVideoLayer {
  return { layer, packets, bytes, frames };
}

export function sample(fields: { score?: number; mime?: string; streams?: AnalyticsStream[] } = {}): StatSample {
  return { score: fields.score ?? 0, mime: fields.mime ?? 'video/VP8', streams: fields.streams ?? [stream()] };
}

export const ts = (seconds: number, nanos = 0) => ({ seconds, nanos });
