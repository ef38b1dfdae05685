/**
 * Where delivered stats go: `file:PATH`, `stdout:`, `grpc://host:port`,
 * `grpcs://host:port`, or NATS JetStream `nats://host:port[,host:port…]/SUBJECT`
 * (`tls://` for TLS; docs/jetstream.md).
 */
import { InvalidValue, quote } from './errors.js';
import { formatAddress, target } from './address.js';
import type { Parser } from './parse.js';

export type Upstream =
  | { kind: 'file'; path: string }
  | { kind: 'stdout' }
  | { kind: 'grpc'; target: string; tls: boolean }
  /** NATS JetStream: `servers` as host:port, publishing to `subject`. */
  | { kind: 'nats'; servers: string[]; subject: string; tls: boolean };

const FORMS = 'file:PATH, stdout:, grpc://host:port, grpcs://host:port or nats://host:port[,host:port...]/SUBJECT';

export const upstream: Parser<Upstream> = (raw) => {
  if (raw.startsWith('file:')) {
    const path = raw.slice('file:'.length).replace(/^\/\/(?=\/)/, '');
    if (path === '') throw new InvalidValue('file: needs a path, e.g. file:./data/analytics-stats.ndjson');
    return { kind: 'file', path };
  }
  if (raw === 'stdout:' || raw === 'stdout') return { kind: 'stdout' };
  if (/^(nats|tls):\/\//.test(raw)) return natsUpstream(raw);
  const m = /^(grpcs?):\/\/([^/]+?)\/?$/.exec(raw);
  if (m) {
    try {
      return { kind: 'grpc', target: formatAddress(target(m[2]!)), tls: m[1] === 'grpcs' };
    } catch {
      // fall through to the message that lists every form
    }
  }
  throw new InvalidValue(`must be ${FORMS}, got ${quote(raw)}`);
};

/** A subject to publish to: dot-separated tokens, no wildcards or whitespace. */
const NATS_SUBJECT = /^[^\s.*>]+(\.[^\s.*>]+)*$/;
const NATS_DEFAULT_PORT = 4222;
const NATS_EXAMPLE = 'e.g. nats://nats-0:4222,nats-1:4222/livekit.analytics';

/** `nats://host:port[,host:port...]/SUBJECT` or `tls://...`; credentials come from files, never the URL. */
function natsUpstream(raw: string): Upstream {
  const m = /^(nats|tls):\/\/([^/]*)\/(.*)$/.exec(raw);
  if (!m || m[2] === '') throw new InvalidValue(`must be nats://host:port[,host:port...]/SUBJECT, ${NATS_EXAMPLE}`);
  if (m[2]!.includes('@')) {
    throw new InvalidValue(
      'put NATS credentials in files (SIDECAR_UPSTREAM_TOKEN_FILE, SIDECAR_NATS_CREDS_FILE, ...), not in the URL',
    );
  }
  if (!NATS_SUBJECT.test(m[3]!)) {
    throw new InvalidValue(
      `${quote(m[3]!)} is not a NATS subject to publish to (no wildcards or spaces), ${NATS_EXAMPLE}`,
    );
  }
  const servers = m[2]!
    .split(',')
    .map((hostPort) => formatAddress(target(/:\d+$/.test(hostPort) ? hostPort : `${hostPort}:${NATS_DEFAULT_PORT}`)));
  return { kind: 'nats', servers, subject: m[3]!, tls: m[1] === 'tls' };
}

/** A JetStream stream name: no spaces, '.', '*', '>', '/' or '\'. */
export const natsStreamName: Parser<string> = (raw) => {
  if (/^[^\s.*>/\\]{1,255}$/.test(raw)) return raw;
  throw new InvalidValue(`must be a stream name (no spaces, '.', '*', '>', '/'), got ${quote(raw)}`);
};
