import { afterEach, describe, expect, it } from 'vitest';
import { runLoadgen } from '../../src/cli/loadgen.js';
import { startTestSidecar, type TestSidecar } from '../helpers/sidecar.js';
import { scrape } from '../helpers/scrape.js';

let t: TestSidecar | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe('loadgen', () => {
  it('reports exactly the stats the sidecar accepted', async () => {
    t = await startTestSidecar();
    const lines: string[] = [];
    const report = await runLoadgen(
      [
        '--target',
        t.target,
        '--participants',
        '3',
        '--tracks',
        '2',
        '--stats-per-message',
        '4',
        '--streams',
        '2',
        '--messages',
        '5',
        '--in-flight',
        '2',
        '--flush',
      ],
      (line) => lines.push(line),
    );

    // 2 streams × 5 requests × 4 stats, all to activated participants
    expect(report.statsSent).toBe(40);
    expect(report.statsAcked).toBe(40);
    expect(report.accepted).toBe(40);
    expect(report.invalid + report.noWorker + report.streamErrors).toBe(0);
    expect(report.activations).toBe(3);
    expect(report.releases).toBe(3);
    expect(report.ingest.ackLatencyMs.count).toBe(10);
    expect(report.ingest.ackLatencyMs.p50).toBeLessThanOrEqual(report.ingest.ackLatencyMs.max);
    // 3 participants × 2 tracks, each reported in one direction
    expect(report.flush).toMatchObject({ statsEmitted: 6, delivered: true });
    expect(t.delivered()).toHaveLength(6);

    const s = await scrape(t.sidecar.httpPort);
    const accepted = s.samples.find(
      (m) => m.name === 'telemetry_sidecar_track_stats_total' && m.labels.result === 'accepted',
    );
    expect(accepted?.value).toBe(report.accepted);
    expect(lines.join('\n')).toContain('accepted 40, invalid 0, no worker 0');
  });

  it('releases its participants at the end, leaving their workers closing until the next flush', async () => {
    t = await startTestSidecar();
    const lines: string[] = [];
    const report = await runLoadgen(
      [
        '--target',
        t.target,
        '--participants',
        '2',
        '--tracks',
        '1',
        '--stats-per-message',
        '2',
        '--messages',
        '3',
        '--json',
      ],
      (line) => lines.push(line),
    );
    expect(report.accepted).toBe(6);
    expect(JSON.parse(lines[0]!)).toMatchObject({ accepted: 6, releases: 2 });
    expect(t.sidecar.registry.counts()).toMatchObject({ active: 0, closing: 2 });
    expect(t.sidecar.registry.list().map((w) => w.pendingTracks)).toEqual([1, 1]);
  });

  it('refuses bad flags with a message naming the flag', async () => {
    await expect(runLoadgen(['--participants', '0'], () => undefined)).rejects.toThrow(
      '--participants: must be a positive whole number',
    );
    await expect(runLoadgen(['--participants', '1', '--streams', '2'], () => undefined)).rejects.toThrow(
      '--streams: must not exceed --participants (1)',
    );
    // the settings language's durations, as everywhere: a unit is required
    await expect(runLoadgen(['--duration', '30'], () => undefined)).rejects.toThrow(
      '--duration: must be a duration with a unit',
    );
    await expect(runLoadgen(['--token-file', '/nonexistent/token'], () => undefined)).rejects.toThrow(
      '--token-file: cannot read /nonexistent/token',
    );
  });
});
