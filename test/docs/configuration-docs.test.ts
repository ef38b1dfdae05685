import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configHelp } from '../../src/config.js';

/**
 * docs/configuration.md is the operator's list of settings: a setting added to
 * the table in src/config.ts without its row there would be invisible to them.
 */
describe('docs/configuration.md', () => {
  const doc = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
  const help = configHelp();
  const rows = help
    .split('\n')
    .map((line) => /^\s*(--[a-z0-9-]+)\s+((?:SIDECAR_|LOG_)[A-Z0-9_]+)/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map(([, flag, env]) => ({ flag, env }));

  it('reads every setting from --help', () => {
    // the parse above must not silently find nothing
    expect(rows.length).toBeGreaterThanOrEqual(35);
  });

  it('has a table row for every setting, naming its env var and flag', () => {
    const missing = rows.filter(
      ({ env, flag }) => !new RegExp(`^\\|\\s*\`${env}\`\\s*\\|\\s*\`${flag}\`\\s*\\|`, 'm').test(doc),
    );
    expect(missing).toEqual([]);
  });
});
