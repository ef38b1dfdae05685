/**
 * Reads a `--cpu-prof` profile (e.g. from BENCH_CPU_PROF) and prints where the
 * time went: self time by function and by area (our modules, grpc-js,
 * protobuf libraries, GC, idle...), as shares of the busy (non-idle) time.
 *
 *   node dist/bench/profile-summary.js /tmp/prof/CPU.*.cpuprofile [--top 40]
 */
import { readFileSync } from 'node:fs';
import type { Profile } from './cpu-profile.js';

/** Which part of the process a frame belongs to, from its script URL. */
function area(url: string, name: string): string {
  if (name === '(garbage collector)') return 'GC';
  if (name === '(idle)') return 'idle';
  // the inspector's own work while it stops and serialises a BENCH_WINDOW_PROF profile
  if (name === 'dispatch' && url === '') return 'idle';
  if (name === '(program)') return 'V8/native (program)';
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1]!;
  const own = /\/dist\/((?:src|bench)\/.*)\.js$/.exec(url);
  if (own) return own[1]!;
  if (url.startsWith('node:')) return 'node internals';
  if (url === '') return `native: ${name || '(anonymous)'}`;
  return url;
}

function main(): void {
  const args = process.argv.slice(2);
  const topAt = args.indexOf('--top');
  const top = topAt >= 0 ? Number(args[topAt + 1]) : 30;
  const files = args.filter((a, i) => !a.startsWith('--') && (topAt < 0 || i !== topAt + 1));
  for (const file of files) {
    const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    const self = new Map<number, number>();
    for (let i = 0; i < profile.samples.length; i++) {
      const id = profile.samples[i]!;
      self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
    }
    const byFunction = new Map<string, number>();
    const byArea = new Map<string, number>();
    let busy = 0;
    for (const [id, micros] of self) {
      const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
      const a = area(url, functionName);
      byArea.set(a, (byArea.get(a) ?? 0) + micros);
      if (a === 'idle') continue;
      busy += micros;
      const key = `${functionName || '(anonymous)'}  ${a}:${lineNumber + 1}`;
      byFunction.set(key, (byFunction.get(key) ?? 0) + micros);
    }
    const total = profile.endTime - profile.startTime;
    const share = (x: number) => `${((x / busy) * 100).toFixed(1).padStart(5)} %`;
    process.stdout.write(
      `${file}\n  ${(total / 1e6).toFixed(1)} s profiled, ${(busy / 1e6).toFixed(1)} s busy (shares below are of busy time)\n\n  by area:\n`,
    );
    for (const [a, micros] of [...byArea].sort((x, y) => y[1] - x[1])) {
      if (a !== 'idle') process.stdout.write(`  ${share(micros)}  ${a}\n`);
    }
    process.stdout.write('\n  by function (self time):\n');
    for (const [f, micros] of [...byFunction].sort((x, y) => y[1] - x[1]).slice(0, top)) {
      process.stdout.write(`  ${share(micros)}  ${f}\n`);
    }
    process.stdout.write('\n');
  }
}

main();
