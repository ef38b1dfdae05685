/**
 * Where the process's log lines go: stdout (stderr when stdout carries the
 * stats), through a bounded buffer that never holds up the event loop
 * (docs/metrics.md, "Logs").
 *
 * The container runtime reads a container's stdout through a pipe. When it
 * stops reading (a full node disk, a stuck log agent), pino's default
 * destination keeps every line in memory until the pipe drains, without a
 * bound, and flushes synchronously at exit, so the process cannot exit while
 * the pipe stays full. Here at most LOG_BUFFER_BYTES of lines wait; a line
 * that does not fit is dropped and counted
 * (`telemetry_sidecar_log_lines_dropped_total`), as is every line once the
 * reader has gone away; the exit flush gives a full pipe a second at most.
 *
 * Written here rather than with pino's sonic-boom (which has a `maxLength`):
 * its synchronous flush retries every error but EAGAIN for ever, so a reader
 * gone at exit (EPIPE) would keep the process alive (pino itself replaces the
 * stream's methods on EPIPE to get out of it), and it cannot tell how many
 * lines a broken pipe took with it.
 */
import { write, writeSync } from 'node:fs';
import { Counter, type Registry } from 'prom-client';

/**
 * Log bytes held while the reader is behind: ~13,000 lines of ~300 bytes,
 * far more than a burst of joins logs, small beside the sidecar's memory.
 */
export const LOG_BUFFER_BYTES = 4 * 1024 * 1024;

/** Whole lines handed to one write(2), about this many bytes (a longer line goes alone). */
const CHUNK_BYTES = 64 * 1024;
const NEWLINE = 0x0a;
/** A full pipe is tried again after this long. */
const RETRY_MS = 100;
/** How long the exit flush waits for a full pipe to take the last lines. */
const EXIT_WAIT_MS = 1_000;

export type LogFd = 1 | 2;

export class LogOutput {
  /** Lines not yet in a chunk, oldest first (at most LOG_BUFFER_BYTES of them: splicing is cheap). */
  private lines: string[] = [];
  /** Bytes of the waiting lines and of the chunk: what the bound applies to. */
  private heldBytes = 0;
  /** The bytes being written (whole lines), how far they are, and how many lines they hold. */
  private chunk: Buffer | undefined;
  private chunkDone = 0;
  private chunkLines = 0;
  /** A write(2) is in the thread pool, or a retry is pending. */
  private busy = false;
  private inFlight = false;
  /** A write failed for good (the reader went away: EPIPE): every later line is dropped. */
  private broken = false;
  private droppedLines = 0;

  /** `fd`: stdout or stderr (logOutput), or a descriptor opened non-blocking (tests). */
  constructor(readonly fd: number) {
    // The stdio stream's first use turns a pipe non-blocking (libuv), so a
    // write to a full pipe fails with EAGAIN instead of waiting, and the exit
    // flush can give up.
    if (fd === 1) void process.stdout;
    else if (fd === 2) void process.stderr;
    process.once('exit', () => this.flushAtExit());
  }

  /** @internal lines waiting in memory, not yet handed to a write (tests check none is kept once taken). */
  get waitingLines(): number {
    return this.lines.length;
  }

  /** Lines dropped since the start: over the bound, or after the reader went away. */
  get dropped(): number {
    return this.droppedLines;
  }

  /** One log line (pino's destination interface). */
  write(line: string): void {
    const bytes = Buffer.byteLength(line);
    if (this.broken || this.heldBytes + bytes > LOG_BUFFER_BYTES) {
      this.droppedLines++;
      return;
    }
    this.lines.push(line);
    this.heldBytes += bytes;
    if (!this.busy) this.next();
  }

  private next(): void {
    if (!this.chunk && !this.cut()) {
      this.busy = false;
      return;
    }
    const chunk = this.chunk!;
    this.busy = true;
    this.inFlight = true;
    write(this.fd, chunk, this.chunkDone, chunk.length - this.chunkDone, null, (err, written) => {
      this.inFlight = false;
      if (err) return this.failed(err);
      this.chunkDone += written;
      if (this.chunkDone === chunk.length) {
        this.heldBytes -= chunk.length;
        this.chunk = undefined;
      }
      this.next();
    });
  }

  /**
   * Moves the oldest waiting lines into a new chunk; false when none wait.
   * The chunk's size is measured in characters: only the bound (heldBytes)
   * needs exact bytes, and a chunk somewhat over CHUNK_BYTES is written in
   * parts like any other.
   */
  private cut(): boolean {
    if (this.lines.length === 0) return false;
    let end = 1;
    let size = this.lines[0]!.length;
    while (end < this.lines.length && size + this.lines[end]!.length <= CHUNK_BYTES) size += this.lines[end++]!.length;
    this.chunk = Buffer.from(this.lines.splice(0, end).join(''));
    this.chunkDone = 0;
    this.chunkLines = end;
    return true;
  }

  private failed(err: NodeJS.ErrnoException): void {
    if (err.code === 'EAGAIN') {
      // the pipe is full: its reader is behind, or not reading at all
      setTimeout(() => this.next(), RETRY_MS).unref();
      return;
    }
    // the reader is gone: what waits is dropped, and so is each line of the chunk not written whole
    this.broken = true;
    this.busy = false;
    this.droppedLines += this.chunkLinesLeft() + this.lines.length;
    this.lines = [];
    this.chunk = undefined;
    this.heldBytes = 0;
  }

  /** Lines of the chunk not yet written whole (each line ends with its newline). */
  private chunkLinesLeft(): number {
    if (!this.chunk) return 0;
    let whole = 0;
    for (
      let at = this.chunk.indexOf(NEWLINE);
      at !== -1 && at < this.chunkDone;
      at = this.chunk.indexOf(NEWLINE, at + 1)
    ) {
      whole++;
    }
    return this.chunkLines - whole;
  }

  /**
   * Writes what the pipe takes within EXIT_WAIT_MS: the last lines of a
   * shutdown matter, but a stalled or vanished reader must not keep the
   * process. A chunk whose write is still in the thread pool is left to it.
   */
  flushAtExit(): void {
    if (this.broken) return;
    const rest = this.chunk && !this.inFlight ? [this.chunk.subarray(this.chunkDone)] : [];
    rest.push(Buffer.from(this.lines.join('')));
    const bytes = Buffer.concat(rest);
    const deadline = Date.now() + EXIT_WAIT_MS;
    for (let at = 0; at < bytes.length;) {
      try {
        at += writeSync(this.fd, bytes, at, bytes.length - at);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN' || Date.now() >= deadline) return;
        Atomics.wait(PAUSE, 0, 0, 10);
      }
    }
  }
}

/** Something to Atomics.wait on: a short synchronous pause while a full pipe drains at exit. */
const PAUSE = new Int32Array(new SharedArrayBuffer(4));

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
    help: 'Log lines dropped because the reader of stdout (or stderr) fell 4 MiB behind or went away.',
    registers: [registry],
    collect: () => {
      counter.reset();
      counter.inc(droppedLogLines());
    },
  });
}
