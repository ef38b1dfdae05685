/**
 * The chart as Helm renders it: real helm v3.17 (test/helpers/helm.ts) over a
 * matrix of values and Kubernetes versions, every rendered object validated
 * against its schema, plus a parent chart that depends on ours.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { celEnv, parse, plan } from '@bufbuild/cel';
import { strings } from '@bufbuild/cel/ext';
import { Certificate, Issuer } from '@kubernetes-models/cert-manager/cert-manager.io/v1';
import { PodMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { Ajv } from 'ajv';
import fc from 'fast-check';
import { MutatingWebhookConfiguration } from 'kubernetes-models/admissionregistration.k8s.io/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Pod, Secret, Service, ServiceAccount } from 'kubernetes-models/v1';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, parseAllDocuments, stringify } from 'yaml';
import { wantsInjection } from '../../src/inject/annotations.js';
import { BUILTIN_DEFAULTS, parseDefaults } from '../../src/inject/settings.js';
import type { SidecarSettings } from '../../src/inject/settings.js';
import { renderSidecarContainer, renderSidecarVolumes } from '../../src/inject/sidecar-container.js';
import { upstream } from '../../src/settings/index.js';
import { helm, helmBinary, pool } from '../helpers/helm.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CHART = join(ROOT, 'helm/telemetry-sidecar');
const LIB = join(ROOT, 'helm/telemetry-sidecar-lib');
const KUBE_VERSIONS = ['1.28.0', '1.29.0', '1.30.0', '1.31.0', '1.32.0'];
/** Helm's longest release name (53); without the chart's name in it, so names get the chart's name appended. */
const LONG_RELEASE = 'livekit-media-production-europe-west1-cluster-blue-01';
const NATS_UPSTREAM = 'nats://nats-0.nats:4222,nats-1.nats:4222/livekit.analytics';

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}

type Validate = (o: K8sObject) => void;
const model =
  <T>(M: new (o: never) => T & { validate(): void }): Validate =>
  (o) =>
    new M(o as never).validate();
/** Every kind the chart may render; an unknown one fails the test. */
const MODELS: Record<string, Validate> = {
  'v1/ServiceAccount': model(ServiceAccount),
  'v1/Service': model(Service),
  'v1/ConfigMap': model(ConfigMap),
  'v1/Secret': model(Secret),
  'v1/Pod': model(Pod),
  'apps/v1/Deployment': model(Deployment),
  'policy/v1/PodDisruptionBudget': model(PodDisruptionBudget),
  'admissionregistration.k8s.io/v1/MutatingWebhookConfiguration': model(MutatingWebhookConfiguration),
  'cert-manager.io/v1/Issuer': model(Issuer),
  'cert-manager.io/v1/Certificate': model(Certificate),
  'monitoring.coreos.com/v1/PodMonitor': model(PodMonitor),
};

const DNS_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Parses helm's output and holds every object to its schema and Kubernetes' name rules. */
function checkObjects(yamlText: string): K8sObject[] {
  const objects = parseAllDocuments(yamlText)
    .map((d) => d.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null);
  for (const o of objects) {
    const key = `${o.apiVersion}/${o.kind}`;
    const validate = MODELS[key];
    if (!validate) throw new Error(`no schema for ${key}`);
    expect(() => validate(o), `${key} ${o.metadata.name}`).not.toThrow();
    expect(o.metadata.name.length, o.metadata.name).toBeLessThanOrEqual(253);
    expect(o.metadata.name).toMatch(DNS_SUBDOMAIN);
    if (o.kind === 'Service') {
      expect(o.metadata.name.length, `Service ${o.metadata.name}`).toBeLessThanOrEqual(63);
      expect(o.metadata.name).toMatch(DNS_LABEL);
    }
    for (const v of Object.values(o.metadata.labels ?? {})) expect(v.length).toBeLessThanOrEqual(63);
  }
  return objects;
}

interface Cell {
  name: string;
  release?: string;
  kubeVersion?: string;
  set?: string[];
  values?: object;
}

