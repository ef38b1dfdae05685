/**
 * What a hostile or broken client's request costs: refused with a clear
 * status after a bounded read, its stats counted as dropped, the Session
 * still open, the next valid request served (docs/api.md, Limits).
 */
import { status } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { StreamType } from '../../src/core/analytics.js';
import { TRANSPORT_MAX_MESSAGE_BYTES } from '../../src/service/server.js';
import { REQUEST_LIMITS } from '../../src/wire/request-limits.js';
import { scrape } from '../helpers/scrape.js';
import { amplifyingStats, encodeRequest, RawClient, sessionStatsRequest } from '../helpers/raw-rpc.js';
import { startTestSidecar, type TestSidecar } from '../helpers/sidecar.js';
import { sample } from '../helpers/stats.js';

let t: TestSidecar | undefined;
let raw: RawClient | undefined;
afterEach(async () => {
  raw?.close();
  raw = undefined;
  await t?.close();
  t = undefined;
});

/** 4,194,240 bytes of 699,040 tiny stats: the message of issue 11 item 1. */
const AMPLIFYING = amplifyingStats(699_040);
const who = { roomId: 'RM', participantId: 'PA' };
const activate = { ...who, guardId: 'g' };
const oneStat = { stats: [{ ...who, trackId: 'TR', kind: StreamType.UPSTREAM, stat: sample() }] };

async function refusal(call: Promise<unknown>): Promise<{ code: number; details: string }> {
  return call.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (err: { code: number; details: string }) => err,
  );
}

const dropped = async (port: number, reason: string) =>
  (await scrape(port)).value('telemetry_sidecar_stats_dropped_total', { reason }) ?? 0;

