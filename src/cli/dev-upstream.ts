/** `telemetry-sidecar dev-upstream`: runs the development AnalyticsRecorderService until SIGTERM/SIGINT. */
import { DevUpstream } from '../dev/upstream-server.js';
import { address, formatAddress, helpRows, loadSettings, path, renderHelp, type Setting } from '../settings/index.js';

const OPTIONS = {
  listen: {
    flag: 'listen',
    default: '127.0.0.1:50152',
    parse: address,
    help: 'address to serve livekit.AnalyticsRecorderService on',
  },
  out: {
    flag: 'out',
    default: './data/upstream-received.ndjson',
    parse: path,
    help: 'NDJSON file for received stats',
  },
} satisfies Record<string, Setting<unknown>>;

export const DEV_UPSTREAM_HELP = `telemetry-sidecar dev-upstream [options]\n${renderHelp(helpRows(OPTIONS))}`;

export async function runDevUpstream(argv: string[], log: (line: string) => void = console.log): Promise<DevUpstream> {
  const { values } = loadSettings(OPTIONS, { argv });
  const listen = values.listen!;
  const out = values.out!;
  const upstream = new DevUpstream({ host: listen.host, port: listen.port, out });
  const port = await upstream.start();
  log(`dev-upstream: livekit.AnalyticsRecorderService on ${formatAddress({ ...listen, port })}, writing ${out}`);
  return upstream;
}
