/**
 * NATS connection options from our settings: servers, TLS files and one way to
 * authenticate, each credential read from its file at every (re)connect so a
 * rotated Secret is picked up without a restart. Shared by the JetStream sink
 * and the `tail` subcommand.
 */
import { readFileSync } from 'node:fs';
import {
  credsAuthenticator,
  nkeyAuthenticator,
  tokenAuthenticator,
  usernamePasswordAuthenticator,
  type Authenticator,
  type NodeConnectionOptions,
} from '@nats-io/transport-node';

export type NatsAuth =
  | { kind: 'none' }
  | { kind: 'token'; file: string }
  | { kind: 'user'; user: string; passwordFile: string }
  | { kind: 'creds'; file: string }
  | { kind: 'nkey'; file: string };

export interface NatsConnectionSettings {
  /** host:port, tried in order then at random on reconnect, as the client does. */
  servers: string[];
  tls: boolean;
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  auth: NatsAuth;
  /** Shown in the server's connection list (`nats server report connections`). */
  name: string;
}

/** The settings' auth files, as config.ts names them (one at most is set). */
export function natsAuth(c: {
  upstreamTokenFile?: string;
  natsCredsFile?: string;
  natsNkeyFile?: string;
  natsUser?: string;
  natsPasswordFile?: string;
}): NatsAuth {
  if (c.natsCredsFile) return { kind: 'creds', file: c.natsCredsFile };
  if (c.natsNkeyFile) return { kind: 'nkey', file: c.natsNkeyFile };
  if (c.upstreamTokenFile) return { kind: 'token', file: c.upstreamTokenFile };
  if (c.natsUser && c.natsPasswordFile) return { kind: 'user', user: c.natsUser, passwordFile: c.natsPasswordFile };
  return { kind: 'none' };
}

const readText = (file: string) => readFileSync(file, 'utf8').trim();

function authenticator(auth: NatsAuth): Authenticator | undefined {
  switch (auth.kind) {
    case 'none':
      return undefined;
    case 'token':
      return tokenAuthenticator(() => readText(auth.file));
    case 'user':
      return usernamePasswordAuthenticator(auth.user, () => readText(auth.passwordFile));
    case 'creds':
      return credsAuthenticator(() => readFileSync(auth.file));
    case 'nkey':
      return nkeyAuthenticator(() => new TextEncoder().encode(readText(auth.file)));
  }
}

/**
 * Options for `connect`. Reconnection is the client's (forever, jittered); the
 * first connection is retried by the caller so a closed sink can stop it.
 */
export function connectionOptions(s: NatsConnectionSettings): NodeConnectionOptions {
  const options: NodeConnectionOptions = {
    servers: s.servers,
    name: s.name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 1000,
    // notice a dead server between flushes rather than on the next publish's timeout
    pingInterval: 20_000,
    maxPingOut: 2,
  };
  const auth = authenticator(s.auth);
  if (auth) options.authenticator = auth;
  if (s.tls) {
    options.tls = {};
    if (s.caFile) options.tls.caFile = s.caFile;
    if (s.certFile) options.tls.certFile = s.certFile;
    if (s.keyFile) options.tls.keyFile = s.keyFile;
  }
  return options;
}
