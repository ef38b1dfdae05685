/**
 * Attack soak (`npm run soak:attack`, not part of npm test): a real sidecar
 * process under valid Session load from several SFU streams, while
 * attackers send malformed, oversized, amplifying, non-UTF-8 and
 * unauthenticated messages as fast as they are answered. Reports RSS over
 * time and every answer by kind; fails (exit 1) if a valid request was
 * refused other than by a documented limit, an attack was answered other
 * than as docs/api.md says, or peak RSS passed the bound.
 *
 *   npm run soak:attack -- --duration 3m --rss-bound-mb 256
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  Client,
  credentials,
  Metadata,
  status,
  type ClientDuplexStream,
  type ServiceDefinition,
  type ServiceError,
} from '@grpc/grpc-js';
import { createSidecarClient, type TelemetrySidecarClient } from '../src/client/sidecar-client.js';
import { StreamType } from '../src/core/analytics.js';
import type { SessionRequest } from '../src/generated/telemetry/sidecar/v1/SessionRequest.js';
import type { SessionResponse__Output } from '../src/generated/telemetry/sidecar/v1/SessionResponse.js';
import { loadPackageDefinition } from '../src/wire/protos.js';
import { TRANSPORT_MAX_MESSAGE_BYTES } from '../src/service/server.js';
import { REQUEST_LIMITS } from '../src/wire/request-limits.js';

const MAIN = fileURLToPath(new URL('../src/main.js', import.meta.url));
const TOKEN = 'soak-token';
const SFU_STREAMS = 4;
const PARTICIPANTS_PER_STREAM = 25;
const TRACKS_PER_PARTICIPANT = 4;
const STATS_PER_REQUEST = 100;
/** Stats requests in flight per SFU stream. */
const WINDOW = 4;
const REPORT_EVERY_MS = 10_000;

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '3m' },
    'rss-bound-mb': { type: 'string', default: '256' },
    /** Valid load alone: the baseline to compare RSS with. */
    'no-attacks': { type: 'boolean', default: false },
  },
});
const durationMs = parseDuration(args.duration);
const rssBoundBytes = Number(args['rss-bound-mb']) * 2 ** 20;

function parseDuration(raw: string): number {
  const m = /^(\d+)(s|m)$/.exec(raw);
  if (!m) throw new Error(`--duration: expected e.g. 90s or 3m, got ${raw}`);
  return Number(m[1]) * (m[2] === 'm' ? 60_000 : 1000);
}

// ---- the sidecar process ----

interface Child {
  pid: number;
  grpcPort: number;
  httpPort: number;
  stop(): Promise<number | null>;
}

function startSidecar(dir: string): Promise<Child> {
  writeFileSync(join(dir, 'token'), `${TOKEN}\n`);
  const child = spawn(process.execPath, [MAIN, '--grpc-addr', '127.0.0.1:0', '--http-addr', '127.0.0.1:0'], {
    env: {
      PATH: process.env.PATH ?? '',
      SIDECAR_UPSTREAM: `file:${join(dir, 'stats.ndjson')}`,
      SIDECAR_GRPC_TOKEN_FILE: join(dir, 'token'),
      SIDECAR_FLUSH_INTERVAL: '5s',
      SIDECAR_NODE_ID: 'soak',
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const line = out.split('\n').find((l) => l.includes('"telemetry-sidecar serving"'));
      if (line) {
        const { grpcPort, httpPort } = JSON.parse(line) as { grpcPort: number; httpPort: number };
        // later lines are drained, not kept
        child.stdout.removeAllListeners('data');
        child.stdout.resume();
        resolve({
          pid: child.pid!,
          grpcPort,
          httpPort,
          stop: () => {
            child.kill('SIGTERM');
            return exited;
          },
        });
      }
    });
    void exited.then((code) => reject(new Error(`sidecar exited with ${code} before serving`)));
  });
}

