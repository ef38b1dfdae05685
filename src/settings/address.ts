/**
 * Listen addresses and ports: `host:port`, `[ipv6]:port`, `:port` (all
 * interfaces). Brackets may hold an IPv4 address too, as Go's SplitHostPort
 * allows: the injected sidecar binds `[$(POD_IP)]:port`, whatever the cluster's IP family.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { InvalidValue, quote } from './errors.js';
import type { Parser } from './parse.js';

export interface Address {
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
}

/** Ports below this need root or CAP_NET_BIND_SERVICE, which the injected sidecar (uid 1000, no capabilities) lacks. */
export const FIRST_UNPRIVILEGED_PORT = 1024;
const MAX_PORT = 65535;

const HOSTNAME =
  /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

function portNumber(raw: string, min: number, why: string): number {
  const n = /^\d{1,5}$/.test(raw) ? Number(raw) : NaN;
  if (!(n >= min && n <= MAX_PORT))
    throw new InvalidValue(`must be a port number ${min}-${MAX_PORT}${why}, got ${quote(raw)}`);
  return n;
}

/** 0-65535; 0 asks the kernel for a free port. */
export const port: Parser<number> = (raw) => portNumber(raw, 0, '');

/** 1024-65535: what a process without root or capabilities can bind (the injected sidecar). */
export const unprivilegedPort: Parser<number> = (raw) =>
  portNumber(raw, FIRST_UNPRIVILEGED_PORT, ' (the sidecar runs as uid 1000 without capabilities)');

function parseAddress(raw: string, parsePort: Parser<number>): Address {
  const m = /^(?:\[([^\]]*)\]|([^:[\]]*)):([^:]*)$/.exec(raw);
  const bracketed = m?.[1];
  const host = bracketed ?? m?.[2];
  const valid =
    m &&
    host !== undefined &&
    (bracketed !== undefined
      ? isIPv6(bracketed) || isIPv4(bracketed)
      : host === '' || isIPv4(host) || HOSTNAME.test(host));
  if (!m || !valid) {
    throw new InvalidValue(`must be host:port such as 127.0.0.1:50151 or [::1]:50151, got ${quote(raw)}`);
  }
  return { host: host === '' ? '0.0.0.0' : host!, port: parsePort(m[3]!) };
}

/** Where to listen; an empty host (`:9464`) is every IPv4 interface. */
export const address: Parser<Address> = (raw) => parseAddress(raw, port);

/** Where to connect: as `address`, with a real port (1-65535). */
export const target: Parser<Address> = (raw) => parseAddress(raw, (p) => portNumber(p, 1, ''));

/** `host:port` back, IPv6 in brackets, as grpc-js and URLs want it. */
export function formatAddress({ host, port }: Address): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
