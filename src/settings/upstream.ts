/** Where delivered stats go: `file:PATH`, `stdout:`, `grpc://host:port`, `grpcs://host:port`. */
import { InvalidValue, quote } from './errors.js';
import { formatAddress, target } from './address.js';
import type { Parser } from './parse.js';

export type Upstream =
  { kind: 'file'; path: string } | { kind: 'stdout' } | { kind: 'grpc'; target: string; tls: boolean };

export const upstream: Parser<Upstream> = (raw) => {
  if (raw.startsWith('file:')) {
    const path = raw.slice('file:'.length).replace(/^\/\/(?=\/)/, '');
    if (path === '') throw new InvalidValue('file: needs a path, e.g. file:./data/analytics-stats.ndjson');
    return { kind: 'file', path };
  }
  if (raw === 'stdout:' || raw === 'stdout') return { kind: 'stdout' };
  const m = /^(grpcs?):\/\/([^/]+?)\/?$/.exec(raw);
  if (m) {
    try {
      return { kind: 'grpc', target: formatAddress(target(m[2]!)), tls: m[1] === 'grpcs' };
    } catch {
      // fall through to the message that lists every form
    }
  }
  throw new InvalidValue(`must be file:PATH, stdout:, grpc://host:port or grpcs://host:port, got ${quote(raw)}`);
};
