import { copyFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REVIEWS_METRIC } from '../../src/inject/metrics.js';
import { LOG_DROPS_METRIC } from '../../src/observe/log-output.js';
import { BUILTIN_DEFAULTS } from '../../src/inject/settings.js';
import { makePki } from '../helpers/pki.js';
import { Scrape } from '../helpers/scrape.js';
import type { TestPki } from '../helpers/pki.js';
import { livekitPod, plainPod } from '../helpers/pods.js';
import { applyReviewPatch, envOf, podReview, startTestWebhook } from '../helpers/webhook.js';
import type { ContainerJson, PodJson, TestWebhook } from '../helpers/webhook.js';

/** What Prometheus 2.x/3.x sends. */
const PROMETHEUS_ACCEPT =
  'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

let pki: TestPki;
let hook: TestWebhook;

beforeAll(async () => {
  pki = makePki();
  hook = await startTestWebhook(pki, pki.issue('server'));
});

afterAll(async () => {
  await hook?.close();
  pki?.cleanup();
});

/** Sends the pod for review, checks the response echoes the uid, and returns the patched (validated) pod or null. */
async function admit(pod: PodJson, h: TestWebhook = hook): Promise<{ patched: PodJson | null; warnings: string[] }> {
  const { uid, body } = podReview(pod);
  const reply = await h.review(body);
  expect(reply.status).toBe(200);
  expect(reply.json.apiVersion).toBe('admission.k8s.io/v1');
  expect(reply.json.kind).toBe('AdmissionReview');
  const res = reply.json.response;
  expect(res?.uid).toBe(uid);
  expect(res?.allowed).toBe(true);
  if (res?.patch === undefined) return { patched: null, warnings: res?.warnings ?? [] };
  expect(res.patchType).toBe('JSONPatch');
  return { patched: applyReviewPatch(pod, res.patch), warnings: res.warnings ?? [] };
}

function sidecarIn(list: ContainerJson[] | undefined): ContainerJson {
  const c = list?.find((x) => x.name === 'telemetry-sidecar');
  if (!c) throw new Error('no telemetry-sidecar container');
  return c;
}

