/** The log writer on a real pipe (a FIFO), read at the test's pace. */
import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LogOutput } from '../../src/observe/log-output.js';

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
    const total = 20_000;
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
});
