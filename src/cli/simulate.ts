/**
 * `telemetry-sidecar simulate`: a small example SFU. Opens a Session, says
 * Hello, activates participants, streams stats for their tracks in both
 * directions, flushes (waiting for delivery), releases everyone and ends.
 */
import { StreamType } from '../core/analytics.js';
import type { TrackStat } from '../generated/telemetry/sidecar/v1/TrackStat.js';
import { SessionClient, type SessionRequestBody } from '../client/session-client.js';
import {
  formatAddress,
  helpRows,
  loadSettings,
  positiveInt,
  readTokenFile,
  renderHelp,
  text,
  type Setting,
} from '../settings/index.js';
import { sampleStat, type SampleTrack } from './sample-stats.js';
import { TARGET_OPTION, TOKEN_FILE_OPTION } from './client-options.js';

const OPTIONS = {
  target: TARGET_OPTION,
  participants: { flag: 'participants', default: '3', parse: positiveInt, help: 'participants to simulate' },
  tracks: {
    flag: 'tracks',
    default: '2',
    parse: positiveInt,
    help: 'tracks per participant, every other one video',
  },
  rounds: { flag: 'rounds', default: '5', parse: positiveInt, help: 'stat reports per track and direction' },
  room: { flag: 'room', default: 'demo', parse: text, help: 'room name' },
  tokenFile: TOKEN_FILE_OPTION,
} satisfies Record<string, Setting<unknown>>;

export const SIMULATE_HELP = `telemetry-sidecar simulate [options]\n${renderHelp(helpRows(OPTIONS))}`;

export async function runSimulate(argv: string[], log: (line: string) => void = console.log): Promise<void> {
  const { values, names } = loadSettings(OPTIONS, { argv });
  const participants = values.participants!;
  const tracks = values.tracks!;
  const rounds = values.rounds!;
  const room = values.room!;
  const token = values.tokenFile === undefined ? undefined : readTokenFile(names.tokenFile, values.tokenFile);

  const session = SessionClient.open(formatAddress(values.target!), token ? { token } : {});
  // a refused request stops the example: each of its requests is valid
  const send = async (req: SessionRequestBody) => {
    const r = await session.send(req);
    if (r.error) throw new Error(`sidecar: ${r.error.message} (code ${r.error.code})`);
    return r;
  };

  const roomId = `RM_${room}`;
  try {
    await session.hello(`simulate-${process.pid}`);
    const people = Array.from({ length: participants }, (_, p) => ({
      participantId: `PA_${p}`,
      tracks: Array.from({ length: tracks }, (_, t): SampleTrack => ({ trackId: `TR_${p}_${t}`, video: t % 2 === 1 })),
    }));
    for (const person of people) {
      await send({
        activate: {
          roomId,
          roomName: room,
          participantId: person.participantId,
          participantIdentity: `user-${person.participantId}`,
          guardId: `join-${person.participantId}`,
          connected: true,
        },
      });
    }
    let sent = 0;
    for (let round = 0; round < rounds; round++) {
      const stats: TrackStat[] = [];
      for (const person of people) {
        for (const track of person.tracks) {
          for (const kind of [StreamType.UPSTREAM, StreamType.DOWNSTREAM]) {
            stats.push({
              roomId,
              participantId: person.participantId,
              trackId: track.trackId,
              kind,
              stat: sampleStat(track, 5, Date.now()),
            });
          }
        }
      }
      const r = await send({ stats: { stats } });
      sent += r.stats?.accepted ?? 0;
    }
    const flushed = await send({ flush: { waitDelivered: true } });
    log(
      `sent ${sent} stats for ${participants} participants; flush emitted ${flushed.flush?.statsEmitted ?? 0} coalesced stats` +
        ` (delivered: ${String(flushed.flush?.delivered)})`,
    );
    for (const person of people) {
      await send({ release: { roomId, participantId: person.participantId, guardId: `join-${person.participantId}` } });
    }
    await session.end();
  } finally {
    session.close();
  }
}
