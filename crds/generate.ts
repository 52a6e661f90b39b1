// Writes (or, with --check, verifies) everything generated from crds/source:
// one CRD manifest per kind and the TypeScript types, formatted with the
// repository's Prettier settings so `prettier --check .` leaves them alone.
//
//   node crds/generate.ts            write crds/generated/
//   node crds/generate.ts --check    exit 1, naming each stale file, if anything differs
//   node crds/generate.ts --out DIR  write (or check) DIR instead
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { format, resolveConfig } from 'prettier';
import { crdFileName, crdYaml, typesSource } from './render.ts';
import { kinds } from './source/index.ts';

export const generatedDir = fileURLToPath(new URL('./generated/', import.meta.url));

/** Every generated file, by name within the generated folder, formatted. */
export async function renderFiles(): Promise<Map<string, string>> {
  const raw = new Map<string, string>();
  for (const k of kinds) raw.set(crdFileName(k), crdYaml(k));
  raw.set('types.ts', typesSource(kinds));
  const out = new Map<string, string>();
  for (const [name, text] of raw) {
    // the settings of the file's real home, wherever --out points
    const home = join(generatedDir, name);
    const options = (await resolveConfig(home)) ?? {};
    out.set(name, await format(text, { ...options, filepath: home }));
  }
  return out;
}

export interface Drift {
  readonly file: string;
  readonly problem: 'stale' | 'missing' | 'unexpected';
}

/** What in `dir` differs from `want`: changed, absent, or not generated at all. */
export async function drift(dir: string, want: ReadonlyMap<string, string>): Promise<Drift[]> {
  const present = new Set(await readdir(dir).catch(() => [] as string[]));
  const out: Drift[] = [];
  for (const [name, text] of want) {
    if (!present.has(name)) {
      out.push({ file: join(dir, name), problem: 'missing' });
      continue;
    }
    if ((await readFile(join(dir, name), 'utf8')) !== text) {
      out.push({ file: join(dir, name), problem: 'stale' });
    }
  }
  for (const name of [...present].sort()) {
    if (!want.has(name)) out.push({ file: join(dir, name), problem: 'unexpected' });
  }
  return out;
}

/** Writes what changed and removes files no longer generated; returns the files touched. */
export async function write(dir: string, want: ReadonlyMap<string, string>): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const touched: string[] = [];
  for (const d of await drift(dir, want)) {
    const name = relative(dir, d.file);
    const text = want.get(name);
    if (text === undefined) await rm(d.file);
    else await writeFile(d.file, text);
    touched.push(d.file);
  }
  return touched;
}

async function main(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: { check: { type: 'boolean', default: false }, out: { type: 'string' } },
  });
  const dir = resolve(values.out ?? generatedDir);
  const show = (f: string): string => relative(process.cwd(), f) || f;
  const want = await renderFiles();
  if (values.check) {
    const problems = await drift(dir, want);
    if (problems.length === 0) {
      process.stdout.write(`generated files are up to date (${want.size} in ${show(dir)})\n`);
      return 0;
    }
    process.stderr.write(
      `generated files differ from crds/source (run: npm run generate):\n${problems
        .map((p) => `  ${p.problem}: ${show(p.file)}`)
        .join('\n')}\n`,
    );
    return 1;
  }
  const touched = await write(dir, want);
  process.stdout.write(
    touched.length === 0
      ? `generated files are up to date (${want.size} in ${show(dir)})\n`
      : `wrote ${touched.map(show).join(', ')}\n`,
  );
  return 0;
}

if (import.meta.main) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`crds/generate.ts: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exitCode = 2;
    },
  );
}
