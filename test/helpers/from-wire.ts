/**
 * proto-loader objects (Long for 64-bit fields) in the core's plain-number
 * shapes: the reference the hand decoder (src/wire/session-decoder.ts) is
 * tested against. The conversion walks whatever fields proto-loader gives,
 * so a field added to the proto shows up here without a change, and a
 * decoder that does not read it fails the comparison.
 */
import { u64ToNumber, type StatSample, type StreamSample } from '../../src/core/analytics.js';
import type { AnalyticsStat__Output } from '../../src/generated/livekit/AnalyticsStat.js';

interface LongLike {
  low: number;
  high: number;
  unsigned: boolean;
}

function isLong(value: object): value is LongLike {
  return 'low' in value && 'high' in value && 'unsigned' in value;
}

/**
 * Every Long as the number the core holds: uint64 through u64ToNumber (the
 * top bit kept exact), int64 exact within ±2^53 (which covers every
 * Timestamp Go accepts).
 */
export function toNumbers(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toNumbers);
  if (value === null || typeof value !== 'object') return value;
  if (isLong(value))
    return value.unsigned ? u64ToNumber(value.high, value.low) : value.high * 2 ** 32 + (value.low >>> 0);
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toNumbers(v)]));
}

/** The fields of a received AnalyticsStat that coalescing reads. */
export function toStatSample(stat: AnalyticsStat__Output | null): StatSample {
  if (!stat) return { score: 0, mime: '', streams: [] };
  return { score: stat.score, mime: stat.mime, streams: stat.streams.map((s) => toNumbers(s) as StreamSample) };
}
