import { describe, expect, it } from 'vitest';
import { OVERRIDE_ANNOTATIONS, resolveSettings, wantsInjection } from '../../src/inject/annotations.js';
import { BUILTIN_DEFAULTS, parseCpu, parseMemory, SettingError } from '../../src/inject/settings.js';

describe('wantsInjection', () => {
  it.each([
    [{ 'telemetry-sidecar/inject': 'true' }, {}, true],
    [{ 'telemetry-sidecar/inject': 'True' }, {}, true],
    [{}, { 'telemetry-sidecar/inject': 'true' }, true],
    [{ 'telemetry-sidecar/inject': 'false' }, { 'telemetry-sidecar/inject': 'true' }, false],
    [{ 'telemetry-sidecar/inject': 'yes' }, {}, false],
    [{}, {}, false],
  ])('annotations %j, labels %j → %s', (annotations, labels, expected) => {
    expect(wantsInjection(annotations, labels)).toBe(expected);
  });
});

describe('resolveSettings', () => {
  it('covers every per-pod setting the issue names', () => {
    expect(OVERRIDE_ANNOTATIONS).toEqual(
      [
        'image',
        'mode',
        'cpu-request',
        'cpu-limit',
        'memory-request',
        'memory-limit',
        'upstream',
        'flush-interval',
        'log-level',
        'http-port',
        'grpc-port',
        'grpc-token-secret',
        'metrics-token-secret',
        'http-bind',
        'nats-creds-secret',
      ].map((k) => `telemetry-sidecar/${k}`),
    );
  });

  it('does not change the shared defaults', () => {
    const before = structuredClone(BUILTIN_DEFAULTS);
    resolveSettings(BUILTIN_DEFAULTS, { 'telemetry-sidecar/cpu-limit': '3', 'telemetry-sidecar/http-port': '1234' });
    expect(BUILTIN_DEFAULTS).toEqual(before);
  });

  it('reports unknown keys, including ones that are Object.prototype names', () => {
    const { unknown } = resolveSettings(BUILTIN_DEFAULTS, {
      'telemetry-sidecar/constructor': 'x',
      'telemetry-sidecar/imagee': 'x',
      'other/thing': 'x',
    });
    expect(unknown).toEqual(['telemetry-sidecar/constructor', 'telemetry-sidecar/imagee']);
  });

  it.each([
    ['telemetry-sidecar/mode', 'sidecar', 'must be "native" or "container"'],
    ['telemetry-sidecar/grpc-port', '0', 'must be a port number 1024-65535'],
    ['telemetry-sidecar/http-port', '80', 'must be a port number 1024-65535 (the sidecar runs as uid 1000'],
    ['telemetry-sidecar/upstream', 'http://x:1', 'must be file:PATH, stdout:, grpc://host:port'],
    ['telemetry-sidecar/flush-interval', '0s', 'must be greater than zero'],
    ['telemetry-sidecar/flush-interval', '30', 'must be a duration'],
    ['telemetry-sidecar/log-level', 'loud', 'must be one of'],
    ['telemetry-sidecar/cpu-limit', '1 core', 'must be a CPU quantity'],
    ['telemetry-sidecar/memory-limit', '1GB', 'must be a size such as 268435456, 64Mi or 1Gi'],
    ['telemetry-sidecar/image', 'a b', 'must be an image reference'],
    ['telemetry-sidecar/grpc-token-secret', 'My_Secret', 'must be a Secret name'],
    ['telemetry-sidecar/cpu-request', '2', 'request 2 exceeds limit 1'],
    ['telemetry-sidecar/http-port', '50151', 'must differ from the gRPC port 50151'],
  ])('rejects %s: %s naming the annotation', (name, value, message) => {
    const run = () => resolveSettings(BUILTIN_DEFAULTS, { [name]: value });
    expect(run).toThrow(SettingError);
    expect(run).toThrow(`${name}: ${message}`);
  });
});

describe('quantities', () => {
  it.each([
    ['100m', 100],
    ['1', 1000],
    ['1.5', 1500],
  ])('cpu %s is %d millicores', (q, m) => expect(parseCpu('x', q)).toBe(m));

  it.each([
    ['64Mi', 64 * 2 ** 20],
    ['1G', 1e9],
    ['1Gi', 2 ** 30],
    ['500000', 500000],
  ])('memory %s is %d bytes', (q, b) => expect(parseMemory('x', q)).toBe(b));

  it('compares 1Gi above 1G, as the API server does', () => {
    expect(() =>
      resolveSettings(BUILTIN_DEFAULTS, {
        'telemetry-sidecar/memory-request': '1Gi',
        'telemetry-sidecar/memory-limit': '1G',
      }),
    ).toThrow('exceeds limit');
  });
});
