/**
 * The one error of the settings language. Parsers throw `InvalidValue` (what
 * was expected, what came); whoever knows the setting's name — env var, flag,
 * annotation, file key — turns it into a `SettingError`, the one line a user
 * sees (and exit code 2 at startup).
 */

/** A value a parser refuses; the message does not name the setting. */
export class InvalidValue extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidValue';
  }
}

/** `<setting>: <problem>` — one line naming the setting that must change. */
export class SettingError extends Error {
  constructor(
    /** The env var, flag, annotation or file key, as the user wrote it. */
    readonly setting: string,
    readonly problem: string,
  ) {
    super(`${setting}: ${problem}`);
    this.name = 'SettingError';
  }
}

/** A raw value quoted for an error message. */
export function quote(raw: string): string {
  return JSON.stringify(raw);
}
