/**
 * Event-loop stalls measured so that a shared machine disturbs them less:
 * the gap between consecutive 1 ms timer ticks in wall time and in the
 * process's CPU time. A gap in which the process was descheduled is long in
 * wall time but not in CPU time, so the CPU figure approximates the longest
 * run of main-thread work (GC helper threads can add to it: on 2 cores, at
 * most double). The worst gaps are returned with the GC pauses inside them.
 */
import { constants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';

export interface Stall {
  /** Gap between two ticks; in milliseconds. */
  wallMs: number;
  /** Process CPU time (all threads) used in that gap; in milliseconds. */
  cpuMs: number;
  /** GC pauses that began inside the gap: total, and which kinds ('major', 'minor', 'incremental', 'weak'). */
  gcMs: number;
  gc: string[];
  /** The gap's ends, in `performance.now()` milliseconds: to find it in a CPU profile. */
  fromMs: number;
  toMs: number;
}

const KEEP = 5;
const GC_KINDS: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weak',
};

interface Gap {
  from: number;
  to: number;
  cpuMs: number;
}

export class StallMonitor {
  private timer: NodeJS.Timeout | undefined;
  private lastWall = 0;
  private lastCpu = 0;
  /** The KEEP gaps with the most CPU time. */
  private worst: Gap[] = [];
  private readonly gcs: PerformanceEntry[] = [];
  private readonly observer = new PerformanceObserver((list) => this.gcs.push(...list.getEntries()));

  start(): void {
    this.observer.observe({ entryTypes: ['gc'] });
    this.lastWall = performance.now();
    this.lastCpu = cpuMs();
    const tick = () => {
      const wall = performance.now();
      const cpu = cpuMs();
      this.record({ from: this.lastWall, to: wall, cpuMs: cpu - this.lastCpu });
      this.lastWall = wall;
      this.lastCpu = cpu;
      this.timer = setTimeout(tick, 1);
    };
    this.timer = setTimeout(tick, 1);
  }

  /** Stops, and returns the worst gaps by CPU time, worst first. */
  stop(): Stall[] {
    clearTimeout(this.timer);
    this.observer.disconnect();
    return this.worst.map((g) => {
      const inside = this.gcs.filter((e) => e.startTime >= g.from && e.startTime < g.to);
      return {
        wallMs: g.to - g.from,
        cpuMs: g.cpuMs,
        gcMs: inside.reduce((a, e) => a + e.duration, 0),
        gc: inside.map((e) => GC_KINDS[(e as { detail?: { kind?: number } }).detail?.kind ?? 0] ?? 'other'),
        fromMs: g.from,
        toMs: g.to,
      };
    });
  }

  private record(gap: Gap): void {
    const worst = this.worst;
    if (worst.length === KEEP && gap.cpuMs <= worst[KEEP - 1]!.cpuMs) return;
    worst.push(gap);
    worst.sort((a, b) => b.cpuMs - a.cpuMs);
    if (worst.length > KEEP) worst.pop();
  }
}

function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}
