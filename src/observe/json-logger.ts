/**
 * The one log format of the image: pino JSON lines with `level` as its name,
 * `time` in ISO 8601 and `service`. The sidecar and the injection webhook both
 * log through here, so it imports nothing but pino, the settings language's
 * level list and the bounded output the lines go to.
 */
import { pino, type DestinationStream, type Logger } from 'pino';
import { isLogLevel, LOG_LEVELS } from '../settings/log-level.js';
import { logOutput } from './log-output.js';

/**
 * One JSON object per line: `level` as its name (not pino's number, which log
 * pipelines would have to map), `time` as an ISO string, `msg`.
 * Writes to stdout through the bounded output of log-output.ts unless given
 * a destination. `component` tells the webhook's lines from the sidecar's
 * when both reach one pipeline.
 */
export function createLogger(level: string, destination?: DestinationStream, component?: string): Logger {
  if (!isLogLevel(level)) throw new Error(`log level must be one of ${LOG_LEVELS.join(', ')}; got "${level}"`);
  const options = {
    level,
    base: component === undefined ? { service: 'telemetry-sidecar' } : { service: 'telemetry-sidecar', component },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  };
  return pino(options, destination ?? logOutput(1));
}
