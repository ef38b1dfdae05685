import { describe, expect, it } from 'vitest';
import { runSimulate } from '../../src/cli/simulate.js';
import { freePort as deadPort } from '../helpers/ports.js';

describe('simulate', () => {
  it('fails with the stream error, not a hang or an unhandled rejection, when the sidecar is unreachable', async () => {
    const port = await deadPort();
    await expect(runSimulate(['--target', `127.0.0.1:${port}`], () => undefined)).rejects.toThrow(/UNAVAILABLE/);
  });

  it('refuses bad flags with a message naming the flag', async () => {
    await expect(runSimulate(['--rounds', '0'], () => undefined)).rejects.toThrow('--rounds: must be a positive');
  });
});
