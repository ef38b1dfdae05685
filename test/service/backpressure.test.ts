import { afterEach, describe, expect, it, vi } from 'vitest';
import { StreamType } from '../../src/core/analytics.js';
import type { SessionResponse__Output } from '../../src/generated/telemetry/sidecar/v1/SessionResponse.js';
import { scrape } from '../observe/scrape.js';
import { startTestSidecar, type TestSidecar } from '../helpers/sidecar.js';
import { sample } from '../helpers/stats.js';

let t: TestSidecar | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const REQUESTS = 40_000;

describe('Session flow control', () => {
  it('stops reading from a client that does not read its responses, and catches up when it does', async () => {
    t = await startTestSidecar();
    const call = t.client.Session();
    const responses: SessionResponse__Output[] = [];
    call.on('data', (r: SessionResponse__Output) => responses.push(r));
    call.pause();
    call.write({ seq: 0, activate: { roomId: 'R', participantId: 'P', guardId: 'g' } });
    const stats = {
      stats: [{ roomId: 'R', participantId: 'P', trackId: 'T', kind: StreamType.UPSTREAM, stat: sample() }],
    };
    for (let seq = 1; seq <= REQUESTS; seq++) call.write({ seq, stats });

    const port = t.sidecar.httpPort;
    const processed = async () =>
      (await scrape(port)).value('telemetry_sidecar_track_stats_total', { result: 'accepted' }) ?? 0;
    // wait until the server has stopped taking requests: three equal readings in a row
    let readings: number[] = [];
    await vi.waitFor(
      async () => {
        readings = [...readings.slice(-2), await processed()];
        expect(readings).toHaveLength(3);
        expect(new Set(readings).size).toBe(1);
      },
      { timeout: 15_000, interval: 100 },
    );
    const plateau = readings[0]!;
    expect(plateau).toBeGreaterThan(0);
    expect(plateau).toBeLessThan(REQUESTS);

    call.resume();
    await vi.waitFor(() => expect(responses).toHaveLength(REQUESTS + 1), { timeout: 30_000 });
    expect(responses.every((r, i) => Number(r.seq) === i && !r.error)).toBe(true);
    expect(await processed()).toBe(REQUESTS);
    call.end();
  });
});
