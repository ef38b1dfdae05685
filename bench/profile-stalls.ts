/**
 * What ran inside the worst event-loop gaps of bench/ndjson-flush.ts: for
 * each gap (its `PROFILE.gaps.json`, in the profile's clock) the profile's
 * samples inside it, as self time by function and by the frame the turn was
 * running under. A gap's process CPU time counts every thread (GC helpers,
 * the libuv pool's writes and fdatasyncs); the samples are the main thread's.
 *
 *   FLUSH_PROF=/tmp/f.cpuprofile node dist/bench/ndjson-flush.js
 *   node dist/bench/profile-stalls.js /tmp/f.cpuprofile
 */
import { readFileSync } from 'node:fs';
import type { Profile, ProfileNode } from './cpu-profile.js';

interface Gap {
  round: number;
  cpuMs: number;
  gcMs: number;
  fromUs: number;
  toUs: number;
}

const [path] = process.argv.slice(2);
if (!path) {
  process.stderr.write('usage: profile-stalls.js PROFILE\n');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(path, 'utf8')) as Profile;
const gaps = JSON.parse(readFileSync(`${path}.gaps.json`, 'utf8')) as Gap[];
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

const label = (n: ProfileNode) =>
  `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.replace(/^.*\/(dist|node_modules)\//, '')}:${n.callFrame.lineNumber + 1}`;

function stack(id: number): string[] {
  const out: string[] = [];
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) out.push(label(byId.get(at)!));
  return out;
}

const times: number[] = [];
let t = profile.startTime;
for (const d of profile.timeDeltas) times.push((t += d));

const top = (m: Map<string, number>, n: number) =>
  [...m]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, v]) => `    ${v.toFixed(1).padStart(6)} ms  ${k}`)
    .join('\n');

for (const gap of gaps.sort((a, b) => b.cpuMs - a.cpuMs)) {
  const self = new Map<string, number>();
  const under = new Map<string, number>();
  let sampled = 0;
  for (let i = 0; i < times.length; i++) {
    const at = times[i]!;
    if (at < gap.fromUs || at >= gap.toUs) continue;
    const ms = ((times[i + 1] ?? at) - at) / 1000;
    sampled += ms;
    const s = stack(profile.samples[i]!);
    self.set(s[0]!, (self.get(s[0]!) ?? 0) + ms);
    const entry = s.slice(-5, -1).reverse().join(' > ');
    under.set(entry, (under.get(entry) ?? 0) + ms);
  }
  console.log(
    `round ${gap.round}: gap of ${((gap.toUs - gap.fromUs) / 1000).toFixed(1)} ms wall, ${gap.cpuMs.toFixed(1)} ms process CPU, ${gap.gcMs.toFixed(1)} ms GC; ${sampled.toFixed(1)} ms sampled on the main thread`,
  );
  console.log('  self time:');
  console.log(top(self, 6));
  console.log('  under:');
  console.log(top(under, 4));
}
