/**
 * Where the process's log lines go: stdout (stderr when stdout carries the
 * stats), through a bounded buffer that never holds up the event loop.
 *
 * The container runtime reads a container's stdout through a pipe. When it
 * stops reading (a full node disk, a stuck log agent), pino's default
 * destination keeps every line in memory until the pipe drains, without a
 * bound, and flushes synchronously at exit, so the process cannot exit while
 * the pipe stays full. Here the lines waiting are capped; a line that does
 * not fit is dropped and counted (`telemetry_sidecar_log_lines_dropped_total`,
 * docs/metrics.md), and the exit flush gives the pipe a second at most.
 */
import { Counter, type Registry } from 'prom-client';
import sonicBoom from 'sonic-boom';

// a CommonJS module: its class is the default export, typed as the namespace that names it
const { SonicBoom } = sonicBoom;
type SonicBoom = InstanceType<typeof SonicBoom>;

/**
 * Log bytes held while the reader is behind: ~13,000 lines of ~300 bytes,
 * far more than a burst of joins logs, small beside the sidecar's memory.
 */
export const LOG_BUFFER_BYTES = 4 * 1024 * 1024;

/** How long the exit flush waits for a full pipe to take the last lines. */
const EXIT_WAIT_MS = 1_000;

export type LogFd = 1 | 2;

export class LogOutput {
  private readonly stream: SonicBoom;
  private droppedLines = 0;
  /** A write failed for good (the reader went away: EPIPE): every later line is dropped. */
  private broken = false;
  /** Until when a full pipe is waited for (retried every 100 ms); from exit on, a second at most. */
  private waitUntil = Infinity;

  constructor(readonly fd: LogFd) {
    // The stdio stream's first use turns a pipe non-blocking (libuv), so a
    // write to a full pipe fails with EAGAIN instead of waiting: the buffer
    // then retries every 100 ms, and the exit flush can give up.
    void (fd === 1 ? process.stdout : process.stderr);
    this.stream = new SonicBoom({
      fd,
      maxLength: LOG_BUFFER_BYTES,
      retryEAGAIN: () => Date.now() < this.waitUntil,
    });
    // pino writes one line per write()
    this.stream.on('drop', () => this.droppedLines++);
    // sonic-boom retries EAGAIN itself and reports any other failed write
    // (EPIPE: the reader went away). Its flushSync() would then retry for ever,
    // so a broken output writes nothing more, at exit included.
    this.stream.on('error', () => (this.broken = true));
    process.once('exit', () => this.flushAtExit());
  }

  /** One log line (pino's destination interface). */
  write(line: string): void {
    if (this.broken) this.droppedLines++;
    else this.stream.write(line);
  }

  /** Lines that did not fit in the buffer, since the start. */
  get dropped(): number {
    return this.droppedLines;
  }

  /**
   * Writes what the pipe takes within EXIT_WAIT_MS: the last lines of a
   * shutdown matter, but a stalled reader must not keep the process.
   */
  flushAtExit(): void {
    if (this.broken) return;
    this.waitUntil = Date.now() + EXIT_WAIT_MS;
    try {
      this.stream.flushSync();
    } catch {
      // the pipe still full after EXIT_WAIT_MS: what is left is lost with the process
    }
  }
}

const outputs = new Map<LogFd, LogOutput>();

/** The process's one output on `fd`: every logger writing there shares it, so lines never interleave. */
export function logOutput(fd: LogFd = 1): LogOutput {
  let output = outputs.get(fd);
  if (!output) outputs.set(fd, (output = new LogOutput(fd)));
  return output;
}

/** Lines dropped by every output of the process so far. */
export function droppedLogLines(): number {
  let n = 0;
  for (const output of outputs.values()) n += output.dropped;
  return n;
}

export const LOG_DROPS_METRIC = 'telemetry_sidecar_log_lines_dropped_total';

/** The drop counter on `registry` (the sidecar's and the webhook's), read from the outputs at every scrape. */
export function registerLogDrops(registry: Registry): void {
  const counter: Counter = new Counter({
    name: LOG_DROPS_METRIC,
    help: 'Log lines dropped because the reader of stdout (or stderr) fell 4 MiB behind.',
    registers: [registry],
    collect: () => {
      counter.reset();
      counter.inc(droppedLogLines());
    },
  });
}
