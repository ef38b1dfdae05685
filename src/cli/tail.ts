/**
 * `telemetry-sidecar tail`'s own flags. The command prints the stats in the
 * NATS JetStream stream the sidecar publishes to, as NDJSON; the stream,
 * subject and credentials come from the same settings as `serve`
 * (src/tail.ts composes it, src/upstream/jetstream-reader.ts reads the stream).
 */
import { SettingError } from '../settings/index.js';

export const TAIL_HELP = `telemetry-sidecar tail [options] [settings flags]
  Prints the stats in the JetStream stream as NDJSON (one protobuf-JSON AnalyticsStat per line).
  Reads SIDECAR_UPSTREAM (nats://host:port[,...]/SUBJECT or tls://...) and the NATS credential
  settings, as env vars or flags, like the sidecar itself.
  --from new|first|SEQ|TIME   where to start: new stats only (default), the first kept,
                              a stream sequence, or an RFC 3339 time such as 2026-01-02T15:04:05Z
  --count N                   exit after N stats (default: run until interrupted)
  --stream NAME               the stream to read (default: the one capturing the subject)`;

/** Where in the stream to start. */
export type TailStart =
  { kind: 'new' } | { kind: 'first' } | { kind: 'sequence'; sequence: number } | { kind: 'time'; iso: string };

export interface TailOptions {
  from: TailStart;
  count?: number;
  stream?: string;
}

function startAt(from: string): TailStart {
  if (from === 'new') return { kind: 'new' };
  if (from === 'first' || from === 'all') return { kind: 'first' };
  if (/^\d+$/.test(from) && Number(from) > 0) return { kind: 'sequence', sequence: Number(from) };
  const time = Date.parse(from);
  if (!Number.isNaN(time) && /^\d{4}-\d\d-\d\dT/.test(from)) return { kind: 'time', iso: new Date(time).toISOString() };
  throw new SettingError('--from', `expected new, first, a sequence number or an RFC 3339 time, got "${from}"`);
}

/** Takes tail's own flags out of argv; the rest are settings flags for the sidecar's config. */
export function parseTailArgs(argv: readonly string[]): { options: TailOptions; rest: string[] } {
  const options: TailOptions = { from: { kind: 'new' } };
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const m = /^--(from|count|stream)(?:=(.*))?$/.exec(arg);
    if (!m) {
      rest.push(arg);
      continue;
    }
    const value = m[2] ?? argv[++i];
    if (value === undefined) throw new SettingError(`--${m[1]}`, 'needs a value');
    if (m[1] === 'from') options.from = startAt(value);
    else if (m[1] === 'stream') options.stream = value;
    else if (/^\d+$/.test(value) && Number(value) > 0) options.count = Number(value);
    else throw new SettingError('--count', `expected a positive whole number, got "${value}"`);
  }
  return { options, rest };
}
