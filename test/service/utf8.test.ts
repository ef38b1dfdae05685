/**
 * Ids that are not valid UTF-8 are refused (docs/api.md, Ids): decoded with
 * replacement characters, `P\xff` and `P\xfe` would both become `P\uFFFD` and
 * land on the same worker.
 */
import { status } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeRequest, RawClient } from '../helpers/raw-rpc.js';
import { startTestSidecar, type TestSidecar } from '../helpers/sidecar.js';

let t: TestSidecar | undefined;
let raw: RawClient | undefined;
afterEach(async () => {
  raw?.close();
  raw = undefined;
  await t?.close();
  t = undefined;
});

/** A length-delimited field: tag, length, bytes. */
const field = (number: number, bytes: Buffer) => Buffer.concat([Buffer.from([(number << 3) | 2, bytes.length]), bytes]);
const text = (s: string) => Buffer.from(s);
const latin1 = (s: string) => Buffer.from(s, 'latin1');

/** ActivateRequest{room_id, participant_id, guard_id} from raw bytes. */
const activate = (room: Buffer, participant: Buffer, guard = text('g')) =>
  Buffer.concat([field(1, room), field(3, participant), field(5, guard)]);

async function refusal(call: Promise<unknown>): Promise<{ code: number; details: string }> {
  return call.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (err: { code: number; details: string }) => err,
  );
}

/** Bytes that are not UTF-8: a lone continuation byte, 0xfe/0xff, an overlong '/', a UTF-16 surrogate, a cut sequence. */
const INVALID = ['P\xff', 'P\xfe', 'P\x80', 'P\xc0\xaf', 'P\xed\xa0\x80', 'P\xe2\x82'].map(latin1);

describe('ids that are not valid UTF-8', () => {
  it('are refused with INVALID_ARGUMENT, so P\\xff and P\\xfe never share a worker', async () => {
    t = await startTestSidecar();
    raw = new RawClient(t.target);
    for (const bad of INVALID) {
      expect(await refusal(raw.unary('Activate', activate(text('RM'), bad))), bad.toString('hex')).toEqual(
        expect.objectContaining({ code: status.INVALID_ARGUMENT, details: 'participant_id is not valid UTF-8' }),
      );
    }
    expect((await refusal(raw.unary('Activate', activate(latin1('R\xff'), text('P'))))).details).toBe(
      'room_id is not valid UTF-8',
    );
    expect((await refusal(raw.unary('Activate', activate(text('R'), text('P'), latin1('g\xfe'))))).details).toBe(
      'guard_id is not valid UTF-8',
    );
    expect(
      (
        await refusal(
          raw.unary('Release', Buffer.concat([field(1, text('R')), field(2, latin1('P\xff')), field(3, text('g'))])),
        )
      ).details,
    ).toBe('participant_id is not valid UTF-8');
    expect((await refusal(raw.unary('ListWorkers', field(1, latin1('R\xff'))))).details).toBe(
      'room_id is not valid UTF-8',
    );
    // valid multi-byte ids are ids like any other
    expect(await raw.unary('Activate', activate(text('RM'), text('Pé€😀')))).toMatchObject({ found: false });
    expect(await raw.unary('ListWorkers', encodeRequest('ListWorkers', {}))).toMatchObject({
      workers: [expect.objectContaining({ participantId: 'Pé€😀' })],
    });
  });

  it('are refused in TrackStats, naming the stat and field', async () => {
    t = await startTestSidecar();
    raw = new RawClient(t.target);
    await raw.unary('Activate', activate(text('RM'), text('P')));
    const stat = (room: Buffer, participant: Buffer, track: Buffer, country = text('US')) =>
      field(
        1,
        Buffer.concat([
          field(1, room),
          field(2, participant),
          field(3, track),
          field(5, Buffer.alloc(0)),
          field(6, country),
        ]),
      );
    const ok = stat(text('RM'), text('P'), text('T'));
    const cases: [Buffer, string][] = [
      [stat(latin1('R\xff'), text('P'), text('T')), 'stats[1].room_id is not valid UTF-8'],
      [stat(text('RM'), latin1('P\xfe'), text('T')), 'stats[1].participant_id is not valid UTF-8'],
      [stat(text('RM'), text('P'), latin1('T\xff')), 'stats[1].track_id is not valid UTF-8'],
      [stat(text('RM'), text('P'), text('T'), latin1('U\xc0')), 'stats[1].country is not valid UTF-8'],
      [
        field(1, Buffer.concat([field(1, text('RM')), field(2, text('P')), field(5, field(11, latin1('video/\xff')))])),
        'stats[1].stat.mime is not valid UTF-8',
      ],
    ];
    for (const [bad, details] of cases) {
      expect(await refusal(raw.unary('TrackStats', Buffer.concat([ok, bad])))).toEqual(
        expect.objectContaining({ code: status.INVALID_ARGUMENT, details }),
      );
    }
    // a refused request records nothing
    expect(await raw.unary('ListWorkers', encodeRequest('ListWorkers', {}))).toMatchObject({
      workers: [expect.objectContaining({ pendingTracks: 0 })],
    });
    expect(await raw.unary('TrackStats', ok)).toMatchObject({ accepted: 1 });
  });

  it('get a StreamError on a Session, and the stream goes on', async () => {
    t = await startTestSidecar();
    raw = new RawClient(t.target);
    const s = raw.session();
    const seq = (n: number) => Buffer.from([0x08, n]);
    const hello = Buffer.concat([seq(1), field(2, field(1, latin1('sfu\xff')))]);
    expect(await s.send(hello)).toMatchObject({
      error: { code: status.INVALID_ARGUMENT, message: 'hello.client_id is not valid UTF-8' },
    });
    const bad = Buffer.concat([seq(2), field(3, activate(text('RM'), latin1('P\xff')))]);
    expect((await s.send(bad)).error).toEqual({
      code: status.INVALID_ARGUMENT,
      message: 'participant_id is not valid UTF-8',
    });
    const good = Buffer.concat([seq(3), field(3, activate(text('RM'), text('P')))]);
    expect((await s.send(good)).activate).toMatchObject({ found: false, refCount: 1 });
    expect(s.responses.map((r) => Number(r.seq))).toEqual([1, 2, 3]);
    await s.end();
  });
});
