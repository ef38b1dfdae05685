import { DevUpstream } from '../../src/dev/upstream-server.js';

type Options = ConstructorParameters<typeof DevUpstream>[0];

/** The development upstreams a test file starts; `closeAll` in its afterEach stops them. */
export class DevUpstreams {
  private readonly started: DevUpstream[] = [];

  async start(options: Options = {}): Promise<DevUpstream> {
    const u = new DevUpstream(options);
    await u.start();
    return this.adopt(u);
  }

  /** Closes one started elsewhere (e.g. by the dev-upstream subcommand) with the others. */
  adopt(u: DevUpstream): DevUpstream {
    this.started.push(u);
    return u;
  }

  async closeAll(): Promise<void> {
    for (const u of this.started.splice(0)) await u.close();
  }
}

export { freePort as deadPort } from './ports.js';
