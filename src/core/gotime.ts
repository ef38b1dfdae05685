/**
 * The slice of Go's time.Time semantics that the reference relies on:
 * timestamppb.AsTime (nil is the Unix epoch, nanos normalised), IsZero
 * (year 1, not the epoch), Before/After and timestamppb.New.
 */
import type { Timestamp } from './analytics.js';

/** Unix seconds of Go's zero time.Time (0001-01-01T00:00:00Z). */
export const GO_ZERO_SECONDS = -62135596800;

export const NANOS_PER_SECOND = 1_000_000_000;

export function isGoZero(seconds: number, nanos: number): boolean {
  return seconds === GO_ZERO_SECONDS && nanos === 0;
}

/** Whole seconds that time.Unix moves out of nanos outside [0, 1e9). */
export function nanosCarry(nanos: number): number {
  return Math.floor(nanos / NANOS_PER_SECOND);
}

/** Negative when a is before b, positive when after, 0 when the same instant. */
export function compareTime(aSeconds: number, aNanos: number, bSeconds: number, bNanos: number): number {
  return aSeconds !== bSeconds ? aSeconds - bSeconds : aNanos - bNanos;
}

/** A wall-clock time in milliseconds as a protobuf Timestamp. */
export function timestampFromMillis(ms: number): Timestamp {
  const seconds = Math.floor(ms / 1000);
  return { seconds, nanos: Math.round((ms - seconds * 1000) * 1_000_000) };
}
