/** Messages between the bench runner and its server child processes (over the Node IPC channel). */
import type { Stall } from './stall-monitor.js';

export type ChildMode = 'sidecar' | 'bare' | 'transport' | 'upstream';

export interface ChildRequest {
  id: number;
  cmd:
    'memory' | 'cpu' | 'profile-start' | 'profile-stop' | 'loop-delay-start' | 'loop-delay-stop' | 'received' | 'stop';
  /** profile-stop: where to write the .cpuprofile */
  path?: string;
}

export interface ChildReply {
  id: number;
  result?: unknown;
  error?: string;
}

export interface ReadyMessage {
  ready: true;
  port: number;
}

export interface MemoryReading {
  /** bytes, after two full GCs */
  rss: number;
  heapUsed: number;
  external: number;
}

export interface LoopDelay {
  /** Longest event-loop delay seen (monitorEventLoopDelay, 1 ms resolution); in milliseconds. */
  maxMs: number;
  p99Ms: number;
  meanMs: number;
  /**
   * Most process CPU time used between two 1 ms ticks; in milliseconds. Less
   * disturbed by a shared machine than maxMs (see stall-monitor.ts).
   */
  cpuMaxMs: number;
  /** The worst gaps by CPU time, with the GC pauses in them. */
  worst: Stall[];
}

export interface Received {
  stats: number;
  calls: number;
}

/** process.cpuUsage() of the child: user and system CPU of all its threads (GC helpers included); in microseconds. */
export interface CpuReading {
  user: number;
  system: number;
}
