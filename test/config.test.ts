import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

const HEAP_LIMIT = 4096 * 1024 * 1024;
const load = (env: Record<string, string> = {}, argv: string[] = [], limit?: number, heap = HEAP_LIMIT) =>
  loadConfig({ env, argv, memoryLimitBytes: () => limit, heapLimitBytes: () => heap });

describe('loadConfig', () => {
  it('has the documented defaults', () => {
    const c = load();
    expect(c).toMatchObject({
      grpcAddr: { host: '127.0.0.1', port: 50151 },
      httpAddr: { host: '0.0.0.0', port: 9464 },
      flushIntervalMs: 30_000,
      closeWaitMs: 180_000,
      leaseGraceMs: 30_000,
      upstream: { kind: 'file', path: './data/analytics-stats.ndjson' },
      analyticsKey: '',
      batchMaxStats: 1000,
      queueMaxBytes: 268435456,
      shutdownTimeoutMs: 20_000,
      maxWorkers: 100000,
      maxTracksPerWorker: 1000,
      logLevel: 'info',
    });
    expect(c.memoryLimitBytes).toBe(Math.floor(HEAP_LIMIT * 0.8));
    expect(c.containerMemoryBytes).toBeUndefined();
    expect(c.spoolDir).toBeUndefined();
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('parses durations in ms, s, m and h', () => {
    expect(
      load({ SIDECAR_FLUSH_INTERVAL: '250ms', SIDECAR_CLOSE_WAIT: '1.5m', SIDECAR_LEASE_GRACE: '2h' }),
    ).toMatchObject({
      flushIntervalMs: 250,
      closeWaitMs: 90_000,
      leaseGraceMs: 7_200_000,
    });
  });

  it('allows 0 where it means "at once" and refuses it where a timer would spin', () => {
    expect(load({ SIDECAR_CLOSE_WAIT: '0s', SIDECAR_LEASE_GRACE: '0ms' })).toMatchObject({
      closeWaitMs: 0,
      leaseGraceMs: 0,
    });
    expect(load({ SIDECAR_FLUSH_INTERVAL: '2147483647ms' }).flushIntervalMs).toBe(2 ** 31 - 1);
  });

  it('reads sizes as plain bytes or Kubernetes quantities', () => {
    expect(load({ SIDECAR_QUEUE_MAX_BYTES: '64Mi' }).queueMaxBytes).toBe(64 * 2 ** 20);
    expect(load({ SIDECAR_QUEUE_MAX_BYTES: '100M' }).queueMaxBytes).toBe(100e6);
    expect(load({ SIDECAR_QUEUE_MAX_BYTES: '1000' }).queueMaxBytes).toBe(1000);
  });

  it('treats an empty or blank value as unset, so the default applies', () => {
    expect(load({ SIDECAR_FLUSH_INTERVAL: '', LOG_LEVEL: '  ' }, ['--close-wait='])).toMatchObject({
      flushIntervalMs: 30_000,
      closeWaitMs: 180_000,
      logLevel: 'info',
    });
  });

  it('lets flags override env, with or without the sidecar- prefix', () => {
    const c = load({ SIDECAR_FLUSH_INTERVAL: '10s', LOG_LEVEL: 'warn' }, [
      '--flush-interval',
      '5s',
      '--sidecar-max-workers=7',
      '--log-level=debug',
    ]);
    expect(c).toMatchObject({ flushIntervalMs: 5000, maxWorkers: 7, logLevel: 'debug' });
  });

  it('parses every upstream form', () => {
    expect(load({ SIDECAR_UPSTREAM: 'stdout:' }).upstream).toEqual({ kind: 'stdout' });
    expect(load({ SIDECAR_UPSTREAM: 'grpc://analytics:7000' }).upstream).toEqual({
      kind: 'grpc',
      target: 'analytics:7000',
      tls: false,
    });
    expect(load({ SIDECAR_UPSTREAM: 'grpcs://[::1]:443' }).upstream).toEqual({
      kind: 'grpc',
      target: '[::1]:443',
      tls: true,
    });
    expect(load({ SIDECAR_UPSTREAM: 'file:///var/lib/x.ndjson' }).upstream).toEqual({
      kind: 'file',
      path: '/var/lib/x.ndjson',
    });
  });

  it('parses IPv6 listen addresses', () => {
    expect(load({ SIDECAR_GRPC_ADDR: '[::1]:0' }).grpcAddr).toEqual({ host: '::1', port: 0 });
  });

  it.each([
    ['SIDECAR_FLUSH_INTERVAL', '30', /^SIDECAR_FLUSH_INTERVAL: must be a duration with a unit/],
    ['SIDECAR_FLUSH_INTERVAL', '0s', /^SIDECAR_FLUSH_INTERVAL: must be greater than zero/],
    ['SIDECAR_FLUSH_INTERVAL', '1000h', /^SIDECAR_FLUSH_INTERVAL: must be at most 2147483647ms/],
    ['SIDECAR_SHUTDOWN_TIMEOUT', '1000h', /^SIDECAR_SHUTDOWN_TIMEOUT: must be at most 2147483647ms/],
    ['SIDECAR_SHUTDOWN_TIMEOUT', '0s', /^SIDECAR_SHUTDOWN_TIMEOUT: must be greater than zero/],
    ['SIDECAR_CLOSE_WAIT', '25d', /^SIDECAR_CLOSE_WAIT: must be a duration/],
    ['SIDECAR_LEASE_GRACE', '-1s', /^SIDECAR_LEASE_GRACE: must be a duration/],
    ['SIDECAR_GRPC_ADDR', 'localhost', /^SIDECAR_GRPC_ADDR: must be host:port/],
    ['SIDECAR_HTTP_ADDR', '1.2.3.4:70000', /^SIDECAR_HTTP_ADDR: must be a port number 0-65535/],
    ['SIDECAR_UPSTREAM', 'http://x', /^SIDECAR_UPSTREAM: must be file:PATH/],
    ['SIDECAR_UPSTREAM', 'grpc://analytics:0', /^SIDECAR_UPSTREAM: must be file:PATH/],
    ['SIDECAR_BATCH_MAX_STATS', '-1', /^SIDECAR_BATCH_MAX_STATS: must be a positive whole number/],
    ['SIDECAR_MAX_WORKERS', '1e3', /^SIDECAR_MAX_WORKERS/],
    ['SIDECAR_QUEUE_MAX_BYTES', '100MB', /^SIDECAR_QUEUE_MAX_BYTES: must be a size/],
    ['LOG_LEVEL', 'loud', /^LOG_LEVEL: must be one of/],
  ])('names %s in the error for %s', (name, value, message) => {
    expect(() => load({ [name]: value })).toThrow(ConfigError);
    expect(() => load({ [name]: value })).toThrow(message);
  });

  it('names the flag when the bad value came from a flag', () => {
    expect(() => load({}, ['--close-wait', 'x'])).toThrow(/^--close-wait: /);
    expect(() => load({}, ['--sidecar-close-wait', 'x'])).toThrow(/^--sidecar-close-wait: /);
  });

  it('names an unknown flag, a flag without its value and a stray argument', () => {
    expect(() => load({}, ['--flush-intervall', '5s'])).toThrow('--flush-intervall: unknown option (see --help)');
    expect(() => load({}, ['--flush-interval'])).toThrow('--flush-interval: needs a value');
    expect(() => load({}, ['5s'])).toThrow(ConfigError);
  });

  it('refuses an mTLS certificate without its key', () => {
    expect(() => load({ SIDECAR_UPSTREAM_CERT_FILE: '/c.pem' })).toThrow(/SIDECAR_UPSTREAM_KEY_FILE/);
  });

  it("derives the memory guard limit and the queue bound from the container's limit; explicit settings win", () => {
    const container = 256 * 1024 * 1024;
    expect(load({}, [], container)).toMatchObject({
      memoryLimitBytes: container / 2,
      queueMaxBytes: container / 8,
      containerMemoryBytes: container,
    });
    // a V8 heap limit below the container's share bounds the guard, so V8 never reaches its own limit first
    expect(load({}, [], container, 131 * 1024 * 1024).memoryLimitBytes).toBe(Math.floor(131 * 1024 * 1024 * 0.8));
    expect(load({}, [], 64 * 1024 * 1024 * 1024).queueMaxBytes).toBe(268435456);
    const explicit = load({ SIDECAR_MEMORY_LIMIT_MB: '300', SIDECAR_QUEUE_MAX_BYTES: '1000' }, [], container);
    expect(explicit).toMatchObject({ memoryLimitBytes: 300 * 1024 * 1024, queueMaxBytes: 1000 });
  });
});
