// The core's import rules, checked: no Kubernetes, no I/O, no timers, nothing
// outside this folder; and level 2 sees level 1 only through the contract.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const here = import.meta.dirname;
// the decision code; the test builders (fixtures.ts) and the benchmark read
// quantities through runtime/quantity.ts, as the adapter does
const support = new Set(['bench.ts', 'fixtures.ts']);
const sources = readdirSync(here).filter(
  (f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !support.has(f),
);

/** Every module a file names: static, side-effect and dynamic imports, re-exports, require. */
const importsOf = (file: string): string[] =>
  [
    ...readFileSync(join(here, file), 'utf8').matchAll(
      /(?:\bfrom\s+|^\s*import\s+|\bimport\(\s*|\brequire\(\s*)['"]([^'"]+)['"]/gm,
    ),
  ].map((m) => m[1] ?? '');

describe('the core’s boundaries', () => {
  it.each(sources)('%s imports only files of this folder', (file) => {
    const specs = importsOf(file);
    if (file !== 'contract.ts')
      expect(specs.length, 'the check sees the imports').toBeGreaterThan(0);
    for (const spec of specs) expect(spec).toMatch(/^\.\/[a-z-]+\.ts$/);
  });

  it.each(sources)('%s uses no timers, clock or randomness', (file) => {
    const text = readFileSync(join(here, file), 'utf8');
    expect(text).not.toMatch(
      /\b(setTimeout|setInterval|setImmediate|Date\.now|new Date|Math\.random|performance\.now)\b/,
    );
  });

  it.each(['online.ts', 'offline.ts'])(
    'level 2 (%s) sees level 1 only through the contract',
    (file) => {
      for (const spec of importsOf(file))
        expect(['./contract.ts', './resources.ts']).toContain(spec);
    },
  );
});