describe('request limits', () => {
  it('refuses the amplifying TrackStats with RESOURCE_EXHAUSTED, counts its stats, and serves the next request', async () => {
    t = await startTestSidecar();
    raw = new RawClient(t.target);
    expect(AMPLIFYING.length).toBe(4_194_240);
    const err = await refusal(raw.unary('TrackStats', AMPLIFYING));
    expect(err).toMatchObject({
      code: status.RESOURCE_EXHAUSTED,
      details: `request holds more than ${REQUEST_LIMITS.statsPerRequest} stats: split the request`,
    });
    expect(await dropped(t.sidecar.httpPort, 'request_limit')).toBe(699_040);
    await raw.unary('Activate', encodeRequest('Activate', activate));
    expect(await raw.unary('TrackStats', encodeRequest('TrackStats', oneStat))).toEqual({
      accepted: 1,
      invalid: 0,
      noWorker: 0,
    });
  });

  it('answers the amplifying message on a Session with a StreamError and keeps the stream open', async () => {
    t = await startTestSidecar();
    raw = new RawClient(t.target);
    const s = raw.session();
    const bomb = sessionStatsRequest(7, AMPLIFYING.subarray(0, 699_000 * 6));
    expect(bomb.length).toBeLessThanOrEqual(REQUEST_LIMITS.messageBytes);
    expect(await s.send(bomb)).toMatchObject({
      seq: expect.objectContaining({ low: 7 }),
      error: { code: status.RESOURCE_EXHAUSTED, message: expect.stringContaining('split the request') },
    });
    expect((await s.send(encodeRequest('Session', { seq: 8, activate }))).activate).toMatchObject({ refCount: 1 });
    expect((await s.send(encodeRequest('Session', { seq: 9, stats: oneStat }))).stats).toMatchObject({ accepted: 1 });
    expect(await dropped(t.sidecar.httpPort, 'request_limit')).toBe(699_000);
    await s.end();
  });

  it('refuses a stat with too many streams, a stream with too many layers, and too many nested messages', async () => {
    t = await startTestSidecar();
    raw = new RawClient(t.target);
    await raw.unary('Activate', encodeRequest('Activate', activate));
    const stat = (streams: object[]) => ({ stats: [{ ...who, trackId: 'T', stat: { streams } }] });
    const err1 = await refusal(
      raw.unary('TrackStats', encodeRequest('TrackStats', stat(Array.from({ length: 17 }, () => ({ ssrc: 1 }))))),
    );
    expect(err1).toMatchObject({ code: status.RESOURCE_EXHAUSTED, details: expect.stringContaining('16 streams') });
    const layers = Array.from({ length: 17 }, (_, layer) => ({ layer, packets: 1 }));
    const err2 = await refusal(raw.unary('TrackStats', encodeRequest('TrackStats', stat([{ videoLayers: layers }]))));
    expect(err2).toMatchObject({
      code: status.RESOURCE_EXHAUSTED,
      details: expect.stringContaining('16 video layers'),
    });
    // 4,000 stats of 16 streams each: every count within its own limit, 68,000 nested messages in all
    const many = {
      stats: Array.from({ length: 4000 }, () => ({
        ...who,
        trackId: 'T',
        stat: { streams: Array.from({ length: 16 }, () => ({})) },
      })),
    };
    const err3 = await refusal(raw.unary('TrackStats', encodeRequest('TrackStats', many)));
    expect(err3).toMatchObject({
      code: status.RESOURCE_EXHAUSTED,
      details: expect.stringContaining('nested messages'),
    });
    // the limits are far above a real request: 100 video stats of one stream and three layers each
    const real = {
      stats: Array.from({ length: 100 }, (_, i) => ({
        ...who,
        trackId: `T${i % 10}`,
        stat: { streams: [{ videoLayers: [0, 1, 2].map((layer) => ({ layer, packets: 1 })) }] },
      })),
    };
    expect(await raw.unary('TrackStats', encodeRequest('TrackStats', real))).toMatchObject({ accepted: 100 });
  });

  it('refuses a unary message over 4 MiB with RESOURCE_EXHAUSTED, and one over the transport cap too', async () => {
    t = await startTestSidecar();
    raw = new RawClient(t.target);
    const big = encodeRequest('Activate', { ...activate, roomName: 'x'.repeat(5 * 1024 * 1024) });
    expect(await refusal(raw.unary('Activate', big))).toMatchObject({
      code: status.RESOURCE_EXHAUSTED,
      details: expect.stringContaining('4194304-byte message size limit'),
    });
    const huge = encodeRequest('Activate', { ...activate, roomName: 'x'.repeat(TRANSPORT_MAX_MESSAGE_BYTES) });
    expect((await refusal(raw.unary('Activate', huge))).code).toBe(status.RESOURCE_EXHAUSTED);
    expect(await raw.unary('Activate', encodeRequest('Activate', activate))).toMatchObject({ found: false });
  });

  it('answers a Session message over 4 MiB with a StreamError, and the stream keeps answering', async () => {
    t = await startTestSidecar();
    raw = new RawClient(t.target);
    const s = raw.session();
    expect((await s.send(encodeRequest('Session', { seq: 1, activate }))).activate).toMatchObject({ refCount: 1 });
    const big = encodeRequest('Session', {
      seq: 2,
      stats: { stats: oneStat.stats },
      hello: { clientId: 'x'.repeat(5 << 20) },
    });
    expect(await s.send(big)).toMatchObject({
      error: { code: status.RESOURCE_EXHAUSTED, message: expect.stringContaining('message size limit') },
    });
    expect(s.responses.map((r) => Number(r.seq))).toEqual([1, 2]);
    expect(await dropped(t.sidecar.httpPort, 'request_limit')).toBe(1);
    expect((await s.send(encodeRequest('Session', { seq: 3, stats: oneStat }))).stats).toMatchObject({ accepted: 1 });
    await s.end();
  });

  it('ends a Session whose message is over the transport cap with RESOURCE_EXHAUSTED (documented)', async () => {
    t = await startTestSidecar();
    raw = new RawClient(t.target);
    const s = raw.session();
    const huge = encodeRequest('Session', { seq: 1, hello: { clientId: 'x'.repeat(TRANSPORT_MAX_MESSAGE_BYTES) } });
    s.call.write(huge);
    await expect(s.ended).rejects.toMatchObject({ code: status.RESOURCE_EXHAUSTED });
  });

  it('answers malformed bytes with INVALID_ARGUMENT, counting the stats it can see', async () => {
    t = await startTestSidecar();
    raw = new RawClient(t.target);
    // two stats, the second cut short
    const body = Buffer.concat([encodeRequest('TrackStats', oneStat), Buffer.from([0x0a, 0x7f, 0x01])]);
    expect(await refusal(raw.unary('TrackStats', body))).toMatchObject({
      code: status.INVALID_ARGUMENT,
      details: expect.stringMatching(/^malformed TrackStatsRequest: /),
    });
    expect(await dropped(t.sidecar.httpPort, 'malformed')).toBe(2);
  });
});

describe('memory guard', () => {
  it('refuses stats with UNAVAILABLE before their body is decoded, while guards keep working', async () => {
    // any RSS is over 1 MiB: the guard is over its limit from the start
    t = await startTestSidecar({ SIDECAR_MEMORY_LIMIT_MB: '1' });
    raw = new RawClient(t.target);
    expect(await raw.unary('Activate', encodeRequest('Activate', activate))).toMatchObject({ refCount: 1 });
    // bytes that would be refused as malformed (or over a limit) if they were decoded first
    const malformed = Buffer.from([0x0a, 0x7f, 0x01]);
    expect(await refusal(raw.unary('TrackStats', malformed))).toMatchObject({
      code: status.UNAVAILABLE,
      details: expect.stringContaining('memory limit'),
    });
    expect(await refusal(raw.unary('TrackStats', AMPLIFYING))).toMatchObject({ code: status.UNAVAILABLE });
    const s = raw.session();
    expect((await s.send(sessionStatsRequest(4, malformed))).error).toMatchObject({ code: status.UNAVAILABLE });
    expect(
      (await s.send(encodeRequest('Session', { seq: 5, release: { ...who, guardId: 'g' } }))).release,
    ).toMatchObject({
      closed: true,
    });
    // the cut-short body holds one (partial) stat, sent twice
    expect(await dropped(t.sidecar.httpPort, 'memory_limit')).toBe(1 + 699_040 + 1);
    await s.end();
  });
});