const CELLS: Cell[] = [
  ...KUBE_VERSIONS.map((v) => ({ name: `defaults on Kubernetes ${v}`, kubeVersion: v })),
  { name: 'cert-manager', set: ['webhook.tls.certManager.enabled=true'] },
  {
    name: 'cert-manager with an issuer of yours',
    set: ['webhook.tls.certManager.enabled=true', 'webhook.tls.certManager.issuerRef.name=corp-ca'],
    values: { webhook: { tls: { certManager: { issuerRef: { kind: 'ClusterIssuer', group: 'cert-manager.io' } } } } },
  },
  { name: 'one replica', set: ['webhook.replicaCount=1'] },
  { name: 'three replicas', set: ['webhook.replicaCount=3'] },
  {
    name: 'custom selectors',
    values: {
      webhook: {
        objectSelector: { matchLabels: { sfu: 'livekit' }, matchExpressions: [{ key: 'tier', operator: 'Exists' }] },
        namespaceSelector: { matchLabels: { media: 'true' } },
        excludeNamespaces: ['staging'],
      },
    },
  },
  {
    name: 'PodMonitors with the metrics token',
    values: {
      podMonitor: { enabled: true, labels: { release: 'prom' }, tokenSecret: { name: 'sidecar-metrics-token' } },
      sidecar: { metricsTokenSecret: 'sidecar-metrics-token' },
      webhook: { podMonitor: { enabled: true } },
    },
  },
  { name: 'container mode', set: ['sidecar.mode=container'] },
  {
    name: 'a NATS upstream with a credentials Secret',
    values: { sidecar: { upstream: NATS_UPSTREAM, natsCredsSecret: 'sfu-nats-creds' } },
  },
  { name: 'a 53-character release name', release: LONG_RELEASE, set: ['webhook.tls.certManager.enabled=true'] },
  { name: 'a 53-character release name, generated TLS', release: LONG_RELEASE },
];

let work: string;
const rendered = new Map<string, K8sObject[]>();

async function template(cell: Cell): Promise<K8sObject[]> {
  const args = ['template', cell.release ?? 'telemetry-sidecar', CHART, '--namespace', 'telemetry'];
  args.push('--kube-version', cell.kubeVersion ?? '1.30.0');
  for (const s of cell.set ?? []) args.push('--set', s);
  if (cell.values) {
    const file = join(work, `${cell.name.replace(/\W+/g, '-')}.yaml`);
    writeFileSync(file, stringify(cell.values));
    args.push('--values', file);
  }
  return checkObjects((await helm(args)).stdout);
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'chart-test-'));
  await helmBinary();
  // One helm per cell, a few at a time: each generates RSA keys.
  const results = await pool(
    4,
    CELLS.map((c) => () => template(c)),
  );
  CELLS.forEach((c, i) => rendered.set(c.name, results[i]!));
}, 120_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

const objectsOf = (cell: string): K8sObject[] => {
  const objects = rendered.get(cell);
  if (!objects) throw new Error(`no cell ${cell}`);
  return objects;
};
const find = (objects: K8sObject[], kind: string, name?: string): K8sObject[] =>
  objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
const one = (objects: K8sObject[], kind: string, name?: string): K8sObject => {
  const found = find(objects, kind, name);
  expect(found, `${kind} ${name ?? ''}`).toHaveLength(1);
  return found[0]!;
};

interface WebhookJson {
  name: string;
  failurePolicy: string;
  sideEffects: string;
  timeoutSeconds: number;
  reinvocationPolicy: string;
  matchConditions?: { name: string; expression: string }[];
  namespaceSelector: { matchLabels?: Record<string, string>; matchExpressions: { key: string; values?: string[] }[] };
  objectSelector: { matchLabels?: Record<string, string>; matchExpressions: { key: string; operator: string }[] };
  clientConfig: { caBundle?: string; service: { name: string; path: string } };
}
const webhookOf = (objects: K8sObject[]): WebhookJson =>
  (one(objects, 'MutatingWebhookConfiguration') as unknown as { webhooks: WebhookJson[] }).webhooks[0]!;

const defaultsFileOf = (objects: K8sObject[]): SidecarSettings => {
  const cm = one(objects, 'ConfigMap') as unknown as { data: Record<string, string> };
  return parseDefaults(parseYaml(cm.data['sidecar-defaults.yaml'] ?? ''), 'configmap');
};

