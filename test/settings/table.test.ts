import { describe, expect, it } from 'vitest';
import {
  durationMs,
  helpRows,
  loadSettings,
  positiveInt,
  renderHelp,
  SettingError,
  text,
  type Setting,
} from '../../src/settings/index.js';

const TABLE = {
  interval: { env: 'APP_INTERVAL', default: '30s', parse: durationMs(), help: 'how often' },
  count: { env: 'APP_COUNT', parse: positiveInt, help: 'how many' },
  name: { flag: 'name', default: 'demo', parse: text, help: 'a name' },
} satisfies Record<string, Setting<unknown>>;

const load = (argv: string[], env: Record<string, string> = {}) =>
  loadSettings(TABLE, { argv, env }, { envPrefix: 'APP_', flagAlias: 'app-', booleans: ['json'] });

describe('loadSettings', () => {
  it('takes a flag over its env var over the default, and says which name supplied each value', () => {
    const loaded = load(['--count', '3'], { APP_COUNT: '9', APP_INTERVAL: '5s' });
    expect(loaded.values).toEqual({ interval: 5000, count: 3, name: 'demo' });
    expect(loaded.names).toEqual({ interval: 'APP_INTERVAL', count: '--count', name: '--name' });
    expect(loaded.booleans).toEqual({ json: false });
  });

  it('accepts the alias prefix on every flag and names the flag as written', () => {
    expect(load(['--app-interval=2s']).values.interval).toBe(2000);
    expect(() => load(['--app-interval=2'])).toThrow(SettingError);
    expect(() => load(['--app-interval=2'])).toThrow(/^--app-interval: must be a duration with a unit/);
  });

  it('leaves a setting without default unset, and reads boolean flags', () => {
    const loaded = load(['--json']);
    expect(loaded.values.count).toBeUndefined();
    expect(loaded.booleans.json).toBe(true);
  });

  it('takes the plain flag when both it and its alias are given', () => {
    expect(load(['--count', '1', '--app-count', '2']).values.count).toBe(1);
  });
});

describe('renderHelp', () => {
  it('lists every row with flag, env var, help and default, aligned', () => {
    expect(renderHelp(helpRows(TABLE, 'APP_')).split('\n')).toEqual([
      '  --interval   APP_INTERVAL how often (default: 30s)',
      '  --count      APP_COUNT    how many',
      '  --name                    a name (default: demo)',
    ]);
  });

  it('drops the env column when no row has one', () => {
    expect(renderHelp([{ flag: 'target', help: 'where', default: 'x:1' }])).toBe('  --target   where (default: x:1)');
  });
});
