/**
 * The ingest baseline: a bare grpc-js TelemetrySidecar/Session server
 * that only decodes each request with @grpc/proto-loader's defaults (loadSync
 * with no decoding options) and answers it, so the load generator's flow
 * control works the same against it as against the sidecar.
 */
import { Server, ServerCredentials, type ServerDuplexStream, type ServiceDefinition } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { ANALYTICS_PROTO, protoDir, SIDECAR_PROTO } from '../src/wire/protos.js';

interface DefaultsRequest {
  seq?: unknown;
  hello?: object;
  activate?: object;
  release?: object;
  stats?: { stats?: unknown[] };
  flush?: object;
}

function respond(req: DefaultsRequest): object {
  const seq = req.seq ?? 0;
  if (req.stats) return { seq, stats: { accepted: req.stats.stats?.length ?? 0 } };
  if (req.activate) return { seq, activate: { refCount: 1, connected: true } };
  if (req.release) return { seq, release: { closed: true, found: true } };
  if (req.hello) return { seq, hello: {} };
  return { seq, flush: {} };
}

export async function startBareServer(): Promise<{ port: number; close: () => void }> {
  // includeDirs only says where the files are; decoding stays at the defaults
  const pkg = loadSync([SIDECAR_PROTO, ANALYTICS_PROTO], { includeDirs: [protoDir()] });
  const service = pkg['telemetry.sidecar.v1.TelemetrySidecar'] as ServiceDefinition;
  const server = new Server({ 'grpc.max_receive_message_length': 4 * 1024 * 1024 });
  server.addService(
    { Session: service.Session! },
    {
      Session: (call: ServerDuplexStream<DefaultsRequest, object>) => {
        call.on('data', (req: DefaultsRequest) => call.write(respond(req)));
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
