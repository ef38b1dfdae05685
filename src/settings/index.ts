/** The settings language shared by the sidecar, the webhook, the pod annotations and the CLI (docs/configuration.md). */
export { InvalidValue, SettingError } from './errors.js';
export { oneOf, path, readSetting, requireSetting, text, type Parser } from './parse.js';
export { duration, durationMs, MAX_TIMER_MS, positiveDuration } from './duration.js';
export { nonNegativeInt, positiveInt } from './numbers.js';
export { byteSize } from './size.js';
export {
  address,
  FIRST_UNPRIVILEGED_PORT,
  formatAddress,
  port,
  target,
  unprivilegedPort,
  type Address,
} from './address.js';
export { isLogLevel, LOG_LEVELS, logLevel } from './log-level.js';
export { natsStreamName, upstream, type Upstream } from './upstream.js';
export {
  checkAppendableFile,
  checkCertificates,
  checkKeyPair,
  checkPrivateKey,
  checkTokenFile,
  readTokenFile,
} from './files.js';
export {
  flagOf,
  helpRows,
  loadSettings,
  renderHelp,
  type HelpRow,
  type LoadedSettings,
  type Setting,
  type SettingsTable,
  type SettingValues,
} from './table.js';
export { TokenFile } from './token-file.js';
