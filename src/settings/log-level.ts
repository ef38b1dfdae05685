/** Log levels are pino's own (`pino.levels.values`) plus `silent`: one list for the sidecar and the webhook. */
import { pino } from 'pino';
import { InvalidValue, quote } from './errors.js';
import type { Parser } from './parse.js';

/** Least to most severe, then `silent`. */
export const LOG_LEVELS: readonly string[] = Object.freeze([
  ...Object.entries(pino.levels.values)
    .sort(([, a], [, b]) => a - b)
    .map(([name]) => name),
  'silent',
]);

export function isLogLevel(level: string): boolean {
  return LOG_LEVELS.includes(level);
}

export const logLevel: Parser<string> = (raw) => {
  if (!isLogLevel(raw)) throw new InvalidValue(`must be one of ${LOG_LEVELS.join(', ')}, got ${quote(raw)}`);
  return raw;
};
