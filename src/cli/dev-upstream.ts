/** `telemetry-sidecar dev-upstream`: runs the development AnalyticsRecorderService until SIGTERM/SIGINT. */
import { parseArgs } from 'node:util';
import { DevUpstream } from '../dev/upstream-server.js';

export const DEV_UPSTREAM_HELP = `telemetry-sidecar dev-upstream [options]
  --listen HOST:PORT     address to serve livekit.AnalyticsRecorderService on (default 127.0.0.1:50152)
  --out PATH             NDJSON file for received stats (default ./data/upstream-received.ndjson)`;

export async function runDevUpstream(argv: string[], log: (line: string) => void = console.log): Promise<DevUpstream> {
  const { values } = parseArgs({
    args: argv,
    options: {
      listen: { type: 'string', default: '127.0.0.1:50152' },
      out: { type: 'string', default: './data/upstream-received.ndjson' },
    },
    strict: true,
  });
  const m = /^(.*):(\d+)$/.exec(values.listen);
  if (!m) throw new Error(`--listen: expected host:port, got "${values.listen}"`);
  const upstream = new DevUpstream({ host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]), out: values.out });
  const port = await upstream.start();
  log(`dev-upstream: livekit.AnalyticsRecorderService on ${m[1]}:${port}, writing ${values.out}`);
  return upstream;
}