describe('helm lint --strict', () => {
  it.each([
    ['the webhook chart', CHART],
    ['the library chart', LIB],
  ])('passes for %s', async (_name, dir) => {
    const { stdout } = await helm(['lint', '--strict', dir]);
    expect(stdout).toContain('1 chart(s) linted, 0 chart(s) failed');
    expect(stdout).not.toMatch(/\[(WARNING|ERROR)\]/);
  });
});

describe('helm template over the values matrix', () => {
  it.each(CELLS.map((c) => c.name))('%s: every object valid against its schema', (name) => {
    expect(objectsOf(name).length).toBeGreaterThan(5);
  });

  it.each(KUBE_VERSIONS)('configures the webhook as the contract says on Kubernetes %s', (v) => {
    const objects = objectsOf(`defaults on Kubernetes ${v}`);
    const hook = webhookOf(objects);
    expect(hook).toMatchObject({
      failurePolicy: 'Ignore',
      sideEffects: 'None',
      reinvocationPolicy: 'Never',
      timeoutSeconds: 5,
    });
    expect(hook.clientConfig.service).toMatchObject({ name: 'telemetry-sidecar-webhook', path: '/mutate' });
    expect(hook.namespaceSelector.matchExpressions[0]).toMatchObject({
      key: 'kubernetes.io/metadata.name',
      values: ['kube-system', 'kube-public'],
    });
    expect(hook.objectSelector.matchExpressions).toEqual([
      { key: 'telemetry-sidecar/webhook', operator: 'DoesNotExist' },
    ]);
    expect(hook.matchConditions?.map((c) => c.name)).toEqual(['opted-in']);
    const pods = (one(objects, 'Deployment') as unknown as { spec: { template: { metadata: { labels: object } } } })
      .spec.template.metadata.labels;
    expect(pods).toMatchObject({ 'telemetry-sidecar/webhook': 'true' });
    // The generated CA signs the served certificate, and the webhook trusts that CA.
    const secret = one(objects, 'Secret') as unknown as { data: Record<string, string> };
    expect(hook.clientConfig.caBundle).toBe(secret.data['ca.crt']);
    expect(defaultsFileOf(objects).mode).toBe(v === '1.28.0' ? 'container' : 'native');
  });

  it('renders values.sidecar into a defaults file the webhook accepts, equal to its built-in defaults', () => {
    const parsed = defaultsFileOf(objectsOf('defaults on Kubernetes 1.30.0'));
    expect(parsed.image).toBe('telemetry-sidecar:0.1.0');
    expect({ ...parsed, image: BUILTIN_DEFAULTS.image }).toEqual(BUILTIN_DEFAULTS);
    expect(defaultsFileOf(objectsOf('container mode')).mode).toBe('container');
  });

  it('passes a NATS upstream and its credentials Secret on to the webhook’s defaults file', () => {
    const parsed = defaultsFileOf(objectsOf('a NATS upstream with a credentials Secret'));
    expect(parsed).toMatchObject({ upstream: NATS_UPSTREAM, natsCredsSecret: 'sfu-nats-creds' });
  });

  it('spreads the webhook replicas over nodes and zones, selecting its own pods', () => {
    for (const cell of ['three replicas', 'defaults on Kubernetes 1.30.0']) {
      const spec = (one(objectsOf(cell), 'Deployment') as unknown as { spec: DeploymentSpec }).spec;
      const constraints = spec.template.spec.topologySpreadConstraints ?? [];
      expect(constraints.map((c) => c.topologyKey)).toEqual(['kubernetes.io/hostname', 'topology.kubernetes.io/zone']);
      for (const c of constraints) {
        expect(c).toMatchObject({ maxSkew: 1, whenUnsatisfiable: 'ScheduleAnyway' });
        expect(spec.template.metadata.labels).toMatchObject(c.labelSelector.matchLabels);
      }
    }
  });

  it('has a PodDisruptionBudget with several replicas and none with one (it would block drains)', () => {
    expect(find(objectsOf('one replica'), 'PodDisruptionBudget')).toHaveLength(0);
    expect(one(objectsOf('three replicas'), 'PodDisruptionBudget')).toMatchObject({ spec: { minAvailable: 1 } });
  });

  it('chains cert-manager issuers: self-signed → CA certificate → CA issuer → serving certificate', () => {
    const objects = objectsOf('cert-manager');
    expect(find(objects, 'Secret')).toHaveLength(0);
    const issuers = find(objects, 'Issuer') as unknown as { metadata: { name: string }; spec: object }[];
    const certs = find(objects, 'Certificate') as unknown as {
      metadata: { name: string };
      spec: { isCA?: boolean; secretName: string; issuerRef: { name: string; kind: string }; dnsNames?: string[] };
    }[];
    const selfSigned = issuers.find((i) => 'selfSigned' in i.spec);
    const ca = certs.find((c) => c.spec.isCA === true);
    const caIssuer = issuers.find((i) => 'ca' in i.spec) as {
      metadata: { name: string };
      spec: { ca: { secretName: string } };
    };
    const serving = certs.find((c) => c.spec.isCA !== true);
    expect(ca?.spec.issuerRef).toMatchObject({ name: selfSigned?.metadata.name, kind: 'Issuer' });
    expect(caIssuer.spec.ca.secretName).toBe(ca?.spec.secretName);
    expect(serving?.spec.issuerRef).toMatchObject({ name: caIssuer.metadata.name, kind: 'Issuer' });
    expect(serving?.spec.dnsNames).toContain('telemetry-sidecar-webhook.telemetry.svc');
    const config = one(objects, 'MutatingWebhookConfiguration');
    expect(config.metadata.annotations?.['cert-manager.io/inject-ca-from']).toBe(`telemetry/${serving?.metadata.name}`);
    expect(webhookOf(objects).clientConfig.caBundle).toBeUndefined();
  });

  it('uses your issuer for the serving certificate and creates none of its own', () => {
    const objects = objectsOf('cert-manager with an issuer of yours');
    expect(find(objects, 'Issuer')).toHaveLength(0);
    expect(one(objects, 'Certificate')).toMatchObject({
      spec: { issuerRef: { name: 'corp-ca', kind: 'ClusterIssuer', group: 'cert-manager.io' } },
    });
  });

  it('keeps every name valid with a 53-character release name', () => {
    expect(LONG_RELEASE).toHaveLength(53);
    for (const cell of ['a 53-character release name', 'a 53-character release name, generated TLS']) {
      const objects = objectsOf(cell);
      const service = one(objects, 'Service');
      expect(service.metadata.name).toMatch(/-webhook$/);
      expect(webhookOf(objects).clientConfig.service.name).toBe(service.metadata.name);
    }
  });

  it('ANDs custom selectors with the chart’s own exclusions', () => {
    const hook = webhookOf(objectsOf('custom selectors'));
    expect(hook.objectSelector).toEqual({
      matchLabels: { sfu: 'livekit' },
      matchExpressions: [
        { key: 'telemetry-sidecar/webhook', operator: 'DoesNotExist' },
        { key: 'tier', operator: 'Exists' },
      ],
    });
    expect(hook.namespaceSelector.matchLabels).toEqual({ media: 'true' });
    expect(hook.namespaceSelector.matchExpressions[0]?.values).toEqual(['kube-system', 'kube-public', 'staging']);
  });

  it('scrapes the sidecars with the bearer token from a Secret, and the webhook over verified HTTPS', () => {
    const objects = objectsOf('PodMonitors with the metrics token');
    const [sidecars, webhook] = find(objects, 'PodMonitor') as unknown as { spec: { podMetricsEndpoints: object[] } }[];
    expect(sidecars?.spec.podMetricsEndpoints[0]).toMatchObject({
      port: 'sidecar-metrics',
      authorization: { type: 'Bearer', credentials: { name: 'sidecar-metrics-token', key: 'token' } },
    });
    expect(webhook?.spec.podMetricsEndpoints[0]).toMatchObject({
      port: 'https',
      scheme: 'https',
      tlsConfig: {
        serverName: 'telemetry-sidecar-webhook.telemetry.svc',
        ca: { secret: { name: 'telemetry-sidecar-webhook-tls', key: 'ca.crt' } },
      },
    });
    expect(defaultsFileOf(objects).metricsTokenSecret).toBe('sidecar-metrics-token');
  });
});

