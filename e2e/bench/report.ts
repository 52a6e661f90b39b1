// What every benchmark prints and writes: a table a person reads (with the
// target and whether it was met, never a failure) and the same numbers as
// JSON under .yard/bench/ for a machine. Progress lines carry the elapsed
// time, since a benchmark runs for minutes.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { repoRoot } from '../control-plane/cluster.ts';

export const benchDir = join(repoRoot, '.yard', 'bench');

export interface Row {
  readonly what: string;
  readonly value: string;
  /** e.g. `≤ 60 s`; empty when there is none. */
  readonly target?: string;
  /** Whether the target was met; undefined when there is no target or no value. */
  readonly met?: boolean | undefined;
}

/** A fixed-width text table: what | value | target | met. */
export function table(rows: readonly Row[]): string {
  const cells = rows.map((r) => [
    r.what,
    r.value,
    r.target ?? '',
    r.met === undefined ? '' : r.met ? 'yes' : 'NO',
  ]);
  const head = ['measure', 'value', 'target', 'met'];
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? '').length)));
  const line = (c: readonly string[]): string =>
    c
      .map((x, i) => x.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

export async function writeJson(file: string, data: unknown): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, JSON.stringify(data, null, 2) + '\n');
}

export const seconds = (ms: number | undefined): string =>
  ms === undefined ? 'not reached' : `${(ms / 1000).toFixed(1)} s`;

export const millis = (s: number | undefined): string =>
  s === undefined ? 'n/a' : `${(s * 1000).toFixed(s < 0.1 ? 1 : 0)} ms`;

export const mebibytes = (bytes: number | undefined): string =>
  bytes === undefined ? 'n/a' : `${(bytes / 2 ** 20).toFixed(0)} MiB`;

/** A progress printer: `[bench +12.3s] line`. */
export function progressPrinter(tag: string, start = Date.now()): (line: string) => void {
  return (line) => {
    const t = ((Date.now() - start) / 1000).toFixed(1);
    console.log(`[${tag} +${t}s] ${line}`);
  };
}
