import { connect, type Settings } from 'node:http2';
import { afterEach, describe, expect, it } from 'vitest';
import { Server } from '@grpc/grpc-js';
import {
  CONNECTION_RECEIVE_WINDOW_BYTES,
  STREAM_RECEIVE_WINDOW_BYTES,
  widenReceiveWindows,
} from '../../src/service/server.js';
import { startTestSidecar, type TestSidecar } from '../helpers/sidecar.js';

let t: TestSidecar | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

/**
 * What a plain HTTP/2 client is offered: the settings the server sends first,
 * and the connection window once a ping has come back (the server widens it
 * as the connection opens, before it answers anything).
 */
async function offered(target: string): Promise<{ settings: Settings; connectionWindow: number }> {
  const session = connect(`http://${target}`);
  try {
    const settings = await new Promise<Settings>((resolve, reject) => {
      session.once('remoteSettings', resolve);
      session.once('error', reject);
    });
    await new Promise<void>((resolve, reject) => session.ping((err) => (err ? reject(err) : resolve())));
    return { settings, connectionWindow: session.state.remoteWindowSize ?? 0 };
  } finally {
    session.close();
  }
}

describe('HTTP/2 flow control', () => {
  it('offers each stream 1 MiB and each connection 4 MiB to receive, not the 64 KiB defaults', async () => {
    t = await startTestSidecar();
    const { settings, connectionWindow } = await offered(t.target);
    expect(STREAM_RECEIVE_WINDOW_BYTES).toBe(1024 * 1024);
    expect(CONNECTION_RECEIVE_WINDOW_BYTES).toBe(4 * 1024 * 1024);
    expect(settings.initialWindowSize).toBe(STREAM_RECEIVE_WINDOW_BYTES);
    expect(connectionWindow).toBe(CONNECTION_RECEIVE_WINDOW_BYTES);
    expect(t.logs.filter((l) => l.level === 40)).toEqual([]);
  });

  it('answers false and changes nothing on a grpc-js that makes its HTTP/2 servers another way', () => {
    expect(widenReceiveWindows(new Server())).toBe(true);
    const other = Object.create(Server.prototype) as Server;
    Object.defineProperty(other, 'createHttp2Server', { value: undefined });
    expect(widenReceiveWindows(other)).toBe(false);
    expect(Object.getOwnPropertyDescriptor(other, 'createHttp2Server')?.value).toBeUndefined();
  });
});
