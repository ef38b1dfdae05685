/**
 * `telemetry-sidecar simulate`: a small example SFU. Opens a Session, says
 * Hello, activates participants, streams stats for their tracks in both
 * directions, flushes (waiting for delivery), releases everyone and ends.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { StreamType } from '../core/analytics.js';
import type { SessionRequest } from '../generated/telemetry/sidecar/v1/SessionRequest.js';
import type { SessionResponse__Output } from '../generated/telemetry/sidecar/v1/SessionResponse.js';
import type { TrackStat } from '../generated/telemetry/sidecar/v1/TrackStat.js';
import { createSidecarClient } from '../client/sidecar-client.js';
import { sampleStat, type SampleTrack } from './sample-stats.js';

export const SIMULATE_HELP = `telemetry-sidecar simulate [options]
  --target HOST:PORT     sidecar gRPC address (default 127.0.0.1:50151)
  --participants N       participants to simulate (default 3)
  --tracks N             tracks per participant, every other one video (default 2)
  --rounds N             stat reports per track and direction (default 5)
  --room NAME            room name (default demo)
  --token-file PATH      bearer token file, if the sidecar requires one`;

export async function runSimulate(argv: string[], log: (line: string) => void = console.log): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      target: { type: 'string', default: '127.0.0.1:50151' },
      participants: { type: 'string', default: '3' },
      tracks: { type: 'string', default: '2' },
      rounds: { type: 'string', default: '5' },
      room: { type: 'string', default: 'demo' },
      'token-file': { type: 'string' },
    },
    strict: true,
  });
  const count = (name: 'participants' | 'tracks' | 'rounds') => {
    const n = Number(values[name]);
    if (!Number.isInteger(n) || n < 1)
      throw new Error(`--${name} must be a positive whole number, got "${values[name]}"`);
    return n;
  };
  const participants = count('participants');
  const tracks = count('tracks');
  const rounds = count('rounds');
  const token = values['token-file'] ? readFileSync(values['token-file'], 'utf8').trim() : undefined;

  const client = createSidecarClient(values.target, token ? { token } : {});
  const call = client.Session();
  let seq = 0;
  const waiting = new Map<number, { answer: (r: SessionResponse__Output) => void; fail: (err: Error) => void }>();
  call.on('data', (r: SessionResponse__Output) => {
    waiting.get(Number(r.seq))?.answer(r);
    waiting.delete(Number(r.seq));
  });
  let failure: Error | undefined;
  const closed = new Promise<void>((resolve) => {
    call.on('end', resolve);
    // a stream that fails (sidecar unreachable, stopped) fails every request still waiting
    call.on('error', (err: Error) => {
      failure = err;
      for (const w of waiting.values()) w.fail(err);
      waiting.clear();
      resolve();
    });
  });
  const send = (req: Omit<SessionRequest, 'seq'>) =>
    new Promise<SessionResponse__Output>((resolve, reject) => {
      if (failure) return reject(failure);
      const n = ++seq;
      waiting.set(n, {
        answer: (r) => (r.error ? reject(new Error(`sidecar: ${r.error.message} (code ${r.error.code})`)) : resolve(r)),
        fail: reject,
      });
      call.write({ ...req, seq: n });
    });

  const roomId = `RM_${values.room}`;
  try {
    await send({ hello: { clientId: `simulate-${process.pid}` } });
    const people = Array.from({ length: participants }, (_, p) => ({
      participantId: `PA_${p}`,
      tracks: Array.from({ length: tracks }, (_, t): SampleTrack => ({ trackId: `TR_${p}_${t}`, video: t % 2 === 1 })),
    }));
    for (const person of people) {
      await send({
        activate: {
          roomId,
          roomName: values.room,
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
    call.end();
    await closed;
    if (failure) throw failure;
  } finally {
    client.close();
  }
}
