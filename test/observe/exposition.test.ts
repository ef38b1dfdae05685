/**
 * The workarounds in the scrape rendering, each with the test that shows
 * prom-client (the installed version) still needs it.
 */
import { Counter, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { StreamType } from '../../src/core/analytics.js';
import { Expositor } from '../../src/observe/exposition.js';
import { SidecarMetrics } from '../../src/observe/metrics.js';
import { sample, stream } from '../helpers/stats.js';
import { Scrape } from '../helpers/scrape.js';

const OPENMETRICS = 'application/openmetrics-text; version=1.0.0';

function registryWithCounter(): Registry {
  const registry = new Registry();
  new Counter({ name: 'probe_events_total', help: 'a counter', registers: [registry] }).inc();
  return registry;
}

describe('OpenMetrics rendering', () => {
  it('is needed: prom-client alone loses `_total` from text scrapes after one OpenMetrics scrape', async () => {
    // If this starts failing, prom-client fixed it: drop the name restore in exposition.ts.
    const registry = registryWithCounter();
    (registry as unknown as Registry<typeof Registry.OPENMETRICS_CONTENT_TYPE>).setContentType(
      Registry.OPENMETRICS_CONTENT_TYPE,
    );
    await registry.metrics();
    registry.setContentType(Registry.PROMETHEUS_CONTENT_TYPE);
    expect(await registry.metrics()).not.toContain('probe_events_total 1');
  });

  it('keeps `_total` in text scrapes before and after OpenMetrics ones', async () => {
    const expositor = new Expositor(registryWithCounter());
    expect((await expositor.render('text/plain')).body).toContain('probe_events_total 1');
    const om = await expositor.render(OPENMETRICS);
    expect(om.contentType).toBe(Registry.OPENMETRICS_CONTENT_TYPE);
    expect(om.body).toContain('# TYPE probe_events counter\n');
    expect(om.body).toContain('\nprobe_events_total 1\n');
    expect((await expositor.render('text/plain')).body).toContain('probe_events_total 1');
  });
});

describe('cell histograms (a prom-client Histogram subclass)', () => {
  it('render the same series in text, OpenMetrics and JSON', async () => {
    const metrics = new SidecarMetrics({ defaultMetrics: false });
    const input = {
      kind: StreamType.DOWNSTREAM,
      stat: sample({ streams: [stream({ rtt: 120 }), stream({ rtt: 20_000 })] }),
    };
    metrics.observeTraffic(input, 'us');
    const labels = { direction: 'outgoing', country: 'US' };
    const text = new Scrape((await metrics.metricsText('text/plain')).body).histogram(
      'telemetry_sidecar_rtt_seconds',
      labels,
    );
    expect(text).toMatchObject({ count: 2, buckets: { '0.1': 0, '0.15': 1, '10': 1, '+Inf': 2 } });
    expect(text.sum).toBeCloseTo(20.12, 9);

    const om = (await metrics.metricsText(OPENMETRICS)).body;
    expect(om).toContain('# TYPE telemetry_sidecar_rtt_seconds histogram\n');
    expect(om).toContain('telemetry_sidecar_rtt_seconds_bucket{le="0.15",direction="outgoing",country="US"} 1\n');
    expect(om).toContain('telemetry_sidecar_rtt_seconds_count{direction="outgoing",country="US"} 2\n');

    const json = await metrics.registry.getMetricsAsJSON();
    const rtt = json.find((m) => m.name === 'telemetry_sidecar_rtt_seconds');
    expect(rtt?.type).toBe('histogram');
    expect(rtt?.values).toContainEqual({
      value: 2,
      labels: { ...labels, le: '+Inf' },
      metricName: 'telemetry_sidecar_rtt_seconds_bucket',
    });
  });
});
