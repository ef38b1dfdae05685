/**
 * A settings table: rows of env var, flag, default, parser and help, read
 * from flags and env (a flag beats its env var, which beats the default) and
 * rendered as --help. The sidecar, the webhook and the CLI subcommands each
 * declare one; errors name the flag when the value came from a flag, else the env var.
 */
import { parseArgs } from 'node:util';
import { SettingError } from './errors.js';
import { readSetting } from './parse.js';

export interface Setting<T> {
  /** Env var; absent for options that are flags only (the subcommands'). */
  env?: string;
  /** Flag without `--`; default: the env var without the table's prefix, in kebab-case. */
  flag?: string;
  /** Raw default, parsed like any value; absent: unset. */
  default?: string;
  /** Parses a trimmed, non-empty value; throws InvalidValue (or a SettingError of its own). */
  parse: (raw: string, name: string) => T;
  help: string;
}

export type SettingsTable = Record<string, Setting<unknown>>;

export type SettingValues<S extends SettingsTable> = { [K in keyof S]: ReturnType<S[K]['parse']> | undefined };

export interface TableOptions {
  /** Stripped from env names to make flags, e.g. `SIDECAR_` (LOG_LEVEL → --log-level either way). */
  envPrefix?: string;
  /** Also accept every flag with this prefix, e.g. `sidecar-` (--sidecar-flush-interval). */
  flagAlias?: string;
  /** Boolean flags outside the table, e.g. `help`, `json`. */
  booleans?: readonly string[];
  /** Ignore flags the table does not know (reading a few settings out of a whole command line). */
  lenient?: boolean;
}

export interface LoadedSettings<S extends SettingsTable> {
  values: SettingValues<S>;
  /** The name that supplied each value: `--flag` as written, else the env var. */
  names: Record<keyof S, string>;
  booleans: Record<string, boolean>;
}

export function flagOf(s: Setting<unknown>, envPrefix = ''): string {
  if (s.flag !== undefined) return s.flag;
  if (s.env === undefined) throw new Error('a setting needs an env var or a flag');
  const env = s.env.startsWith(envPrefix) ? s.env.slice(envPrefix.length) : s.env;
  return env.toLowerCase().replace(/_/g, '-');
}

/** Parses argv and env against the table; throws SettingError naming the bad flag or env var. */
export function loadSettings<S extends SettingsTable>(
  table: S,
  sources: { env?: NodeJS.ProcessEnv; argv?: readonly string[] },
  opts: TableOptions = {},
): LoadedSettings<S> {
  const flags = readFlags(table, sources.argv ?? [], opts);
  const values: Partial<Record<keyof S, unknown>> = {};
  const names: Partial<Record<keyof S, string>> = {};
  for (const [key, s] of Object.entries(table) as [keyof S, Setting<unknown>][]) {
    const flag = flagOf(s, opts.envPrefix);
    const given = [flag, ...(opts.flagAlias ? [opts.flagAlias + flag] : [])].find(
      (f) => typeof flags[f] === 'string' && flags[f].trim() !== '',
    );
    const fromEnv = s.env === undefined ? undefined : sources.env?.[s.env];
    const name = given !== undefined ? `--${given}` : (s.env ?? `--${flag}`);
    const raw =
      given !== undefined ? flags[given] : fromEnv !== undefined && fromEnv.trim() !== '' ? fromEnv : s.default;
    names[key] = name;
    values[key] = readSetting(name, (v) => s.parse(v, name), raw);
  }
  const booleans = Object.fromEntries((opts.booleans ?? []).map((b) => [b, flags[b] === true]));
  return { values: values as SettingValues<S>, names: names as Record<keyof S, string>, booleans };
}

function readFlags(
  table: SettingsTable,
  argv: readonly string[],
  opts: TableOptions,
): Record<string, string | boolean | undefined> {
  const options: Record<string, { type: 'string' | 'boolean' }> = {};
  for (const s of Object.values(table)) {
    const flag = flagOf(s, opts.envPrefix);
    options[flag] = { type: 'string' };
    if (opts.flagAlias) options[opts.flagAlias + flag] = { type: 'string' };
  }
  for (const b of opts.booleans ?? []) options[b] = { type: 'boolean' };
  try {
    const strict = !opts.lenient;
    return parseArgs({ args: [...argv], options, strict, allowPositionals: !strict }).values;
  } catch (err) {
    const message = (err as Error).message;
    const option = /'(-[^' ]*)/.exec(message)?.[1] ?? 'arguments';
    if (/argument missing/.test(message)) throw new SettingError(option, 'needs a value');
    if (/Unknown option/.test(message)) throw new SettingError(option, 'unknown option (see --help)');
    if (/Unexpected argument/.test(message)) throw new SettingError(option, 'unexpected argument (see --help)');
    throw new SettingError(option, message.split('\n')[0] ?? 'bad arguments');
  }
}

export interface HelpRow {
  flag: string;
  env?: string;
  default?: string;
  help: string;
}

/** The table as --help lines: flag, env var (when any), meaning and default. */
export function helpRows(table: SettingsTable, envPrefix?: string): HelpRow[] {
  return Object.values(table).map((s) => ({
    flag: flagOf(s, envPrefix),
    ...(s.env !== undefined ? { env: s.env } : {}),
    ...(s.default !== undefined ? { default: s.default } : {}),
    help: s.help,
  }));
}

/** One aligned line per row; the env column only when some row has one. */
export function renderHelp(rows: readonly HelpRow[]): string {
  const flagWidth = Math.max(...rows.map((r) => r.flag.length)) + 2;
  const envWidth = Math.max(0, ...rows.map((r) => r.env?.length ?? 0));
  return rows
    .map((r) => {
      const env = envWidth > 0 ? ` ${(r.env ?? '').padEnd(envWidth)}` : '';
      const dflt = r.default === undefined ? '' : ` (default: ${r.default === '' ? '""' : r.default})`;
      return `  --${r.flag.padEnd(flagWidth)}${env} ${r.help}${dflt}`;
    })
    .join('\n');
}
