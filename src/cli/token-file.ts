/** The `--token-file` option of the client subcommands (simulate, loadgen). */
import { path, type Setting } from '../settings/index.js';

export const TOKEN_FILE_OPTION = {
  flag: 'token-file',
  parse: path,
  help: 'bearer token file, if the sidecar requires one',
} satisfies Setting<string>;
