/**
 * How every consumer reads one raw value (env var, flag, annotation, YAML key):
 * surrounding whitespace is ignored, an empty value means "not set" (the
 * default applies), and a refusal becomes a SettingError naming the setting.
 * Going through here is what makes a value accepted in one place accepted in all.
 */
import { InvalidValue, SettingError } from './errors.js';

/** Parses one trimmed, non-empty value or throws InvalidValue. */
export type Parser<T> = (raw: string) => T;

/** The text of a raw value; numbers are accepted because YAML gives `port: 9464` as one. */
function asText(raw: unknown): string {
  if (typeof raw === 'string') return raw.trim();
  if (typeof raw === 'number' && Number.isFinite(raw)) return String(raw);
  throw new InvalidValue(`must be a string, got ${JSON.stringify(raw) ?? String(raw)}`);
}

/** The parsed value, or undefined when the value is absent or empty. Throws SettingError naming `setting`. */
export function readSetting<T>(setting: string, parse: Parser<T>, raw: unknown): T | undefined {
  try {
    if (raw === undefined || raw === null) return undefined;
    const value = asText(raw);
    return value === '' ? undefined : parse(value);
  } catch (err) {
    if (err instanceof InvalidValue) throw new SettingError(setting, err.message);
    throw err;
  }
}

/** As readSetting, for a setting that has no default: absent or empty is an error. */
export function requireSetting<T>(setting: string, parse: Parser<T>, raw: unknown): T {
  const value = readSetting(setting, parse, raw);
  if (value === undefined) throw new SettingError(setting, 'must be set');
  return value;
}

/** One of a fixed set of words. */
export function oneOf<const T extends string>(choices: readonly T[]): Parser<T> {
  return (raw) => {
    if ((choices as readonly string[]).includes(raw)) return raw as T;
    throw new InvalidValue(`must be one of ${choices.join(', ')}, got ${JSON.stringify(raw)}`);
  };
}

/** Free text, taken as written (trimmed). */
export const text: Parser<string> = (raw) => raw;

/** A file or directory path; whether it must exist is checked at startup where it matters (files.ts). */
export const path: Parser<string> = (raw) => raw;