interface DeploymentSpec {
  template: {
    metadata: { labels: Record<string, string> };
    spec: {
      topologySpreadConstraints?: {
        topologyKey: string;
        maxSkew: number;
        whenUnsatisfiable: string;
        labelSelector: { matchLabels: Record<string, string> };
      }[];
      initContainers?: unknown[];
      containers: unknown[];
      volumes?: unknown[];
    };
  };
}

describe('the matchConditions CEL expression', () => {
  it('opts a pod in exactly when the webhook itself would (whitespace and case included)', () => {
    const hook = webhookOf(objectsOf('defaults on Kubernetes 1.30.0'));
    const evaluate = plan(celEnv({ funcs: strings }), parse(hook.matchConditions?.[0]?.expression ?? ''));
    const space = fc.constantFrom(' ', '\t', '\n', '\u00a0', '\u0085', '\u2003', '\ufeff', '');
    const trueish = fc
      .tuple(
        fc.array(space, { maxLength: 3 }),
        fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
        fc.array(space, { maxLength: 3 }),
      )
      .map(
        ([pre, upper, post]) =>
          pre.join('') + [...'true'].map((c, i) => (upper[i] ? c.toUpperCase() : c)).join('') + post.join(''),
      );
    const value = fc.oneof(
      { arbitrary: trueish, weight: 5 },
      { arbitrary: fc.constantFrom('false', 'yes', '1', 'truee', 't rue', ''), weight: 1 },
      { arbitrary: fc.string({ maxLength: 6 }), weight: 1 },
    );
    const key = 'telemetry-sidecar/inject';
    const map = fc.option(fc.dictionary(fc.constantFrom(key, 'app', 'other'), value, { maxKeys: 3 }), {
      nil: undefined,
    });
    let optedIn = 0;
    fc.assert(
      fc.property(map, map, (annotations, labels) => {
        const metadata: Record<string, unknown> = {};
        if (annotations) metadata.annotations = new Map(Object.entries(annotations));
        if (labels) metadata.labels = new Map(Object.entries(labels));
        const cel = evaluate({ object: new Map([['metadata', new Map(Object.entries(metadata))]]) } as never);
        const ours = wantsInjection(annotations ?? {}, labels ?? {});
        if (ours) optedIn++;
        expect(cel, JSON.stringify({ annotations, labels })).toBe(ours);
      }),
      { numRuns: 1000 },
    );
    // the generator reaches both outcomes often
    expect(optedIn).toBeGreaterThan(100);
    expect(optedIn).toBeLessThan(900);
  });
});

