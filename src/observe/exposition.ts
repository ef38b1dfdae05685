/**
 * The scrape body in the format the scraper asks for: OpenMetrics 1.0 when
 * the Accept header prefers it (Prometheus does), else Prometheus text 0.0.4.
 * Shared by the sidecar and the injection webhook, so it imports nothing but prom-client.
 */
import { Registry } from 'prom-client';

export interface Exposition {
  contentType: string;
  body: string;
}

/** Renders one registry; scrapes run one at a time (an OpenMetrics render changes the registry while it runs). */
export class Expositor {
  private rendering: Promise<unknown> = Promise.resolve();

  constructor(private readonly registry: Registry) {}

  render(accept?: string): Promise<Exposition> {
    const run = this.rendering.then(() => this.renderNow(prefersOpenMetrics(accept)));
    this.rendering = run.catch(() => undefined);
    return run;
  }

  private async renderNow(openMetrics: boolean): Promise<Exposition> {
    if (!openMetrics) return { contentType: Registry.PROMETHEUS_CONTENT_TYPE, body: await this.registry.metrics() };
    // prom-client (15.1) strips `_total` from counter names in place for OpenMetrics and
    // never puts it back; restore the names so the next text scrape keeps them
    // (test/observe/exposition.test.ts shows prom-client still needs this).
    const metrics = this.registry.getMetricsAsArray();
    const names = metrics.map((m) => m.name);
    // the Registry's type fixes its content type at construction; this one switches for one render
    const openRegistry = this.registry as unknown as Registry<typeof Registry.OPENMETRICS_CONTENT_TYPE>;
    openRegistry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
    try {
      return { contentType: Registry.OPENMETRICS_CONTENT_TYPE, body: await this.registry.metrics() };
    } finally {
      this.registry.setContentType(Registry.PROMETHEUS_CONTENT_TYPE);
      metrics.forEach((m, i) => (m.name = names[i] ?? m.name));
    }
  }
}

/**
 * True when the Accept header ranks `application/openmetrics-text` at least as
 * high as any Prometheus text alternative (Prometheus sends it first with q=1).
 */
export function prefersOpenMetrics(accept: string | undefined): boolean {
  if (!accept) return false;
  let openQ = 0;
  let textQ = 0;
  for (const part of accept.split(',')) {
    const [type = '', ...params] = part.split(';').map((p) => p.trim().toLowerCase());
    let q = 1;
    for (const p of params) {
      if (p.startsWith('q=')) q = Number(p.slice(2));
    }
    if (!(q > 0)) continue;
    if (type === 'application/openmetrics-text') openQ = Math.max(openQ, q);
    else if (type === 'text/plain' || type === '*/*' || type === 'text/*') textQ = Math.max(textQ, q);
  }
  return openQ > 0 && openQ >= textQ;
}
