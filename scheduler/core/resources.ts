// Resource vectors: arithmetic, and the words reasons use (quantities are
// read by the adapter, through runtime/quantity.ts: the core sees numbers). A leaf both levels may import; it knows nothing of either.
import type { Resources } from './contract.ts';

export const dims = ['cpu', 'memory', 'pods'] as const;
export type Dim = (typeof dims)[number];

export type MutableResources = { cpu: number; memory: number; pods: number };

export const zero: Resources = Object.freeze({ cpu: 0, memory: 0, pods: 0 });

export const vec = (cpu = 0, memory = 0, pods = 0): MutableResources => ({ cpu, memory, pods });

export const copy = (r: Resources): MutableResources => ({
  cpu: r.cpu,
  memory: r.memory,
  pods: r.pods,
});

/** acc += sign × r, in place: the ledger's O(1) update. */
export function addInto(acc: MutableResources, r: Resources, sign = 1): void {
  acc.cpu += sign * r.cpu;
  acc.memory += sign * r.memory;
  acc.pods += sign * r.pods;
}

export const add = (a: Resources, b: Resources): MutableResources =>
  vec(a.cpu + b.cpu, a.memory + b.memory, a.pods + b.pods);

export const sub = (a: Resources, b: Resources): MutableResources =>
  vec(a.cpu - b.cpu, a.memory - b.memory, a.pods - b.pods);

export const scale = (r: Resources, f: number): MutableResources =>
  vec(r.cpu * f, r.memory * f, r.pods * f);

export const max = (a: Resources, b: Resources): MutableResources =>
  vec(Math.max(a.cpu, b.cpu), Math.max(a.memory, b.memory), Math.max(a.pods, b.pods));

export const min = (a: Resources, b: Resources): MutableResources =>
  vec(Math.min(a.cpu, b.cpu), Math.min(a.memory, b.memory), Math.min(a.pods, b.pods));

/** Negative parts become 0: a shortfall or a headroom. */
export const positive = (r: Resources): MutableResources =>
  vec(Math.max(0, r.cpu), Math.max(0, r.memory), Math.max(0, r.pods));

export const fitsIn = (req: Resources, free: Resources): boolean =>
  req.cpu <= free.cpu && req.memory <= free.memory && req.pods <= free.pods;

export const isZero = (r: Resources): boolean => r.cpu <= 0 && r.memory <= 0 && r.pods <= 0;

export const sum = (rs: Iterable<Resources>): MutableResources => {
  const acc = vec();
  for (const r of rs) addInto(acc, r);
  return acc;
};

/** The dimensions in which `need` exceeds `free`. */
export const shortDims = (need: Resources, free: Resources): Dim[] =>
  dims.filter((d) => need[d] > free[d]);

/** DRF's dominant share: the largest fraction of the pool `used` takes, over CPU and memory. */
export function dominantShare(used: Resources, pool: Resources): number {
  const c = pool.cpu > 0 ? used.cpu / pool.cpu : 0;
  const m = pool.memory > 0 ? used.memory / pool.memory : 0;
  return Math.max(c, m);
}

// --- words -----------------------------------------------------------------

const trim = (x: number, digits: number): string => String(Number(x.toFixed(digits)));

export const formatCpu = (milli: number): string => `${trim(milli / 1000, 2)} CPU`;

export function formatMemory(bytes: number): string {
  const units = [
    ['TiB', 2 ** 40],
    ['GiB', 2 ** 30],
    ['MiB', 2 ** 20],
    ['KiB', 2 ** 10],
  ] as const;
  for (const [unit, size] of units)
    if (Math.abs(bytes) >= size) return `${trim(bytes / size, 2)} ${unit}`;
  return `${trim(bytes, 0)} B`;
}

export const formatPods = (n: number): string => `${trim(n, 2)} pod${n === 1 ? '' : 's'}`;

const formatters: Record<Dim, (n: number) => string> = {
  cpu: formatCpu,
  memory: formatMemory,
  pods: formatPods,
};

/**
 * "2 CPU, 4 GiB". By default CPU and memory, leaving out zeros; pass the
 * dimensions to show exactly those (zeros included).
 */
export function formatResources(r: Resources, only?: readonly Dim[]): string {
  const shown = only ?? (['cpu', 'memory'] as const).filter((d) => r[d] !== 0);
  if (shown.length === 0) return formatCpu(0);
  return shown.map((d) => formatters[d](r[d])).join(', ');
}

/** A ceiling as people say it: "2/3", "1/2", "75%". */
export function formatFraction(f: number): string {
  if (f >= 1) return '100%';
  for (let den = 2; den <= 12; den++) {
    const num = Math.round(f * den);
    if (num > 0 && Math.abs(num / den - f) < 1e-9) return `${num}/${den}`;
  }
  return `${trim(f * 100, 1)}%`;
}

/** "a, b and c". */
export function list(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items.at(-1) ?? ''}`;
}

export const plural = (n: number, one: string, many = `${one}s`): string =>
  `${n} ${n === 1 ? one : many}`;
