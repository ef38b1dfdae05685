import { afterEach, describe, expect, it } from 'vitest';
import { StreamType } from '../../src/core/analytics.js';
import type { SessionResponse__Output } from '../../src/generated/telemetry/sidecar/v1/SessionResponse.js';
import { scrape } from '../helpers/scrape.js';
import { startTestSidecar, type TestSidecar } from '../helpers/sidecar.js';
import { sample } from '../helpers/stats.js';

let t: TestSidecar | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

/**
 * Several times what the flow-control windows and stream buffers between a paused client and the
 * server can hold (about 4,000 of these requests), so the server must stop before the end.
 */
const REQUESTS = 12_000;
/**
 * The sidecar runs in this process, so every event-loop turn polls its socket: a server still
 * reading takes some of the requests waiting there in each turn. This many turns in a row without
 * a new accepted stat mean it has stopped — counted in turns, not time, so load cannot fool it.
 */
const STEADY_TURNS = 200;
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('Session flow control', () => {
  it('stops reading from a client that does not read its responses, and catches up when it does', async () => {
    t = await startTestSidecar();
    const call = t.client.Session();
    const responses: SessionResponse__Output[] = [];
    const all = new Promise<void>((resolve) =>
      call.on('data', (r: SessionResponse__Output) => {
        if (responses.push(r) === REQUESTS + 1) resolve();
      }),
    );
    call.pause();
    call.write({ seq: 0, activate: { roomId: 'R', participantId: 'P', guardId: 'g' } });
    const stats = {
      stats: [{ roomId: 'R', participantId: 'P', trackId: 'T', kind: StreamType.UPSTREAM, stat: sample() }],
    };
    for (let seq = 1; seq <= REQUESTS; seq++) call.write({ seq, stats });

    const accepted = async () => {
      const { values } = await t!.sidecar.metrics.registry
        .getSingleMetric('telemetry_sidecar_track_stats_total')!
        .get();
      return values.find((v) => v.labels.result === 'accepted')?.value ?? 0;
    };
    // the test's timeout bounds this loop; no timer decides when the server has stopped
    let plateau = await accepted();
    for (let steady = 0; steady < STEADY_TURNS; steady++) {
      await turn();
      const now = await accepted();
      if (now !== plateau) [plateau, steady] = [now, 0];
    }
    expect(plateau).toBeGreaterThan(0);
    expect(plateau).toBeLessThan(REQUESTS);
    expect(responses, 'the client read nothing while paused').toHaveLength(0);

    call.resume();
    await all;
    expect(responses.every((r, i) => Number(r.seq) === i && !r.error)).toBe(true);
    expect(await accepted()).toBe(REQUESTS);
    expect(
      (await scrape(t.sidecar.httpPort)).value('telemetry_sidecar_track_stats_total', { result: 'accepted' }),
    ).toBe(REQUESTS);
    call.end();
  });
});
