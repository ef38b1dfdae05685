/** The options every client subcommand (simulate, loadgen) shares: where the sidecar is and its token. */
import { path, target, type Setting } from '../settings/index.js';

export const TARGET_OPTION = {
  flag: 'target',
  default: '127.0.0.1:50151',
  parse: target,
  help: 'sidecar gRPC address',
} satisfies Setting<unknown>;

export const TOKEN_FILE_OPTION = {
  flag: 'token-file',
  parse: path,
  help: 'bearer token file, if the sidecar requires one',
} satisfies Setting<string>;
