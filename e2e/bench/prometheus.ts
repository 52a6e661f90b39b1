// Reading a process's /metrics (Prometheus text format) the way PromQL
// would: counters summed over label sets, and histogram_quantile over the
// difference of two scrapes. Pure.

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const sampleLine = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const labelPair = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parseMetrics(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = sampleLine.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(labelPair)) labels[l[1] ?? ''] = l[2] ?? '';
    out.push({ name: m[1] ?? '', labels, value: Number(m[3]) });
  }
  return out;
}

const matches = (s: Sample, name: string, labels: Readonly<Record<string, string>>): boolean =>
  s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v);

/** The sum of every series of `name` whose labels include `labels` (0 when none). */
export function sum(
  samples: readonly Sample[],
  name: string,
  labels: Readonly<Record<string, string>> = {},
): number {
  return samples.filter((s) => matches(s, name, labels)).reduce((n, s) => n + s.value, 0);
}

export interface Bucket {
  readonly le: number;
  /** Cumulative count of observations ≤ le. */
  readonly count: number;
}

/** The cumulative buckets of histogram `name` for series matching `labels`, by `le`. */
export function buckets(
  samples: readonly Sample[],
  name: string,
  labels: Readonly<Record<string, string>> = {},
): Bucket[] {
  const byLe = new Map<number, number>();
  for (const s of samples) {
    if (!matches(s, `${name}_bucket`, labels)) continue;
    const le = s.labels['le'] === '+Inf' ? Infinity : Number(s.labels['le']);
    byLe.set(le, (byLe.get(le) ?? 0) + s.value);
  }
  return [...byLe].map(([le, count]) => ({ le, count })).sort((a, b) => a.le - b.le);
}

/** Buckets of `after` minus `before`: the observations between two scrapes. */
export function bucketDelta(after: readonly Bucket[], before: readonly Bucket[]): Bucket[] {
  const prev = new Map(before.map((b) => [b.le, b.count]));
  return after.map((b) => ({ le: b.le, count: b.count - (prev.get(b.le) ?? 0) }));
}

/**
 * PromQL's histogram_quantile: linear interpolation inside the bucket that
 * holds the q-th observation. Undefined when there are no observations; the
 * highest finite bound when it falls in +Inf.
 */
export function histogramQuantile(q: number, bs: readonly Bucket[]): number | undefined {
  const total = bs.at(-1)?.count ?? 0;
  if (total <= 0) return undefined;
  const rank = q * total;
  let lowerLe = 0;
  let lowerCount = 0;
  for (const b of bs) {
    if (b.count >= rank) {
      if (b.le === Infinity) return lowerLe;
      const inBucket = b.count - lowerCount;
      return inBucket <= 0 ? b.le : lowerLe + ((b.le - lowerLe) * (rank - lowerCount)) / inBucket;
    }
    lowerLe = b.le;
    lowerCount = b.count;
  }
  return lowerLe;
}
