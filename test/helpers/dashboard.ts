/** The Grafana dashboard the repository ships, read as the tests need it. */
import { readFileSync } from 'node:fs';

export interface Panel {
  type: string;
  title: string;
  targets?: { expr: string }[];
  gridPos: { x: number; y: number; w: number; h: number };
}

export const dashboard = JSON.parse(
  readFileSync(new URL('../../dashboards/telemetry-sidecar.json', import.meta.url), 'utf8'),
) as { uid: string; panels: Panel[] };

/** Every PromQL query of every panel, as written (with Grafana's variables). */
export const dashboardQueries = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
