import { describe, expect, it } from 'vitest';
import { SidecarMetrics } from '../../src/observe/metrics.js';
import { dashboard, dashboardQueries as exprs } from '../helpers/dashboard.js';
import { Scrape } from '../helpers/scrape.js';

const referenced = new Set(
  exprs.flatMap((e) =>
    [...e.matchAll(/\b((?:telemetry_sidecar|nodejs|process)_[a-z0-9_]+)\{/g)].map((m) => m[1] ?? ''),
  ),
);

describe('Grafana dashboard', () => {
  it('queries only metrics the sidecar exposes', async () => {
    expect(referenced.size).toBeGreaterThan(20);
    const s = new Scrape((await new SidecarMetrics().metricsText()).body);
    const missing = [...referenced].filter((name) => {
      const family = name.replace(/_(bucket|sum|count)$/, '');
      return !s.types.has(name) && !(s.types.get(family) === 'HISTOGRAM');
    });
    expect(missing).toEqual([]);
  });

  it('shows every telemetry_sidecar metric', async () => {
    const s = new Scrape((await new SidecarMetrics({ defaultMetrics: false }).metricsText()).body);
    const families = [...referenced].map((n) => (s.types.has(n) ? n : n.replace(/_(bucket|sum|count)$/, '')));
    const unused = [...s.types.keys()].filter((n) => !families.includes(n));
    expect(unused).toEqual([]);
  });

  it('filters every query by the job and instance variables, and lays panels out without overlap', () => {
    for (const e of exprs) {
      const selectors = [...e.matchAll(/\{([^}]*)\}/g)].map((m) => m[1] ?? '');
      expect(selectors.length, e).toBeGreaterThan(0);
      for (const sel of selectors) expect(sel, e).toContain('job=~"$job",instance=~"$instance"');
    }
    const cells = new Set<string>();
    for (const p of dashboard.panels) {
      expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24);
      for (let x = p.gridPos.x; x < p.gridPos.x + p.gridPos.w; x++) {
        for (let y = p.gridPos.y; y < p.gridPos.y + p.gridPos.h; y++) {
          expect(cells.has(`${x},${y}`), p.title).toBe(false);
          cells.add(`${x},${y}`);
        }
      }
    }
  });
});