function memory(pid: number): { rss: number; peak: number } {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB$`, 'm').exec(text)?.[1] ?? NaN) * 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

function scrape(port: number): Promise<string> {
  return new Promise((resolve, reject) =>
    get({ host: '127.0.0.1', port, path: '/metrics' }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(body));
    }).on('error', reject),
  );
}

// ---- tallies ----

/** Counts by label, e.g. `RESOURCE_EXHAUSTED` or `accepted`. */
class Tally {
  readonly counts = new Map<string, number>();
  add(label: string, n = 1): void {
    this.counts.set(label, (this.counts.get(label) ?? 0) + n);
  }
  get total(): number {
    let n = 0;
    for (const v of this.counts.values()) n += v;
    return n;
  }
  toString(): string {
    return [...this.counts].map(([k, v]) => `${k}=${v}`).join(' ') || '-';
  }
}

const validAnswers = new Tally();
/** Refusals of valid requests, by code and message: must stay empty. */
const validRefusals = new Tally();
const attackAnswers = new Map<string, Tally>();
/** Attacks answered other than docs/api.md says. */
const unexpected: string[] = [];

function attackAnswer(kind: string, code: number, expected: number[]): void {
  let t = attackAnswers.get(kind);
  if (!t) attackAnswers.set(kind, (t = new Tally()));
  t.add(status[code] ?? String(code));
  if (!expected.includes(code) && unexpected.length < 20) unexpected.push(`${kind}: ${status[code]}`);
}

// ---- valid load: SFU Session streams ----

let stopping = false;

async function sfu(client: TelemetrySidecarClient, index: number): Promise<void> {
  const call = client.Session();
  const waiting = new Map<string, (r: SessionResponse__Output) => void>();
  call.on('data', (r: SessionResponse__Output) => {
    const key = r.seq.toString();
    waiting.get(key)?.(r);
    waiting.delete(key);
  });
  const ended = new Promise<void>((resolve, reject) => {
    call.on('end', resolve);
    call.on('error', reject);
  });
  let seq = 0;
  const send = (req: Omit<SessionRequest, 'seq'>) =>
    new Promise<SessionResponse__Output>((resolve) => {
      const s = ++seq;
      waiting.set(String(s), resolve);
      call.write({ ...req, seq: s });
    });
  const check = (r: SessionResponse__Output, what: string) => {
    if (r.error) validRefusals.add(`${what}: ${status[r.error.code]} ${r.error.message}`);
    else validAnswers.add(what);
  };

  check(await send({ hello: { clientId: `sfu-${index}` } }), 'hello');
  const room = `RM_${index}`;
  const participants = Array.from({ length: PARTICIPANTS_PER_STREAM }, (_, p) => `PA_${index}_${p}`);
  for (const participantId of participants) {
    check(await send({ activate: { roomId: room, participantId, guardId: 'g', connected: true } }), 'activate');
  }
  let round = 0;
  const statsRequest = () => {
    const stats = [];
    for (let i = 0; i < STATS_PER_REQUEST; i++) {
      const n = round * STATS_PER_REQUEST + i;
      const participantId = participants[n % participants.length]!;
      const track = Math.floor(n / participants.length) % TRACKS_PER_PARTICIPANT;
      stats.push({
        roomId: room,
        participantId,
        trackId: track === 0 ? '' : `TR_${track}`,
        kind: n % 2 === 0 ? StreamType.UPSTREAM : StreamType.DOWNSTREAM,
        stat: {
          score: 4,
          mime: track % 2 ? 'video/VP8' : 'audio/opus',
          streams: [
            {
              primaryPackets: 50,
              primaryBytes: 6000,
              rtt: 20,
              videoLayers: track % 2 ? [0, 1, 2].map((layer) => ({ layer, packets: 16, bytes: 2000, frames: 5 })) : [],
              startTime: { seconds: 1_700_000_000 + round, nanos: 0 },
              endTime: { seconds: 1_700_000_005 + round, nanos: 0 },
            },
          ],
        },
      });
    }
    round++;
    return { stats: { stats } };
  };
  const lane = async () => {
    while (!stopping) {
      const r = await send(statsRequest());
      if (!r.error && r.stats && r.stats.accepted !== STATS_PER_REQUEST) {
        validRefusals.add(`stats: ${r.stats.accepted} of ${STATS_PER_REQUEST} accepted`);
      } else {
        check(r, 'stats');
      }
      if (round % 50 === 0) check(await send({ flush: {} }), 'flush');
    }
  };
  await Promise.all(Array.from({ length: WINDOW }, lane));
  for (const participantId of participants) {
    check(await send({ release: { roomId: room, participantId, guardId: 'g' } }), 'release');
  }
  call.end();
  await ended;
}

// ---- attackers ----

const service = loadPackageDefinition()['telemetry.sidecar.v1.TelemetrySidecar'] as ServiceDefinition;
const identity = (b: Buffer) => b;

class RawClient {
  private readonly client: Client;
  constructor(
    target: string,
    private readonly token: string | undefined,
  ) {
    // a connection of its own, so one attacker's flow control does not hold up another's
    this.client = new Client(target, credentials.createInsecure(), {
      'grpc.max_send_message_length': -1,
      'grpc.use_local_subchannel_pool': 1,
    });
  }
  private metadata(): Metadata {
    const m = new Metadata();
    if (this.token) m.set('authorization', `Bearer ${this.token}`);
    return m;
  }
  /** A unary call with raw bytes; resolves with the status code. */
  unary(method: string, bytes: Buffer): Promise<number> {
    return new Promise((resolve) =>
      this.client.makeUnaryRequest(service[method]!.path, identity, identity, bytes, this.metadata(), (err) =>
        resolve(err ? (err as ServiceError).code : status.OK),
      ),
    );
  }
  session(): ClientDuplexStream<Buffer, SessionResponse__Output> {
    const m = service.Session!;
    return this.client.makeBidiStreamRequest(
      m.path,
      identity,
      (b: Buffer) => m.responseDeserialize(b) as SessionResponse__Output,
      this.metadata(),
    );
  }
  close(): void {
    this.client.close();
  }
}

/** 699,040 six-byte stats: 4 MiB that once decoded to ~360 MB of objects. */
const AMPLIFYING = Buffer.concat(
  Array.from({ length: 699_040 }, () => Buffer.from([0x0a, 0x04, 0x2a, 0x02, 0x52, 0x00])),
);

function varint(value: number): Buffer {
  const out: number[] = [];
  while (value > 127) {
    out.push((value & 127) | 128);
    value >>>= 7;
  }
  out.push(value);
  return Buffer.from(out);
}

/** SessionRequest{seq: 1, <field>: body}. */
const sessionMessage = (field: number, body: Buffer) =>
  Buffer.concat([Buffer.from([0x08, 0x01, (field << 3) | 2]), varint(body.length), body]);

const badUtf8Activate = Buffer.concat([
  Buffer.from([0x0a, 0x02]),
  Buffer.from('RM'),
  Buffer.from([0x1a, 0x02, 0x50, 0xff]),
  Buffer.from([0x2a, 0x01, 0x67]),
]);

/** A field `tag` whose length runs past the end of the message, then random bytes: never a valid message. */
function malformed(tag: number): Buffer {
  const noise = Buffer.alloc(1 + Math.floor(Math.random() * 64));
  for (let i = 0; i < noise.length; i++) noise[i] = Math.floor(Math.random() * 256);
  return Buffer.concat([Buffer.from([tag]), varint(noise.length + 1 + Math.floor(Math.random() * 1000)), noise]);
}

/** One attacker: its messages on a Session, answered one at a time; the stream re-opened if the server ends it. */
async function sessionAttacker(client: RawClient, kind: string, next: () => Buffer, expected: number[]): Promise<void> {
  while (!stopping) {
    const call = client.session();
    const ended = new Promise<number>((resolve) => {
      call.on('error', (err: ServiceError) => resolve(err.code));
      call.on('end', () => resolve(status.OK));
    });
    let open = true;
    void ended.then(() => (open = false));
    while (!stopping && open) {
      const answer = new Promise<number>((resolve) =>
        call.once('data', (r: SessionResponse__Output) => resolve(r.error?.code ?? status.OK)),
      );
      call.write(next());
      const code = await Promise.race([answer, ended]);
      attackAnswer(kind, code, expected);
    }
    call.end();
    await ended;
  }
}

async function unaryAttacker(client: RawClient, kind: string, method: string, next: () => Buffer, expected: number[]) {
  while (!stopping) attackAnswer(kind, await client.unary(method, next()), expected);
}

// ---- the run ----

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'attack-soak-'));
  const child = await startSidecar(dir);
  const target = `127.0.0.1:${child.grpcPort}`;
  const start = memory(child.pid);
  console.log(
    `attack soak: ${durationMs / 1000}s against pid ${child.pid} (${target}); RSS at start ${mb(start.rss)}, bound on peak ${mb(rssBoundBytes)}`,
  );
  console.log(
    `valid load: ${SFU_STREAMS} Session streams × ${PARTICIPANTS_PER_STREAM} participants, ${STATS_PER_REQUEST} stats per request, ${WINDOW} in flight each`,
  );

  const clients = Array.from({ length: SFU_STREAMS }, () => createSidecarClient(target, { token: TOKEN }));
  const raws: RawClient[] = [];
  const authed = () => {
    const c = new RawClient(target, TOKEN);
    raws.push(c);
    return c;
  };
  const anonymous = new RawClient(target, undefined);
  raws.push(anonymous);
  const sfus = clients.map((c, i) => sfu(c, i));
  const { RESOURCE_EXHAUSTED, INVALID_ARGUMENT, UNAUTHENTICATED } = status;
  const huge = Buffer.alloc(REQUEST_LIMITS.messageBytes + 1024 * 1024, 0x41);
  const overCap = Buffer.alloc(TRANSPORT_MAX_MESSAGE_BYTES + 1024 * 1024, 0x41);
  const attackers = args['no-attacks']
    ? []
    : [
        unaryAttacker(authed(), 'unary amplifying TrackStats', 'TrackStats', () => AMPLIFYING, [RESOURCE_EXHAUSTED]),
        sessionAttacker(
          authed(),
          'Session amplifying stats',
          () => sessionMessage(5, AMPLIFYING.subarray(0, 699_000 * 6)),
          [RESOURCE_EXHAUSTED],
        ),
        sessionAttacker(authed(), 'Session message over 4 MiB', () => sessionMessage(2, huge), [RESOURCE_EXHAUSTED]),
        sessionAttacker(authed(), 'Session over the transport cap', () => sessionMessage(2, overCap), [
          RESOURCE_EXHAUSTED,
        ]),
        sessionAttacker(
          authed(),
          'Session malformed stats',
          () => Buffer.concat([Buffer.from([0x08, 0x01]), malformed(0x2a)]),
          [INVALID_ARGUMENT],
        ),
        unaryAttacker(authed(), 'unary malformed TrackStats', 'TrackStats', () => malformed(0x0a), [INVALID_ARGUMENT]),
        sessionAttacker(authed(), 'Session id not UTF-8', () => sessionMessage(3, badUtf8Activate), [INVALID_ARGUMENT]),
        unaryAttacker(anonymous, 'unauthenticated amplifying TrackStats', 'TrackStats', () => AMPLIFYING, [
          UNAUTHENTICATED,
        ]),
      ];

  const started = Date.now();
  let peak = start.peak;
  const report = setInterval(() => {
    const m = memory(child.pid);
    peak = Math.max(peak, m.peak);
    const attacks = [...attackAnswers.values()].reduce((n, t) => n + t.total, 0);
    void scrape(child.httpPort).then((text) => {
      const gauge = (name: string) => Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1] ?? NaN);
      console.log(
        `t=${Math.round((Date.now() - started) / 1000)}s rss=${mb(m.rss)} peak=${mb(m.peak)} heap=${mb(gauge('nodejs_heap_size_used_bytes'))} external=${mb(gauge('nodejs_external_memory_bytes'))} valid answered=${validAnswers.total} refused=${validRefusals.total} attacks answered=${attacks}`,
      );
    });
  }, REPORT_EVERY_MS);
  await new Promise((resolve) => setTimeout(resolve, durationMs));
  stopping = true;
  await Promise.all([...sfus, ...attackers]);
  clearInterval(report);
  peak = Math.max(peak, memory(child.pid).peak);

  const metrics = await scrape(child.httpPort);
  for (const c of clients) c.close();
  for (const c of raws) c.close();
  const code = await child.stop();
  rmSync(dir, { recursive: true, force: true });

  console.log('\nvalid requests answered:', validAnswers.toString());
  console.log('valid requests refused:', validRefusals.toString());
  for (const [kind, tally] of attackAnswers) console.log(`attack "${kind}": ${tally.toString()}`);
  for (const line of metrics.split('\n')) {
    if (/^telemetry_sidecar_(stats_dropped_total|track_stats_total)\{/.test(line)) console.log(line);
  }
  console.log(`peak RSS ${mb(peak)} (start ${mb(start.rss)}, bound ${mb(rssBoundBytes)}); sidecar exited ${code}`);

  const failures = [];
  if (validRefusals.total > 0) failures.push('valid requests were refused');
  if (unexpected.length > 0) failures.push(`attacks answered unexpectedly: ${unexpected.join(', ')}`);
  if (peak > rssBoundBytes) failures.push('peak RSS over the bound');
  if (code !== 0) failures.push(`sidecar exited ${code}`);
  console.log(failures.length === 0 ? 'PASS' : `FAIL: ${failures.join('; ')}`);
  process.exitCode = failures.length === 0 ? 0 : 1;
}

function mb(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

void main();
