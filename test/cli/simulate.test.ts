import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { runSimulate } from '../../src/cli/simulate.js';

/** A loopback port nothing listens on. */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('simulate', () => {
  it('fails with the stream error, not a hang or an unhandled rejection, when the sidecar is unreachable', async () => {
    const port = await deadPort();
    await expect(runSimulate(['--target', `127.0.0.1:${port}`], () => undefined)).rejects.toThrow(/UNAVAILABLE/);
  });

  it('refuses bad flags with a message naming the flag', async () => {
    await expect(runSimulate(['--rounds', '0'], () => undefined)).rejects.toThrow('--rounds: must be a positive');
  });
});