describe('a parent chart that depends on ours', () => {
  const deploymentYaml = (name: string, key: string): string =>
    [
      'apiVersion: apps/v1',
      'kind: Deployment',
      'metadata:',
      `  name: ${name}`,
      'spec:',
      '  selector:',
      `    matchLabels: {app: ${name}}`,
      '  template:',
      '    metadata:',
      `      labels: {app: ${name}}`,
      '    spec:',
      '      hostNetwork: true',
      '      containers:',
      '        - name: sfu',
      '          image: example/sfu:1',
      '          ports: [{containerPort: 7882, protocol: UDP}]',
      `        {{- include "telemetry-sidecar.container" (dict "sidecar" .Values.${key}) | nindent 8 }}`,
      '      volumes:',
      `        {{- include "telemetry-sidecar.volumes" (dict "sidecar" .Values.${key}) | nindent 8 }}`,
      '',
    ].join('\n');

  const chartVersion = (dir: string): string =>
    (parseYaml(readFileSync(join(dir, 'Chart.yaml'), 'utf8')) as { version: string }).version;

  /** A chart of the operator's own: its SFU Deployment renders the sidecar from the library chart. */
  function parentChart(dir: string): void {
    mkdirSync(join(dir, 'templates'), { recursive: true });
    cpSync(CHART, join(dir, 'vendor/telemetry-sidecar'), { recursive: true });
    cpSync(LIB, join(dir, 'vendor/telemetry-sidecar-lib'), { recursive: true });
    writeFileSync(
      join(dir, 'Chart.yaml'),
      stringify({
        apiVersion: 'v2',
        name: 'sfu',
        version: '1.0.0',
        dependencies: [
          {
            name: 'telemetry-sidecar',
            version: chartVersion(CHART),
            repository: 'file://vendor/telemetry-sidecar',
            condition: 'telemetry-sidecar.enabled',
          },
          {
            name: 'telemetry-sidecar-lib',
            version: chartVersion(LIB),
            repository: 'file://vendor/telemetry-sidecar-lib',
          },
        ],
      }),
    );
    writeFileSync(
      join(dir, 'values.yaml'),
      stringify({
        global: { imageRegistry: 'registry.example' },
        'telemetry-sidecar': { enabled: true },
        telemetrySidecar: PARENT_SIDECAR,
        minimalSidecar: { image: { repository: 'telemetry-sidecar', tag: 'latest' } },
        natsSidecar: NATS_SIDECAR,
      }),
    );
    // Two SFU Deployments: one with a sidecar configured away from every default, one given only the image.
    writeFileSync(join(dir, 'templates/deployment.yaml'), deploymentYaml('sfu', 'telemetrySidecar'));
    writeFileSync(join(dir, 'templates/minimal.yaml'), deploymentYaml('sfu-minimal', 'minimalSidecar'));
    writeFileSync(join(dir, 'templates/nats.yaml'), deploymentYaml('sfu-nats', 'natsSidecar'));
  }

  /** A sidecar configured away from every default, container mode (it goes under `containers`). */
  const PARENT_SIDECAR = {
    image: { repository: 'registry.example/telemetry-sidecar', tag: '0.1.0', pullPolicy: 'Always' },
    mode: 'container',
    grpcPort: 50200,
    httpPort: 19464,
    portName: 'tsc-metrics',
    httpBind: 'all',
    upstream: 'grpcs://analytics.example:443',
    flushInterval: '10s',
    logLevel: 'debug',
    resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '2', memory: '512Mi' } },
    dataSizeLimit: '2Gi',
    grpcTokenSecret: 'grpc-token',
    metricsTokenSecret: 'metrics-token',
    extraEnv: [{ name: 'SIDECAR_ANALYTICS_KEY', value: 'k' }],
  };

  /** A sidecar delivering to NATS JetStream over TLS, its .creds file from a Secret. */
  const NATS_SIDECAR = {
    image: { repository: 'telemetry-sidecar', tag: '0.1.0' },
    upstream: 'tls://nats-0.nats:4222,nats-1.nats:4222/livekit.analytics',
    natsCredsSecret: 'sfu-nats-creds',
  };

  let parent: string;
  beforeAll(async () => {
    parent = join(work, 'parent');
    parentChart(parent);
    await helm(['dependency', 'build', parent]);
  }, 60_000);

  const renders = new Map<boolean, Promise<K8sObject[]>>();
  const render = (enabled: boolean): Promise<K8sObject[]> => {
    const cached = renders.get(enabled);
    if (cached) return cached;
    const next = renderOnce(enabled);
    renders.set(enabled, next);
    return next;
  };
  const renderOnce = async (enabled: boolean): Promise<K8sObject[]> =>
    checkObjects(
      (
        await helm([
          'template',
          'sfu',
          parent,
          '--namespace',
          'media',
          '--kube-version',
          '1.30.0',
          '--set',
          `telemetry-sidecar.enabled=${enabled}`,
        ])
      ).stdout,
    );

  it('renders with the dependency enabled, global values and all (the schema allows `global`)', async () => {
    const objects = await render(true);
    expect(find(objects, 'MutatingWebhookConfiguration')).toHaveLength(1);
    expect(
      find(objects, 'Deployment')
        .map((d) => d.metadata.name)
        .sort(),
    ).toEqual(['sfu', 'sfu-minimal', 'sfu-nats', 'sfu-telemetry-sidecar-webhook']);
  });

  it('still renders the sidecar from the library with the webhook chart disabled by its condition', async () => {
    const objects = await render(false);
    expect(find(objects, 'MutatingWebhookConfiguration')).toHaveLength(0);
    const sfu = one(objects, 'Deployment', 'sfu') as unknown as { spec: DeploymentSpec };
    expect(sfu.spec.template.spec.containers).toHaveLength(2);
  });

  it('renders the same container and volumes as the webhook injects', async () => {
    const sfu = one(await render(false), 'Deployment', 'sfu') as unknown as { spec: DeploymentSpec };
    const settings: SidecarSettings = {
      ...BUILTIN_DEFAULTS,
      ...PARENT_SIDECAR,
      image: 'registry.example/telemetry-sidecar:0.1.0',
      imagePullPolicy: 'Always',
      mode: 'container',
      httpBind: 'all',
    };
    expect(sfu.spec.template.spec.containers[1]).toEqual(JSON.parse(JSON.stringify(renderSidecarContainer(settings))));
    expect(sfu.spec.template.spec.volumes).toEqual(JSON.parse(JSON.stringify(renderSidecarVolumes(settings))));
  });

  it('renders the same container and volumes as the webhook injects for a NATS pod (tls:// and a creds Secret)', async () => {
    const sfu = one(await render(false), 'Deployment', 'sfu-nats') as unknown as { spec: DeploymentSpec };
    const settings: SidecarSettings = {
      ...BUILTIN_DEFAULTS,
      image: 'telemetry-sidecar:0.1.0',
      upstream: NATS_SIDECAR.upstream,
      natsCredsSecret: NATS_SIDECAR.natsCredsSecret,
    };
    const container = JSON.parse(JSON.stringify(renderSidecarContainer(settings))) as {
      env: { name: string; value?: string }[];
    };
    expect(sfu.spec.template.spec.containers[1]).toEqual(container);
    expect(sfu.spec.template.spec.volumes).toEqual(JSON.parse(JSON.stringify(renderSidecarVolumes(settings))));
    // what makes it a NATS pod, in both renderings
    expect(container.env).toContainEqual({
      name: 'SIDECAR_NATS_CREDS_FILE',
      value: '/var/run/secrets/telemetry-sidecar-nats/nats.creds',
    });
    expect(container.env.map((e) => e.name)).not.toContain('SIDECAR_FILE_MAX_BYTES');
  });

  it('renders the webhook’s built-in defaults when given only the image', async () => {
    const sfu = one(await render(false), 'Deployment', 'sfu-minimal') as unknown as { spec: DeploymentSpec };
    expect(sfu.spec.template.spec.containers[1]).toEqual(
      JSON.parse(JSON.stringify({ ...renderSidecarContainer(BUILTIN_DEFAULTS), restartPolicy: 'Always' })),
    );
    expect(sfu.spec.template.spec.volumes).toEqual(renderSidecarVolumes(BUILTIN_DEFAULTS));
  });
});

