/** The log writer on a real pipe (a FIFO), read at the test's pace. */
import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LOG_BUFFER_BYTES, LogOutput } from '../../src/observe/log-output.js';

let dir: string;
let reader: number;
let writer: number;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'log-output-'));
  const fifo = join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  writer = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
});
afterEach(() => {
  closeSync(reader);
  closeSync(writer);
  rmSync(dir, { recursive: true, force: true });
});

/** Reads what the pipe holds now; the number of lines in it. */
function readLines(): number {
  const buffer = Buffer.alloc(1 << 16);
  let lines = 0;
  for (;;) {
    let n: number;
    try {
      n = readSync(reader, buffer, 0, buffer.length, null);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EAGAIN') return lines;
      throw err;
    }
    if (n === 0) return lines;
    for (let i = 0; i < n; i++) if (buffer[i] === 0x0a) lines++;
  }
}

describe('LogOutput', () => {
  it('lets go of each line once it is taken for writing, while the reader stays behind', async () => {
    const out = new LogOutput(writer);
    const line = `${'x'.repeat(99)}\n`;
    const total = 5_000;
    for (let i = 0; i < total; i++) out.write(line);
    let read = 0;
    // read about half, a pipeful at a time, giving the writer time to refill it after each read
    while (read < total / 2) {
      read += readLines();
      await sleep(5);
    }
    // lines read, in the pipe or in the chunk being written are no longer held as waiting lines
    expect(out.waitingLines).toBeLessThanOrEqual(total - read);
    expect(out.dropped).toBe(0);
    while (read < total) {
      read += readLines();
      await sleep(5);
    }
    expect(read).toBe(total);
    expect(out.waitingLines).toBe(0);
  });

  it('holds at most LOG_BUFFER_BYTES for a reader that reads nothing, and counts each line past it', async () => {
    const out = new LogOutput(writer);
    const line = `${'y'.repeat(999)}\n`;
    const total = Math.ceil((2 * LOG_BUFFER_BYTES) / line.length);
    for (let i = 0; i < total; i++) out.write(line);
    await sleep(50);
    expect(out.waitingLines * line.length).toBeLessThanOrEqual(LOG_BUFFER_BYTES);
    // the rest went to the pipe (64 KiB) or is the chunk being written (64 KiB at most), or was dropped
    const taken = total - out.waitingLines - out.dropped;
    expect(taken).toBeGreaterThan(0);
    expect(taken * line.length).toBeLessThanOrEqual(2 * 64 * 1024 + line.length);
  });

  it('writes what waits at exit, and gives up on a pipe that stays full', () => {
    const out = new LogOutput(writer);
    // the first line's chunk goes to the thread pool; the others wait behind it
    for (let i = 0; i < 100; i++) out.write(`line ${i}\n`);
    out.flushAtExit();
    // the chunk in flight is left to the thread pool; every other line is in the pipe now
    const first = readLines();
    expect(first).toBeGreaterThanOrEqual(99);

    const full = new LogOutput(writer);
    const big = `${'z'.repeat(9_999)}\n`;
    for (let i = 0; i < 100; i++) full.write(big);
    // it fills the pipe and returns, though nobody reads (an endless wait would run into the test's timeout)
    full.flushAtExit();
    expect(readLines()).toBeGreaterThan(0);
  });
});
