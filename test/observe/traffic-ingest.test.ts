/**
 * The traffic metrics as the ingest path feeds them: SidecarService.trackStats
 * skips the second validity check when the registry accepted every stat, so
 * these batches mix valid stats with invalid ones (with and without a worker)
 * and check that only the valid ones are counted.
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { StreamType } from '../../src/core/analytics.js';
import { WorkerRegistry } from '../../src/core/registry.js';
import { LogRateLimiter, workerLogFields } from '../../src/observe/log.js';
import { SidecarMetrics } from '../../src/observe/metrics.js';
import { MemoryGuard } from '../../src/service/memory-guard.js';
import { SidecarService } from '../../src/service/sidecar.js';
import type { DecodedTrackStat } from '../../src/wire/session-decoder.js';
import { sample, stream } from '../helpers/stats.js';
import { Scrape } from '../helpers/scrape.js';

function ingest() {
  const logger = pino({ level: 'silent' });
  const metrics = new SidecarMetrics({ defaultMetrics: false });
  const service = new SidecarService({
    registry: new WorkerRegistry({ closeWaitMs: 60_000, maxWorkers: 100, maxTracksPerWorker: 100 }),
    flush: () => Promise.reject(new Error('not flushed in this test')),
    memory: new MemoryGuard({ limitBytes: undefined, logger }),
    metrics,
    logger,
    invalidStatLog: new LogRateLimiter(10, 60_000),
    workerFields: workerLogFields,
    leaseGraceMs: 60_000,
    flushWaitMs: 1_000,
  });
  service.activate({ roomId: 'R', roomName: '', participantId: 'P1', participantIdentity: '', guardId: 'g', connected: true });
  const send = (stats: DecodedTrackStat[]) => service.trackStats({ decode: () => ({ stats }), count: () => stats.length });
  const packets = async () =>
    new Scrape((await metrics.metricsText('text/plain')).body).value('telemetry_sidecar_packets_total', {
      direction: 'incoming',
      transmission: 'initial',
      country: 'DE',
    });
  return { send, packets };
}

function stat(participantId: string, primaryPackets: number): DecodedTrackStat {
  return {
    roomId: 'R',
    participantId,
    trackId: `TR_${primaryPackets}`,
    kind: StreamType.UPSTREAM,
    country: 'de',
    trackSource: 0,
    trackType: 0,
    stat: sample({ streams: [stream({ primaryPackets })] }),
  };
}

const INVALID = 2 ** 31;

describe('traffic metrics fed by TrackStats', () => {
  it('count every stat of a batch the registry accepted whole', async () => {
    const { send, packets } = ingest();
    expect(send([stat('P1', 3), stat('P1', 4)])).toEqual({ accepted: 2, invalid: 0, noWorker: 0 });
    expect(await packets()).toBe(7);
  });

  it('skip an invalid stat of a worker', async () => {
    const { send, packets } = ingest();
    expect(send([stat('P1', 3), stat('P1', INVALID)])).toEqual({ accepted: 1, invalid: 1, noWorker: 0 });
    expect(await packets()).toBe(3);
  });

  it('count a valid stat without a worker and skip an invalid one (the registry checks neither)', async () => {
    const { send, packets } = ingest();
    expect(send([stat('P1', 3), stat('P2', 5), stat('P2', INVALID)])).toEqual({ accepted: 1, invalid: 0, noWorker: 2 });
    expect(await packets()).toBe(8);
  });
});
