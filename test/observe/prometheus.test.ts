/**
 * A real Prometheus (the Debian package's `prometheus` and `promtool`)
 * scrapes a real sidecar: it negotiates OpenMetrics and must parse every
 * series the sidecar exposes; every PromQL expression of docs/metrics.md and
 * of the Grafana dashboard must pass `promtool check rules` and evaluate
 * against the scraped data without an error.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSidecarClient } from '../../src/client/sidecar-client.js';
import { dashboardQueries } from '../helpers/dashboard.js';
import { freePort } from '../helpers/ports.js';
import { reaped, spawnSidecar, type RunningSidecar } from '../helpers/process.js';
import { unary } from '../helpers/rpc.js';
import { httpGet, scrape } from '../helpers/scrape.js';
import { bothDirections, sample, stream } from '../helpers/stats.js';

const docs = readFileSync(new URL('../../docs/metrics.md', import.meta.url), 'utf8');
const documented = [...docs.matchAll(/```promql\n([\s\S]*?)```/g)].map((m) => m[1]!.trim());

/** Grafana's variables as a single-instance dashboard over the last few minutes would fill them in. */
const grafana = (expr: string) =>
  expr
    .replaceAll('$job', 'sidecar')
    .replaceAll('$instance', '.+')
    .replaceAll('$__rate_interval', '1m')
    .replaceAll('$__range', '5m');
const panels = dashboardQueries.map(grafana);

let dir: string;
let sidecar: RunningSidecar;
let promPort: number;
let prometheus: ChildProcess | undefined;

interface QueryReply {
  status: string;
  error?: string;
  data: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] };
}

async function query(expr: string): Promise<QueryReply> {
  const reply = await httpGet(promPort, `/api/v1/query?query=${encodeURIComponent(expr)}`);
  return JSON.parse(reply.body) as QueryReply;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sidecar-prometheus-'));
  sidecar = await spawnSidecar(dir, { SIDECAR_FLUSH_INTERVAL: '1h' });
  // a worker and a stat in each direction, so the counters and histograms have samples
  const client = createSidecarClient(`127.0.0.1:${sidecar.grpcPort}`);
  await unary(client, client.Activate, { roomId: 'R', participantId: 'P', guardId: 'g' });
  const stat = sample({ streams: [stream({ primaryPackets: 42, primaryBytes: 42_000, rtt: 20, jitter: 3 })] });
  await unary(client, client.TrackStats, { stats: bothDirections(stat) });
  client.close();

  promPort = await freePort();
  writeFileSync(
    join(dir, 'prometheus.yml'),
    [
      'global: { scrape_interval: 1s, evaluation_interval: 1s }',
      'scrape_configs:',
      '  - job_name: sidecar',
      `    static_configs: [{ targets: ['127.0.0.1:${sidecar.httpPort}'] }]`,
    ].join('\n'),
  );
  prometheus = reaped(
    spawn(
      'prometheus',
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'tsdb')}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
      ],
      { stdio: 'ignore' },
    ),
  );
  // the first scrape lands within a second or two of the start
  const deadline = Date.now() + 30_000;
  while ((await query('up{job="sidecar"}').catch(() => undefined))?.data.result[0]?.value[1] !== '1') {
    if (Date.now() > deadline) throw new Error('Prometheus has not scraped the sidecar successfully within 30 s');
    await sleep(250);
  }
}, 60_000);

afterAll(async () => {
  prometheus?.kill('SIGKILL');
  sidecar?.child.kill('SIGKILL');
  await sidecar?.exited;
  rmSync(dir, { recursive: true, force: true });
});

describe('a real Prometheus', () => {
  it('scrapes the sidecar as OpenMetrics and keeps every series it exposes', async () => {
    const reply = await httpGet(sidecar.httpPort, '/metrics', {
      // what Prometheus 2.x sends
      headers: {
        accept:
          'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1',
      },
    });
    expect(reply.headers.get('content-type')).toContain('application/openmetrics-text');

    const exposed = (await scrape(sidecar.httpPort)).samples.filter((s) => s.name.startsWith('telemetry_sidecar_'));
    const stored = await query('count by (__name__) ({__name__=~"telemetry_sidecar_.+"})');
    expect(stored.status).toBe('success');
    // counters as `_total`, histograms as `_bucket`, `_sum` and `_count`: the names the text format shows
    const sorted = (names: string[]) => [...new Set(names)].sort();
    expect(sorted(stored.data.result.map((r) => r.metric.__name__!))).toEqual(sorted(exposed.map((s) => s.name)));
    const accepted = await query('telemetry_sidecar_track_stats_total{result="accepted"}');
    expect(accepted.data.result[0]?.value[1]).toBe('2');
  });

  it('accepts every documented alert and dashboard query (promtool), and evaluates each without an error', async () => {
    expect(documented.length).toBeGreaterThanOrEqual(10);
    expect(panels.length).toBeGreaterThan(20);
    const rules = join(dir, 'rules.yml');
    writeFileSync(
      rules,
      JSON.stringify({
        groups: [
          { name: 'docs', rules: documented.map((expr, i) => ({ alert: `Documented${i}`, expr })) },
          { name: 'dashboard', rules: panels.map((expr, i) => ({ record: `dashboard:panel_${i}`, expr })) },
        ],
      }),
    );
    const check = spawnSync('promtool', ['check', 'rules', rules], { encoding: 'utf8' });
    expect(check.stdout + check.stderr, 'promtool check rules').toContain('SUCCESS');
    expect(check.status).toBe(0);

    for (const expr of [...documented, ...panels]) {
      const reply = await query(expr);
      expect(reply.error, expr).toBeUndefined();
      expect(reply.status, expr).toBe('success');
    }
  });
});
