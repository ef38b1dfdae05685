/**
 * A real livekit.AnalyticsRecorderService/IngestStats server for the delivery
 * benchmark. It counts the stats of each AnalyticsStats message by walking
 * its top-level fields instead of decoding them, so the upstream's own CPU
 * (it shares the machine) stays small next to the sidecar's.
 */
import {
  Server,
  ServerCredentials,
  type sendUnaryData,
  type ServerReadableStream,
  type ServiceDefinition,
} from '@grpc/grpc-js';
import { loadPackageDefinition } from '../src/wire/protos.js';
import type { Received } from './ipc.js';

function readVarint(buf: Buffer, pos: number): [number, number] {
  let value = 0;
  let scale = 1;
  for (;;) {
    const byte = buf[pos++];
    if (byte === undefined) throw new Error('truncated varint');
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) return [value, pos];
    scale *= 128;
  }
}

/** Number of `stats` (field 1) entries in an encoded AnalyticsStats. */
export function countStats(buf: Buffer): number {
  let n = 0;
  let pos = 0;
  while (pos < buf.length) {
    const [tag, afterTag] = readVarint(buf, pos);
    const wire = tag & 7;
    if (wire === 2) {
      const [len, afterLen] = readVarint(buf, afterTag);
      pos = afterLen + len;
      if (tag >>> 3 === 1) n++;
    } else if (wire === 0) pos = readVarint(buf, afterTag)[1];
    else if (wire === 1) pos = afterTag + 8;
    else if (wire === 5) pos = afterTag + 4;
    else throw new Error(`unexpected wire type ${wire}`);
  }
  return n;
}

export async function startCountingUpstream(): Promise<{ port: number; received: Received; close: () => void }> {
  const service = loadPackageDefinition()['livekit.AnalyticsRecorderService'] as ServiceDefinition;
  const ingest = service.IngestStats!;
  const received: Received = { stats: 0, calls: 0 };
  const server = new Server({ 'grpc.max_receive_message_length': 8 * 1024 * 1024 });
  server.addService(
    { IngestStats: { ...ingest, requestDeserialize: (b: Buffer) => b } },
    {
      IngestStats: (call: ServerReadableStream<Buffer, object>, callback: sendUnaryData<object>) => {
        let stats = 0;
        call.on('data', (message: Buffer) => (stats += countStats(message)));
        call.on('end', () => {
          received.stats += stats;
          received.calls++;
          callback(null, {});
        });
      },
    },
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return { port, received, close: () => server.forceShutdown() };
}