describe('chart files', () => {
  it('pass yamllint where they are plain YAML (Chart.yaml, values.yaml)', () => {
    const found = spawnSync('yamllint', ['--version']);
    if (found.error) throw new Error('yamllint not found: apt-get install -y yamllint (.ci/run does)');
    for (const [dir, files] of [
      [CHART, ['Chart.yaml', 'values.yaml']],
      [LIB, ['Chart.yaml']],
    ] as const) {
      const res = spawnSync('yamllint', ['-c', '.yamllint', '--strict', '-f', 'parsable', ...files], {
        cwd: dir,
        encoding: 'utf8',
      });
      expect(res.stdout + res.stderr).toBe('');
      expect(res.status).toBe(0);
    }
  });

  it('point only to docs that exist', () => {
    const files = [
      'values.yaml',
      'values.schema.json',
      ...readdirSync(join(CHART, 'templates')).map((f) => `templates/${f}`),
    ];
    const links = files.flatMap((f) =>
      [...readFileSync(join(CHART, f), 'utf8').matchAll(/docs\/[\w./-]+\.md/g)].map((m) => m[0]),
    );
    expect(links.length).toBeGreaterThan(0);
    for (const link of links) expect(existsSync(join(ROOT, link)), link).toBe(true);
  });
});

describe('values.schema.json', () => {
  const schema = JSON.parse(readFileSync(join(CHART, 'values.schema.json'), 'utf8')) as object;
  const values = () =>
    parseYaml(readFileSync(join(CHART, 'values.yaml'), 'utf8')) as Record<string, Record<string, unknown>>;
  const validator = () => new Ajv({ allErrors: true, strict: false }).compile(schema);

  it('accepts the default values.yaml and a parent’s global values', () => {
    const validate = validator();
    expect(validate(values()), JSON.stringify(validate.errors)).toBe(true);
    expect(validate({ ...values(), global: { imageRegistry: 'r' } }), JSON.stringify(validate.errors)).toBe(true);
  });

  it.each<[string, (v: Record<string, Record<string, unknown>>) => void]>([
    ['a misspelt top-level key', (v) => void (v.webhok = {})],
    ['failurePolicy Sometimes', (v) => void (v.webhook!.failurePolicy = 'Sometimes')],
    ['a webhook timeout above 10 s', (v) => void (v.webhook!.timeoutSeconds = 30)],
    ['an http port above 65535', (v) => void (v.sidecar!.httpPort = 70000)],
    ['an httpBind that does not exist', (v) => void (v.sidecar!.httpBind = 'public')],
    ['an http:// upstream', (v) => void (v.sidecar!.upstream = 'http://collector:4317')],
    ['a memory quantity with a bad unit', (v) => void (v.sidecar!.dataSizeLimit = '1GB')],
  ])('rejects %s', (_name, mutate) => {
    const v = values();
    mutate(v);
    expect(validator()(v)).toBe(false);
  });

  it('accepts every upstream the sidecar’s own parser accepts (the webhook then checks it with that parser)', () => {
    const validate = validator();
    const host = fc.constantFrom('nats', 'nats-0.nats.svc', '10.0.0.1', '[::1]', 'a');
    const hostPort = fc
      .tuple(host, fc.option(fc.integer({ min: 1, max: 65535 })))
      .map(([h, p]) => (p ? `${h}:${p}` : h));
    const subject = fc.array(fc.constantFrom('livekit', 'analytics', 'a-b', '*', '>', 'x y', ''), {
      minLength: 1,
      maxLength: 3,
    });
    const candidate = fc.oneof(
      fc
        .tuple(fc.constantFrom('nats', 'tls'), fc.array(hostPort, { minLength: 1, maxLength: 3 }), subject)
        .map(([scheme, hosts, tokens]) => `${scheme}://${hosts.join(',')}/${tokens.join('.')}`),
      fc
        .tuple(fc.constantFrom('grpc', 'grpcs'), hostPort, fc.constantFrom('', '/'))
        .map(([s, h, t]) => `${s}://${h}${t}`),
      fc.string({ minLength: 1, maxLength: 12 }).map((p) => `file:${p}`),
      fc.constantFrom(
        'stdout:',
        'stdout',
        'file:/data/my stats.ndjson',
        'http://collector:4317',
        'nats://u:p@nats:4222/s',
      ),
    );
    let accepted = 0;
    fc.assert(
      fc.property(candidate, (raw) => {
        let parsed = true;
        try {
          upstream(raw);
        } catch {
          parsed = false;
        }
        if (!parsed) return;
        accepted++;
        const v = values();
        v.sidecar!.upstream = raw;
        expect(validate(v), `${raw}: ${JSON.stringify(validate.errors)}`).toBe(true);
      }),
      { numRuns: 1000 },
    );
    expect(accepted).toBeGreaterThan(300);
    expect(accepted).toBeLessThan(950);
  });

  it('uses only regular expressions Go (RE2) can compile, since Helm validates with Go', () => {
    const text = readFileSync(join(CHART, 'values.schema.json'), 'utf8');
    const patterns = [...text.matchAll(/"pattern": "((?:[^"\\]|\\.)*)"/g)].map((m) => m[1] ?? '');
    expect(patterns.length).toBeGreaterThan(0);
    for (const p of patterns) expect(p).not.toMatch(/\(\?[=!<]|\\\\[1-9]/);
  });
});