describe('injection', () => {
  it('injects a native sidecar into a pod annotated telemetry-sidecar/inject: "true"', async () => {
    const pod = plainPod({ annotations: { 'telemetry-sidecar/inject': 'true' } });
    const { patched } = await admit(pod);
    const c = sidecarIn(patched?.spec.initContainers);
    expect(patched?.spec.containers.map((x) => x.name)).toEqual(['sfu']);
    expect(c.restartPolicy).toBe('Always');
    expect(c.image).toBe(BUILTIN_DEFAULTS.image);
    expect(c.startupProbe).toEqual({
      exec: { command: ['test', '-e', '/data/.telemetry-sidecar-started'] },
      periodSeconds: 1,
      timeoutSeconds: 1,
      failureThreshold: 30,
    });
    expect(c.livenessProbe?.httpGet).toMatchObject({ path: '/healthz', port: 9464 });
    expect(c.readinessProbe).toBeUndefined();
    expect(c.ports).toEqual([{ name: 'sidecar-metrics', containerPort: 9464, protocol: 'TCP' }]);
    expect(c.resources).toEqual({ requests: { cpu: '50m', memory: '192Mi' }, limits: { cpu: '1', memory: '256Mi' } });
    expect(envOf(c)).toEqual({
      SIDECAR_NODE_ID: '<metadata.name>',
      POD_IP: '<status.podIP>',
      SIDECAR_GRPC_ADDR: '127.0.0.1:50151',
      SIDECAR_HTTP_ADDR: '[$(POD_IP)]:9464',
      SIDECAR_UPSTREAM: 'file:/data/analytics-stats.ndjson',
      SIDECAR_FILE_MAX_BYTES: String(96 * 1024 * 1024),
      SIDECAR_FILE_MAX_FILES: '3',
      LOG_LEVEL: 'info',
      SIDECAR_START_FAILURE: 'idle',
      SIDECAR_STARTED_FILE: '/data/.telemetry-sidecar-started',
    });
    expect(c.securityContext).toEqual({
      runAsNonRoot: true,
      runAsUser: 1000,
      runAsGroup: 1000,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(c.volumeMounts).toEqual([{ name: 'telemetry-sidecar-data', mountPath: '/data' }]);
    expect(patched?.spec.volumes).toEqual([{ name: 'telemetry-sidecar-data', emptyDir: { sizeLimit: '1Gi' } }]);
    expect(patched?.metadata.labels).toEqual({ 'telemetry-sidecar/injected': 'true' });
  });

  it('injects into a pod labelled telemetry-sidecar/inject: "true" that has no annotations', async () => {
    const pod = plainPod({ labels: { app: 'sfu', 'telemetry-sidecar/inject': 'true' } });
    const { patched } = await admit(pod);
    sidecarIn(patched?.spec.initContainers);
    expect(patched?.metadata.labels).toEqual({
      app: 'sfu',
      'telemetry-sidecar/inject': 'true',
      'telemetry-sidecar/injected': 'true',
    });
  });

  it('leaves a pod without the annotation or label alone', async () => {
    const before = await hook.metrics.count('skipped', 'not_requested');
    const { patched, warnings } = await admit(plainPod({ labels: { app: 'sfu' } }));
    expect(patched).toBeNull();
    expect(warnings).toEqual([]);
    expect(await hook.metrics.count('skipped', 'not_requested')).toBe(before + 1);
  });

  it('lets an explicit annotation "false" opt a labelled pod out', async () => {
    const pod = plainPod({
      labels: { 'telemetry-sidecar/inject': 'true' },
      annotations: { 'telemetry-sidecar/inject': 'false' },
    });
    expect((await admit(pod)).patched).toBeNull();
  });

  it('injects a host-network pod shaped like LiveKit’s chart, on the annotated http port', async () => {
    const pod = livekitPod({ 'telemetry-sidecar/inject': 'true', 'telemetry-sidecar/http-port': '9465' });
    const { patched } = await admit(pod);
    expect(patched?.spec.hostNetwork).toBe(true);
    expect(patched?.spec.terminationGracePeriodSeconds).toBe(18000);
    expect(patched?.spec.containers).toEqual(pod.spec.containers);
    const c = sidecarIn(patched?.spec.initContainers);
    expect(envOf(c).SIDECAR_HTTP_ADDR).toBe('[$(POD_IP)]:9465');
    expect(envOf(c).SIDECAR_GRPC_ADDR).toBe('127.0.0.1:50151');
    expect(c.ports?.[0]?.containerPort).toBe(9465);
    expect(c.livenessProbe?.httpGet?.port).toBe(9465);
    expect(patched?.metadata.labels?.['app.kubernetes.io/name']).toBe('livekit-server');
  });

  it('appends after the pod’s own init containers so they still run first', async () => {
    const pod = plainPod({ annotations: { 'telemetry-sidecar/inject': 'true' } });
    pod.spec.initContainers = [{ name: 'render-config', image: 'busybox:1' }];
    pod.spec.volumes = [{ name: 'config', emptyDir: {} }];
    const { patched } = await admit(pod);
    expect(patched?.spec.initContainers?.map((c) => c.name)).toEqual(['render-config', 'telemetry-sidecar']);
    expect(patched?.spec.volumes?.map((v) => v.name)).toEqual(['config', 'telemetry-sidecar-data']);
  });
});

describe('modes', () => {
  it('falls back to a plain container with telemetry-sidecar/mode: container', async () => {
    const pod = livekitPod({ 'telemetry-sidecar/inject': 'true', 'telemetry-sidecar/mode': 'container' });
    const { patched } = await admit(pod);
    expect(patched?.spec.initContainers).toBeUndefined();
    expect(patched?.spec.containers.map((c) => c.name)).toEqual(['livekit-server', 'telemetry-sidecar']);
    const c = sidecarIn(patched?.spec.containers);
    expect(c.restartPolicy).toBeUndefined();
    expect(c.startupProbe?.exec?.command).toEqual(['test', '-e', '/data/.telemetry-sidecar-started']);
  });

  it('uses the container fallback for every pod when the defaults say so, and native when a pod asks', async () => {
    const h = await startTestWebhook(pki, pki.issue('fallback'), { ...BUILTIN_DEFAULTS, mode: 'container' });
    try {
      const plain = await admit(plainPod({ annotations: { 'telemetry-sidecar/inject': 'true' } }), h);
      sidecarIn(plain.patched?.spec.containers);
      const native = await admit(
        plainPod({ annotations: { 'telemetry-sidecar/inject': 'true', 'telemetry-sidecar/mode': 'native' } }),
        h,
      );
      expect(sidecarIn(native.patched?.spec.initContainers).restartPolicy).toBe('Always');
    } finally {
      await h.close();
    }
  });
});

describe('the data volume', () => {
  const MiB = 2 ** 20;
  const spool = [{ name: 'SIDECAR_SPOOL_DIR', value: '/data/spool' }];

  it('injects the NDJSON files and a spool at its largest derived bound within 3/4 of the 1Gi volume', async () => {
    const h = await startTestWebhook(pki, pki.issue('disk-ok'), { ...BUILTIN_DEFAULTS, extraEnv: spool });
    try {
      // 4Gi: the sidecar derives the largest queue bound it ever does, 256 MiB
      const { patched } = await admit(
        livekitPod({ 'telemetry-sidecar/inject': 'true', 'telemetry-sidecar/memory-limit': '4Gi' }),
        h,
      );
      const env = envOf(sidecarIn(patched?.spec.initContainers));
      const files = Number(env.SIDECAR_FILE_MAX_BYTES) * (1 + Number(env.SIDECAR_FILE_MAX_FILES));
      expect(files).toBe(384 * MiB);
      expect(files + 256 * MiB + 16 * MiB + 8 * 1024).toBeLessThanOrEqual(768 * MiB);
      expect(patched?.spec.volumes?.[0]).toEqual({ name: 'telemetry-sidecar-data', emptyDir: { sizeLimit: '1Gi' } });
    } finally {
      await h.close();
    }
  });

  it('admits unchanged, with a warning, a pod whose sidecar could fill its data volume', async () => {
    const h = await startTestWebhook(pki, pki.issue('disk-full'), {
      ...BUILTIN_DEFAULTS,
      fileMaxBytes: 256 * MiB,
      extraEnv: spool,
    });
    try {
      const { patched, warnings } = await admit(livekitPod(), h);
      expect(patched).toBeNull();
      expect(warnings).toEqual([
        'telemetry-sidecar not injected: the sidecar could write 1024 MiB of NDJSON files + 32 MiB of spool + 16 MiB of quarantine + 8 KiB of state files = 1072.0 MiB to /data, more than 768 MiB (3/4 of dataSizeLimit 1Gi); the kubelet would evict the pod. Lower fileMaxBytes or SIDECAR_QUEUE_MAX_BYTES, or raise dataSizeLimit',
      ]);
      expect(await h.metrics.count('failed', 'disk_budget')).toBe(1);
      // A gRPC upstream writes no NDJSON files, so the same defaults fit.
      const grpc = await admit(
        livekitPod({ 'telemetry-sidecar/inject': 'true', 'telemetry-sidecar/upstream': 'grpc://a:1' }),
        h,
      );
      expect(sidecarIn(grpc.patched?.spec.initContainers).restartPolicy).toBe('Always');
    } finally {
      await h.close();
    }
  });

  it('counts the spool at the queue bound the pod’s memory limit derives: 512 MiB of files fit beside it at 256Mi, not at 2Gi', async () => {
    const h = await startTestWebhook(pki, pki.issue('disk-memory'), {
      ...BUILTIN_DEFAULTS,
      fileMaxBytes: 128 * MiB,
      extraEnv: spool,
    });
    try {
      // 256Mi: a 32 MiB queue, 512 + 32 + 16 MiB fit in 768 MiB
      expect(sidecarIn((await admit(livekitPod(), h)).patched?.spec.initContainers).restartPolicy).toBe('Always');
      // 2Gi: a 256 MiB queue, 512 + 256 + 16 MiB do not
      const big = await admit(
        livekitPod({ 'telemetry-sidecar/inject': 'true', 'telemetry-sidecar/memory-limit': '2Gi' }),
        h,
      );
      expect(big.patched).toBeNull();
      expect(big.warnings[0]).toContain('512 MiB of NDJSON files + 256 MiB of spool + 16 MiB of quarantine');
    } finally {
      await h.close();
    }
  });
});

describe('idempotence', () => {
  it('does not patch a pod it already injected (sidecar in initContainers)', async () => {
    const first = await admit(livekitPod());
    expect(sidecarIn(first.patched?.spec.initContainers).restartPolicy).toBe('Always');
    const before = await hook.metrics.count('skipped', 'already_injected');
    const second = await admit(first.patched as PodJson);
    expect(second.patched).toBeNull();
    expect(await hook.metrics.count('skipped', 'already_injected')).toBe(before + 1);
  });

  it('does not patch a pod whose containers already include the sidecar', async () => {
    const pod = livekitPod();
    pod.spec.containers.push({ name: 'telemetry-sidecar', image: 'telemetry-sidecar:0.1.0' });
    expect((await admit(pod)).patched).toBeNull();
  });
});

describe('override annotations', () => {
  const cases: [string, string, (c: ContainerJson) => unknown, unknown][] = [
    ['image', 'registry.example/telemetry-sidecar:9.9.9', (c) => c.image, 'registry.example/telemetry-sidecar:9.9.9'],
    ['cpu-request', '100m', (c) => c.resources?.requests?.cpu, '100m'],
    ['cpu-limit', '2', (c) => c.resources?.limits?.cpu, '2'],
    ['memory-request', '128Mi', (c) => c.resources?.requests?.memory, '128Mi'],
    ['memory-limit', '1Gi', (c) => c.resources?.limits?.memory, '1Gi'],
    ['upstream', 'grpcs://analytics.example:443', (c) => envOf(c).SIDECAR_UPSTREAM, 'grpcs://analytics.example:443'],
    ['flush-interval', '10s', (c) => envOf(c).SIDECAR_FLUSH_INTERVAL, '10s'],
    ['log-level', 'debug', (c) => envOf(c).LOG_LEVEL, 'debug'],
    [
      'http-port',
      '19464',
      (c) => [envOf(c).SIDECAR_HTTP_ADDR, c.ports?.[0]?.containerPort],
      ['[$(POD_IP)]:19464', 19464],
    ],
    ['http-bind', 'all', (c) => [envOf(c).SIDECAR_HTTP_ADDR, envOf(c).POD_IP], ['0.0.0.0:9464', undefined]],
    [
      'upstream',
      'stdout:',
      (c) => [envOf(c).SIDECAR_UPSTREAM, envOf(c).SIDECAR_FILE_MAX_BYTES],
      ['stdout:', undefined],
    ],
    ['grpc-port', '50200', (c) => envOf(c).SIDECAR_GRPC_ADDR, '127.0.0.1:50200'],
  ];

  it.each(cases)('telemetry-sidecar/%s: %s', async (key, value, read, expected) => {
    const pod = livekitPod({ 'telemetry-sidecar/inject': 'true', [`telemetry-sidecar/${key}`]: value });
    const { patched, warnings } = await admit(pod);
    expect(warnings).toEqual([]);
    expect(read(sidecarIn(patched?.spec.initContainers))).toEqual(expected);
  });

  it('telemetry-sidecar/grpc-token-secret mounts the Secret and points SIDECAR_GRPC_TOKEN_FILE at it', async () => {
    const pod = livekitPod({
      'telemetry-sidecar/inject': 'true',
      'telemetry-sidecar/grpc-token-secret': 'sfu-grpc-token',
    });
    const { patched } = await admit(pod);
    const c = sidecarIn(patched?.spec.initContainers);
    expect(envOf(c).SIDECAR_GRPC_TOKEN_FILE).toBe('/var/run/secrets/telemetry-sidecar/token');
    expect(c.volumeMounts).toContainEqual({
      name: 'telemetry-sidecar-grpc-token',
      mountPath: '/var/run/secrets/telemetry-sidecar',
      readOnly: true,
    });
    expect(patched?.spec.volumes).toContainEqual({
      name: 'telemetry-sidecar-grpc-token',
      // Optional: a missing Secret must not keep the pod's volumes, and so the SFU, from mounting.
      secret: { secretName: 'sfu-grpc-token', items: [{ key: 'token', path: 'token' }], optional: true },
    });
  });

  it('telemetry-sidecar/metrics-token-secret mounts the Secret and points SIDECAR_METRICS_TOKEN_FILE at it', async () => {
    const pod = livekitPod({
      'telemetry-sidecar/inject': 'true',
      'telemetry-sidecar/metrics-token-secret': 'scrape-token',
    });
    const { patched } = await admit(pod);
    const c = sidecarIn(patched?.spec.initContainers);
    expect(envOf(c).SIDECAR_METRICS_TOKEN_FILE).toBe('/var/run/secrets/telemetry-sidecar-metrics/token');
    expect(envOf(c).SIDECAR_GRPC_TOKEN_FILE).toBeUndefined();
    expect(c.volumeMounts).toContainEqual({
      name: 'telemetry-sidecar-metrics-token',
      mountPath: '/var/run/secrets/telemetry-sidecar-metrics',
      readOnly: true,
    });
    expect(patched?.spec.volumes).toContainEqual({
      name: 'telemetry-sidecar-metrics-token',
      secret: { secretName: 'scrape-token', items: [{ key: 'token', path: 'token' }], optional: true },
    });
  });

  it('admits the pod unchanged, with a warning, when an override is invalid', async () => {
    const before = await hook.metrics.count('failed', 'invalid_annotation');
    const pod = livekitPod({ 'telemetry-sidecar/inject': 'true', 'telemetry-sidecar/http-port': 'ninety' });
    const { patched, warnings } = await admit(pod);
    expect(patched).toBeNull();
    expect(warnings).toEqual([expect.stringContaining('telemetry-sidecar/http-port: must be a port number')]);
    expect(await hook.metrics.count('failed', 'invalid_annotation')).toBe(before + 1);
    expect(hook.logs.some((l) => l.level === 'warn' && l.msg.includes('telemetry-sidecar/http-port'))).toBe(true);
  });

  it('refuses a request above its limit, which the API server would reject the whole pod for', async () => {
    const pod = livekitPod({ 'telemetry-sidecar/inject': 'true', 'telemetry-sidecar/memory-request': '2Gi' });
    const { patched, warnings } = await admit(pod);
    expect(patched).toBeNull();
    expect(warnings[0]).toContain('telemetry-sidecar/memory-request: request 2Gi exceeds limit 256Mi');
  });

  it('refuses a port the SFU already uses (host network: the ports are the node’s)', async () => {
    const before = await hook.metrics.count('failed', 'port_conflict');
    const pod = livekitPod({ 'telemetry-sidecar/inject': 'true', 'telemetry-sidecar/http-port': '7880' });
    const { patched, warnings } = await admit(pod);
    expect(patched).toBeNull();
    expect(warnings[0]).toContain('container livekit-server already uses port 7880');
    expect(await hook.metrics.count('failed', 'port_conflict')).toBe(before + 1);
  });

  it('injects on a TCP port equal to one of the SFU’s UDP ports (LiveKit’s 7882/UDP)', async () => {
    const pod = livekitPod({ 'telemetry-sidecar/inject': 'true', 'telemetry-sidecar/http-port': '7882' });
    expect(pod.spec.containers[0]?.ports).toContainEqual(
      expect.objectContaining({ containerPort: 7882, protocol: 'UDP' }),
    );
    const { patched, warnings } = await admit(pod);
    expect(warnings).toEqual([]);
    expect(sidecarIn(patched?.spec.initContainers).ports).toEqual([
      { name: 'sidecar-metrics', containerPort: 7882, protocol: 'TCP' },
    ]);
  });

  it('still refuses a TCP port the SFU declares without a protocol (TCP by default)', async () => {
    const pod = plainPod({
      annotations: { 'telemetry-sidecar/inject': 'true', 'telemetry-sidecar/grpc-port': '8080' },
    });
    pod.spec.containers[0]!.ports = [{ containerPort: 8080 }];
    const { patched, warnings } = await admit(pod);
    expect(patched).toBeNull();
    expect(warnings[0]).toContain('container sfu already uses port 8080');
  });

  it('injects anyway but warns about an unknown telemetry-sidecar/ annotation', async () => {
    const pod = livekitPod({
      'telemetry-sidecar/inject': 'true',
      'telemetry-sidecar/HTTP_port': '9999',
      'telemetry-sidecar/colour': 'blue',
    });
    const { patched, warnings } = await admit(pod);
    expect(envOf(sidecarIn(patched?.spec.initContainers)).SIDECAR_HTTP_ADDR).toBe('[$(POD_IP)]:9464');
    expect(warnings).toEqual([
      'telemetry-sidecar: unknown annotation telemetry-sidecar/HTTP_port ignored (did you mean telemetry-sidecar/http-port?)',
      'telemetry-sidecar: unknown annotation telemetry-sidecar/colour ignored',
    ]);
  });
});

describe('system namespaces', () => {
  it.each(['kube-system', 'kube-public'])('never injects into %s, even for an opted-in pod', async (namespace) => {
    const before = await hook.metrics.count('skipped', 'system_namespace');
    const { uid, body } = podReview(livekitPod(), namespace);
    const reply = await hook.review(body);
    expect(reply.json.response).toEqual({ uid, allowed: true });
    expect(await hook.metrics.count('skipped', 'system_namespace')).toBe(before + 1);
  });
});

describe('malformed reviews', () => {
  it('answers 415 to a body that is not application/json, and takes JSON with a charset', async () => {
    const { body } = podReview(livekitPod());
    const before = await hook.metrics.count('malformed', 'bad_content_type');
    const yaml = await hook.send('POST', '/mutate', JSON.stringify(body), { 'content-type': 'application/yaml' });
    expect(yaml.status).toBe(415);
    expect(JSON.parse(yaml.text)).toEqual({ error: 'content-type must be application/json, got application/yaml' });
    expect(await hook.metrics.count('malformed', 'bad_content_type')).toBe(before + 1);
    const json = await hook.send('POST', '/mutate', JSON.stringify(body), {
      'content-type': 'Application/JSON; charset=utf-8',
    });
    expect(json.status).toBe(200);
  });

  it('answers a body that is not JSON with 400 and a clear error', async () => {
    const reply = await hook.review('{"apiVersion": ');
    expect(reply.status).toBe(400);
    expect(reply.json.error).toMatch(/^request body is not JSON: /);
    expect(await hook.metrics.count('malformed', 'bad_json')).toBeGreaterThan(0);
  });

  it('answers a review without a request with 400', async () => {
    const reply = await hook.review({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' });
    expect(reply.status).toBe(400);
    expect(reply.json.error).toBe('AdmissionReview has no request');
  });

  it('answers a request without a uid with 400', async () => {
    const { body } = podReview(livekitPod());
    delete (body as { request: { uid?: string } }).request.uid;
    const reply = await hook.review(body);
    expect(reply.status).toBe(400);
    expect(reply.json.error).toBe('AdmissionReview request has no uid');
  });

  it.each([
    ['a wrong kind', { apiVersion: 'admission.k8s.io/v1', kind: 'ConversionReview', request: { uid: 'x' } }],
    ['the v1beta1 API', { apiVersion: 'admission.k8s.io/v1beta1', kind: 'AdmissionReview', request: { uid: 'x' } }],
    ['a JSON array', []],
  ])('answers %s with 400 naming what was expected', async (_name, body) => {
    const reply = await hook.review(body);
    expect(reply.status).toBe(400);
    expect(reply.json.error).toMatch(/^expected apiVersion admission\.k8s\.io\/v1 kind AdmissionReview, got /);
  });

  it('admits anything that is not a Pod CREATE unchanged', async () => {
    const { uid, body } = podReview(livekitPod());
    const request = (body as { request: Record<string, unknown> }).request;
    request.kind = { group: '', version: 'v1', kind: 'Service' };
    const reply = await hook.review(body);
    expect(reply.status).toBe(200);
    expect(reply.json.response).toEqual({ uid, allowed: true });
  });

  it('admits an opted-in pod it cannot read unchanged, and counts it', async () => {
    const before = await hook.metrics.count('failed', 'bad_object');
    const { uid, body } = podReview({ metadata: { annotations: { 'telemetry-sidecar/inject': 'true' } }, spec: {} });
    const reply = await hook.review(body);
    expect(reply.json.response).toEqual({
      uid,
      allowed: true,
      warnings: ['telemetry-sidecar not injected: spec.containers is empty'],
    });
    expect(await hook.metrics.count('failed', 'bad_object')).toBe(before + 1);
  });

  it('rejects other methods and paths, and keeps serving afterwards', async () => {
    expect((await hook.send('GET', '/mutate')).status).toBe(405);
    expect((await hook.send('GET', '/nope')).status).toBe(404);
    expect((await hook.send('GET', '/healthz')).status).toBe(200);
    expect(sidecarIn((await admit(livekitPod())).patched?.spec.initContainers).restartPolicy).toBe('Always');
  });
});

describe('operations', () => {
  it('serves its counters and the process metrics on /metrics, as Prometheus text by default', async () => {
    await admit(livekitPod());
    const reply = await hook.send('GET', '/metrics');
    expect(reply.status).toBe(200);
    expect(reply.contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
    const scrape = new Scrape(reply.text);
    expect(scrape.value(REVIEWS_METRIC, { result: 'injected', reason: 'injected' })).toBeGreaterThan(0);
    expect(scrape.value(LOG_DROPS_METRIC)).toBe(0);
    expect(scrape.value('process_cpu_seconds_total')).toBeGreaterThan(0);
    expect(scrape.value('nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
  });

  it('serves OpenMetrics to a scraper that prefers it', async () => {
    const reply = await hook.send('GET', '/metrics', undefined, { accept: PROMETHEUS_ACCEPT });
    expect(reply.contentType).toBe('application/openmetrics-text; version=1.0.0; charset=utf-8');
    expect(reply.text).toContain('# TYPE telemetry_sidecar_inject_reviews counter');
    expect(reply.text.trimEnd().endsWith('# EOF')).toBe(true);
  });

  it('serves a rotated certificate after reloadCertificates()', async () => {
    const files = pki.issue('rotating');
    const h = await startTestWebhook(pki, files);
    try {
      expect((await h.send('GET', '/healthz')).serial).toBe(files.serial);
      expect(await h.server.reloadCertificates()).toBe(false);
      const next = pki.issue('next');
      copyFileSync(next.certFile, files.certFile);
      copyFileSync(next.keyFile, files.keyFile);
      expect(await h.server.reloadCertificates()).toBe(true);
      expect((await h.send('GET', '/healthz')).serial).toBe(next.serial);
    } finally {
      await h.close();
    }
  });
});
