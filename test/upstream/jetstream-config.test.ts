/** The nats:// and tls:// upstream forms and the NATS settings: parsed, or refused with one line naming the setting. */
import { describe, expect, it } from 'vitest';
import { checkConfigFiles, ConfigError, loadConfig } from '../../src/config.js';
import { natsAuth } from '../../src/upstream/nats-connection.js';

const load = (env: Record<string, string>) => loadConfig({ env, argv: [], memoryLimitBytes: () => undefined });

describe('NATS settings', () => {
  it.each([
    ['nats://127.0.0.1:4222/lk.stats', ['127.0.0.1:4222'], 'lk.stats', false],
    [
      'nats://nats-0,nats-1:4333,nats-2/livekit.analytics.v1',
      ['nats-0:4222', 'nats-1:4333', 'nats-2:4222'],
      'livekit.analytics.v1',
      false,
    ],
    ['tls://[::1]:4222/s', ['[::1]:4222'], 's', true],
  ])('parses %s', (raw, servers, subject, tls) => {
    expect(load({ SIDECAR_UPSTREAM: raw }).upstream).toEqual({ kind: 'nats', servers, subject, tls });
  });

  it.each([
    ['nats://127.0.0.1:4222', /nats:\/\/host:port\[,host:port...\]\/SUBJECT/],
    ['nats://127.0.0.1:4222/', /"" is not a NATS subject/],
    ['nats://127.0.0.1:4222/lk.*', /"lk.\*" is not a NATS subject to publish to/],
    ['nats://127.0.0.1:4222/lk..x', /is not a NATS subject/],
    ['nats://user:pw@127.0.0.1:4222/lk', /put NATS credentials in files/],
    ['nats://127.0.0.1:99999/lk', /must be a port number 1-65535, got "99999"/],
  ])('refuses %s', (raw, message) => {
    expect(() => load({ SIDECAR_UPSTREAM: raw })).toThrow(ConfigError);
    expect(() => load({ SIDECAR_UPSTREAM: raw })).toThrow(message);
  });

  it('reads the NATS settings with their defaults', () => {
    const c = load({ SIDECAR_UPSTREAM: 'nats://n:4222/s' });
    expect(c.natsPayload).toBe('protobuf');
    expect(c.natsStreamReplicas).toBe(1);
    expect(c.natsDuplicateWindowMs).toBe(3_600_000);
    const d = load({
      SIDECAR_UPSTREAM: 'nats://n:4222/s',
      SIDECAR_NATS_PAYLOAD: 'ndjson',
      SIDECAR_NATS_CREATE_STREAM: 'LIVEKIT_STATS',
      SIDECAR_NATS_STREAM_REPLICAS: '3',
      SIDECAR_NATS_DUPLICATE_WINDOW: '2h',
      SIDECAR_NATS_USER: 'sidecar',
      SIDECAR_NATS_PASSWORD_FILE: '/run/pw',
    });
    expect(d).toMatchObject({
      natsPayload: 'ndjson',
      natsCreateStream: 'LIVEKIT_STATS',
      natsStreamReplicas: 3,
      natsDuplicateWindowMs: 7_200_000,
    });
    expect(natsAuth(d)).toEqual({ kind: 'user', user: 'sidecar', passwordFile: '/run/pw' });
  });

  it.each([
    [{ SIDECAR_NATS_PAYLOAD: 'json' }, 'SIDECAR_NATS_PAYLOAD: must be one of protobuf, ndjson, got "json"'],
    [{ SIDECAR_NATS_CREATE_STREAM: 'a.b' }, /SIDECAR_NATS_CREATE_STREAM: must be a stream name/],
    [
      { SIDECAR_NATS_CREDS_FILE: '/c', SIDECAR_UPSTREAM_TOKEN_FILE: '/t' },
      'SIDECAR_UPSTREAM_TOKEN_FILE and SIDECAR_NATS_CREDS_FILE: choose one way to authenticate to NATS',
    ],
    [{ SIDECAR_NATS_USER: 'u' }, 'SIDECAR_NATS_USER and SIDECAR_NATS_PASSWORD_FILE must be set together'],
    [{ SIDECAR_UPSTREAM_CA_FILE: '/ca' }, 'SIDECAR_UPSTREAM_CA_FILE: needs a tls:// SIDECAR_UPSTREAM (TLS to NATS)'],
  ])('refuses %o', (env, message) => {
    expect(() => load({ SIDECAR_UPSTREAM: 'nats://n:4222/s', ...env })).toThrow(message);
  });

  it('refuses NATS credentials for an upstream that is not NATS', () => {
    expect(() => load({ SIDECAR_UPSTREAM: 'grpc://u:1', SIDECAR_NATS_NKEY_FILE: '/k' })).toThrow(
      'SIDECAR_NATS_NKEY_FILE: only applies to a nats:// or tls:// SIDECAR_UPSTREAM',
    );
  });

  it('refuses at start a credentials file that is not there, naming the setting', () => {
    const config = load({ SIDECAR_UPSTREAM: 'nats://127.0.0.1:1/s', SIDECAR_NATS_CREDS_FILE: '/nonexistent/x.creds' });
    expect(() => checkConfigFiles(config)).toThrow(/^SIDECAR_NATS_CREDS_FILE: cannot read \/nonexistent\/x\.creds/);
  });
});
