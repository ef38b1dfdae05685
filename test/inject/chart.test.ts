import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { parseDefaults, BUILTIN_DEFAULTS } from '../../src/inject/settings.js';
import { renderSidecarContainer } from '../../src/inject/sidecar-container.js';

const CHART = join(import.meta.dirname, '../../helm/telemetry-sidecar');
const read = (f: string): string => readFileSync(join(CHART, f), 'utf8');

type Values = Record<string, unknown> & {
  image: { repository: string; tag: string; pullPolicy: string };
  webhook: Record<string, unknown>;
  sidecar: Record<string, unknown> & { image: Record<string, string>; mode: string };
};

const values = (): Values => parseYaml(read('values.yaml')) as Values;
const schema = JSON.parse(read('values.schema.json')) as object;

function validator() {
  return new Ajv({ allErrors: true, strict: false }).compile(schema);
}

describe('values.schema.json', () => {
  it('accepts the default values.yaml', () => {
    const validate = validator();
    expect(validate(values()), JSON.stringify(validate.errors)).toBe(true);
  });

  it.each<[string, (v: Values) => void]>([
    ['a misspelt top-level key', (v) => void (v.webhok = {})],
    ['failurePolicy Sometimes', (v) => void (v.webhook.failurePolicy = 'Sometimes')],
    ['a webhook timeout above 10 s', (v) => void (v.webhook.timeoutSeconds = 30)],
    ['an http port above 65535', (v) => void (v.sidecar.httpPort = 70000)],
    ['a sidecar mode that does not exist', (v) => void (v.sidecar.mode = 'sidecar')],
    ['an http:// upstream', (v) => void (v.sidecar.upstream = 'http://collector:4317')],
    ['a flush interval without unit', (v) => void (v.sidecar.flushInterval = '30')],
    ['resources without limits', (v) => void (v.sidecar.resources = { requests: { cpu: '50m', memory: '64Mi' } })],
    ['a memory quantity with a bad unit', (v) => void (v.sidecar.dataSizeLimit = '1GB')],
  ])('rejects %s', (_name, mutate) => {
    const v = values();
    mutate(v);
    expect(validator()(v)).toBe(false);
  });

  it('uses only regular expressions Go (RE2) can compile, since Helm validates with Go', () => {
    const patterns = [...read('values.schema.json').matchAll(/"pattern": "((?:[^"\\]|\\.)*)"/g)].map((m) => m[1] ?? '');
    expect(patterns.length).toBeGreaterThan(0);
    for (const p of patterns) expect(p).not.toMatch(/\(\?[=!<]|\\\\[1-9]/);
  });
});

describe('chart YAML', () => {
  it('passes yamllint where it is plain YAML (Chart.yaml, values.yaml)', () => {
    const found = spawnSync('yamllint', ['--version']);
    if (found.error) throw new Error('yamllint not found: apt-get install -y yamllint');
    const res = spawnSync('yamllint', ['-c', '.yamllint', '--strict', '-f', 'parsable', 'Chart.yaml', 'values.yaml'], {
      cwd: CHART,
      encoding: 'utf8',
    });
    expect(res.stdout + res.stderr).toBe('');
    expect(res.status).toBe(0);
  });

  it('has a Chart.yaml Helm 3 accepts', () => {
    const chart = parseYaml(read('Chart.yaml')) as Record<string, unknown>;
    expect(chart).toMatchObject({ apiVersion: 'v2', name: 'telemetry-sidecar', type: 'application' });
    expect(chart.version).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('balances template actions and blocks in every template', () => {
    for (const f of readdirSync(join(CHART, 'templates'))) {
      const text = read(`templates/${f}`);
      const actions = [...text.matchAll(/\{\{-?\s*(.*?)\s*-?\}\}/gs)].map((m) => m[1] ?? '');
      expect(text.split('{{').length, f).toBe(text.split('}}').length);
      const opened = actions.filter((a) => /^(if|range|with|define)\b/.test(a)).length;
      const closed = actions.filter((a) => /^end\b/.test(a)).length;
      expect(closed, f).toBe(opened);
    }
  });

  it('configures the webhook as the contract says', () => {
    const text = read('templates/webhook.yaml');
    for (const line of [
      'sideEffects: None',
      'reinvocationPolicy: Never',
      'failurePolicy: {{ .Values.webhook.failurePolicy }}',
      'timeoutSeconds: {{ .Values.webhook.timeoutSeconds }}',
      '- kube-system',
      'key: telemetry-sidecar/webhook',
      'operator: DoesNotExist',
      'matchConditions:',
      "object.metadata.annotations['telemetry-sidecar/inject']",
      'genCA',
      'cert-manager.io/inject-ca-from',
      'path: /mutate',
    ]) {
      expect(text).toContain(line);
    }
    const v = values();
    expect(v.webhook.failurePolicy).toBe('Ignore');
    expect(v.webhook.timeoutSeconds).toBeLessThanOrEqual(10);
    expect(read('templates/deployment.yaml')).toContain('telemetry-sidecar/webhook: "true"');
  });

  it('keeps values.sidecar in the shape the webhook’s defaults file accepts', () => {
    // What templates/_helpers.tpl "telemetry-sidecar.sidecarDefaults" renders into the ConfigMap.
    const v = values();
    const rest = Object.fromEntries(Object.entries(v.sidecar).filter(([k]) => k !== 'image' && k !== 'mode'));
    const file = { image: `${v.image.repository}:0.1.0`, imagePullPolicy: v.image.pullPolicy, mode: 'native', ...rest };
    const parsed = parseDefaults(JSON.parse(JSON.stringify(file)), 'configmap');
    expect({ ...parsed, image: BUILTIN_DEFAULTS.image }).toEqual(BUILTIN_DEFAULTS);
  });

  it('renders the same env and probes in the named container template as the webhook injects', () => {
    const helpers = read('templates/_helpers.tpl');
    const start = helpers.indexOf('{{- define "telemetry-sidecar.container" -}}');
    const block = helpers.slice(start, helpers.indexOf('{{- end -}}', helpers.indexOf('volumeMounts:', start)));
    const c = renderSidecarContainer({ ...BUILTIN_DEFAULTS, flushInterval: '10s', grpcTokenSecret: 'token' });
    expect([...block.matchAll(/- name: ((?:SIDECAR|LOG)_\w+)/g)].map((m) => m[1])).toEqual(c.env.map((e) => e.name));
    for (const probe of ['startupProbe', 'livenessProbe'] as const) {
      const p = c[probe];
      const text = block.slice(block.indexOf(`${probe}:`));
      expect(text).toMatch(
        new RegExp(
          `path: ${p.httpGet.path}[\\s\\S]*?periodSeconds: ${p.periodSeconds}\\s+timeoutSeconds: ${p.timeoutSeconds}\\s+failureThreshold: ${p.failureThreshold}`,
        ),
      );
    }
    expect(block).toContain('restartPolicy: Always');
    expect(block).toContain(`mountPath: /data`);
  });

  it('documents the LiveKit podAnnotations snippet in NOTES.txt', () => {
    expect(read('templates/NOTES.txt')).toContain('telemetry-sidecar/inject: "true"');
  });
});
