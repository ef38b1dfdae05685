/**
 * The ceiling of the stack (issue 16): a grpc-js TelemetrySidecar/Session
 * server that decodes nothing. Requests arrive as raw bytes (identity
 * deserializer) and each is answered with a pre-encoded TrackStats ack, so
 * what it costs is HTTP/2, grpc-js framing and the two copies per message.
 *
 * The ack echoes the request's seq without decoding it: the load generator
 * puts `seq` (field 1, varint) first, so its bytes are copied from the front
 * of the request into the response, ahead of the fixed rest. A request that
 * does not start with field 1 gets seq 0, as a decoder would read it.
 */
import { Server, ServerCredentials, type ServerDuplexStream, type ServiceDefinition } from '@grpc/grpc-js';
import { loadPackageDefinition } from '../src/wire/protos.js';

/** Tag of field 1 (seq) as a varint, in SessionRequest and SessionResponse alike. */
const SEQ_TAG = 0x08;
/** A uint64 varint is at most 10 bytes. */
const MAX_VARINT_BYTES = 10;

/** `stats` (field 5) = TrackStatsResponse{accepted: statsPerMessage}: the same ack the sidecar gives a clean request. */
function ackTail(statsPerMessage: number): Buffer {
  const body: number[] = [0x08];
  for (let v = statsPerMessage; ; v >>>= 7) {
    if (v < 0x80) {
      body.push(v);
      break;
    }
    body.push((v & 0x7f) | 0x80);
  }
  return Buffer.from([(5 << 3) | 2, body.length, ...body]);
}

/** The ack for `request`: its leading seq bytes (if any), then the fixed tail. */
export function transportAck(request: Buffer, tail: Buffer): Buffer {
  let end = 0;
  if (request[0] === SEQ_TAG) {
    end = 1;
    while (end <= MAX_VARINT_BYTES && end < request.length && request[end]! >= 0x80) end++;
    end++; // the byte that ends the varint
    if (end > request.length) end = 0; // truncated: answer as seq 0
  }
  const ack = Buffer.allocUnsafe(end + tail.length);
  request.copy(ack, 0, 0, end);
  tail.copy(ack, end);
  return ack;
}

export async function startTransportServer(statsPerMessage: number): Promise<{ port: number; close: () => void }> {
  const service = loadPackageDefinition()['telemetry.sidecar.v1.TelemetrySidecar'] as ServiceDefinition;
  const identity = (b: Buffer) => b;
  const tail = ackTail(statsPerMessage);
  const server = new Server({ 'grpc.max_receive_message_length': 4 * 1024 * 1024 });
  server.addService(
    { Session: { ...service.Session!, requestDeserialize: identity, responseSerialize: identity } },
    {
      Session: (call: ServerDuplexStream<Buffer, Buffer>) => {
        call.on('data', (req: Buffer) => call.write(transportAck(req, tail)));
        call.on('end', () => call.end());
        call.on('error', () => undefined);
      },
    },
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return { port, close: () => server.forceShutdown() };
}
