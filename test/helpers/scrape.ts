/** Scrapes over real HTTP and reads the result with a Prometheus text parser. */
import parsePrometheusTextFormat from 'parse-prometheus-text-format';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/**
 * One parsed scrape. The parser folds every series of a labelled histogram
 * into one, so histograms are parsed a second time as untyped lines (one
 * family per `_bucket`/`_sum`/`_count` line) to keep each series apart.
 */
export class Scrape {
  /** Family name to type (COUNTER, GAUGE, HISTOGRAM, ...), as declared by `# TYPE`. */
  readonly types = new Map<string, string>();
  readonly help = new Map<string, string>();
  readonly samples: Sample[] = [];

  constructor(readonly text: string) {
    for (const family of parsePrometheusTextFormat(text)) {
      this.types.set(family.name, family.type);
      this.help.set(family.name, family.help);
    }
    const flat = text.replace(/^# TYPE (\S+) histogram$/gm, '# TYPE $1 untyped');
    for (const family of parsePrometheusTextFormat(flat)) {
      for (const m of family.metrics) {
        if (m.value !== undefined)
          this.samples.push({ name: family.name, labels: m.labels ?? {}, value: Number(m.value) });
      }
    }
  }

  series(name: string): Sample[] {
    return this.samples.filter((s) => s.name === name);
  }

  /** The value of the sample with exactly these labels; undefined when absent. */
  value(name: string, labels: Record<string, string> = {}): number | undefined {
    const want = Object.entries(labels);
    const hit = this.series(name).find(
      (s) => Object.keys(s.labels).length === want.length && want.every(([k, v]) => s.labels[k] === v),
    );
    return hit?.value;
  }

  /** Cumulative bucket counts of one histogram series keyed by `le`, plus its sum and count. */
  histogram(
    name: string,
    labels: Record<string, string> = {},
  ): { buckets: Record<string, number>; sum?: number; count?: number } {
    const buckets: Record<string, number> = {};
    for (const s of this.series(`${name}_bucket`)) {
      const { le, ...rest } = s.labels;
      if (le !== undefined && sameLabels(rest, labels)) buckets[le] = s.value;
    }
    return { buckets, sum: this.value(`${name}_sum`, labels), count: this.value(`${name}_count`, labels) };
  }
}

function sameLabels(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

export interface HttpReply {
  status: number;
  headers: Headers;
  body: string;
}

export async function httpGet(port: number, path: string, init: RequestInit = {}): Promise<HttpReply> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, init);
  return { status: res.status, headers: res.headers, body: await res.text() };
}

export async function scrape(port: number): Promise<Scrape> {
  const reply = await httpGet(port, '/metrics');
  if (reply.status !== 200) throw new Error(`/metrics answered ${reply.status}: ${reply.body}`);
  return new Scrape(reply.body);
}
