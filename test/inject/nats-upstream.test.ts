/** Injection for a NATS upstream: the annotation takes nats:// and tls://, and a Secret provides the .creds file. */
import { describe, expect, it } from 'vitest';
import { resolveSettings } from '../../src/inject/annotations.js';
import { renderSidecarContainer, renderSidecarVolumes } from '../../src/inject/sidecar-container.js';
import { BUILTIN_DEFAULTS, parseDefaults } from '../../src/inject/settings.js';
import { loadConfig } from '../../src/config.js';
import { SettingError } from '../../src/settings/index.js';
import { kubeletEnv } from '../helpers/kubelet-env.js';

function refusal(run: () => unknown): SettingError {
  try {
    run();
  } catch (err) {
    if (err instanceof SettingError) return err;
    throw err;
  }
  throw new Error('accepted');
}

describe('NATS upstream injection', () => {
  it.each(['nats://nats.infra:4222/livekit.stats', 'tls://nats-0:4222,nats-1:4222/livekit.stats'])(
    'accepts telemetry-sidecar/upstream: %s, which the sidecar parses too',
    (upstream) => {
      const { settings } = resolveSettings(BUILTIN_DEFAULTS, { 'telemetry-sidecar/upstream': upstream });
      const env = kubeletEnv(renderSidecarContainer(settings).env);
      expect(env.SIDECAR_UPSTREAM).toBe(upstream);
      expect(loadConfig({ env, argv: [], memoryLimitBytes: () => undefined }).upstream.kind).toBe('nats');
    },
  );

  it.each(['nats://u:p@nats:4222/s', 'nats://nats:4222/lk.>', 'nats://nats:4222'])(
    'refuses %s with the words of the sidecar itself',
    (upstream) => {
      const sidecar = refusal(() => loadConfig({ env: { SIDECAR_UPSTREAM: upstream }, argv: [] }));
      const webhook = refusal(() => resolveSettings(BUILTIN_DEFAULTS, { 'telemetry-sidecar/upstream': upstream }));
      expect(webhook).toBeInstanceOf(SettingError);
      expect(webhook.problem).toBe(sidecar.problem);
    },
  );

  it('mounts the Secret named by telemetry-sidecar/nats-creds-secret and points SIDECAR_NATS_CREDS_FILE at it', () => {
    const { settings } = resolveSettings(BUILTIN_DEFAULTS, {
      'telemetry-sidecar/upstream': 'nats://nats:4222/livekit.stats',
      'telemetry-sidecar/nats-creds-secret': 'sfu-nats-creds',
    });
    const c = renderSidecarContainer(settings);
    expect(c.env).toContainEqual({
      name: 'SIDECAR_NATS_CREDS_FILE',
      value: '/var/run/secrets/telemetry-sidecar-nats/nats.creds',
    });
    expect(c.volumeMounts).toContainEqual({
      name: 'telemetry-sidecar-nats-creds',
      mountPath: '/var/run/secrets/telemetry-sidecar-nats',
      readOnly: true,
    });
    expect(renderSidecarVolumes(settings)).toContainEqual({
      name: 'telemetry-sidecar-nats-creds',
      secret: { secretName: 'sfu-nats-creds', items: [{ key: 'nats.creds', path: 'nats.creds' }], optional: true },
    });
    expect(() => resolveSettings(BUILTIN_DEFAULTS, { 'telemetry-sidecar/nats-creds-secret': 'Bad_Name' })).toThrow(
      'must be a Secret name',
    );
  });

  it('takes natsCredsSecret from the defaults file; none by default', () => {
    expect(renderSidecarVolumes(BUILTIN_DEFAULTS)).toHaveLength(1);
    expect(parseDefaults({ natsCredsSecret: 'fleet-nats' }, 'defaults.yaml').natsCredsSecret).toBe('fleet-nats');
  });
});
