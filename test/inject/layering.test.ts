/**
 * The webhook is its own program inside the image: src/inject never reaches the
 * sidecar's core or service layers, directly or through what it imports.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../../src', import.meta.url));

function localImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/^(?:import|export)\s[^;]*?from\s+'(\.[^']+)'/gms)].map((m) =>
    resolve(dirname(file), m[1]!.replace(/\.js$/, '.ts')),
  );
}

describe('src/inject', () => {
  it('imports nothing from src/core or src/service, even indirectly', () => {
    const seen = new Set<string>();
    const queue = readdirSync(join(SRC, 'inject')).map((f) => join(SRC, 'inject', f));
    while (queue.length > 0) {
      const file = queue.pop()!;
      if (seen.has(file)) continue;
      seen.add(file);
      queue.push(...localImports(file));
    }
    const reached = [...seen].map((f) => relative(SRC, f)).sort();
    expect(reached).toContain('observe/json-logger.ts');
    expect(reached).toContain('observe/exposition.ts');
    expect(reached.filter((f) => f.startsWith('core/') || f.startsWith('service/'))).toEqual([]);
  });
});
