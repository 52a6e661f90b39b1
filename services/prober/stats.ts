// The prober's arithmetic: outcomes and latencies per (service, API), in
// fixed time windows and in total, with nearest-rank percentiles. Pure: the
// time of each sample is passed in.

export interface Sample {
  readonly service: string;
  readonly api: string;
  readonly ok: boolean;
  /** The request was shed (503 with x-yard-shed): a failure, counted apart as well. */
  readonly shed?: boolean;
  readonly ms: number;
  /** When it finished, ms since the epoch. */
  readonly at: number;
}

export interface ApiStats {
  readonly service: string;
  readonly api: string;
  readonly ok: number;
  readonly failed: number;
  readonly shed: number;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  readonly maxMs: number | null;
}

export interface WindowStats {
  readonly start: number;
  readonly end: number;
  readonly ok: number;
  readonly failed: number;
  /** ok / (ok + failed), null for an empty window. */
  readonly successRate: number | null;
  readonly apis: readonly ApiStats[];
}

interface Cell {
  ok: number;
  failed: number;
  shed: number;
  latencies: number[];
  seen: number;
  max: number;
}

export interface Stats {
  readonly start: number;
  readonly windowMs: number;
  /** Windows kept (older ones are dropped: a long-running prober keeps bounded memory). */
  readonly maxWindows: number;
  /** Latencies kept per cell (a uniform sample beyond that). */
  readonly maxLatencies: number;
  readonly windows: Map<number, Map<string, Cell>>;
  readonly totals: Map<string, Cell>;
  readonly random: () => number;
}

export function createStats(
  start: number,
  windowMs: number,
  opts: { maxWindows?: number; maxLatencies?: number; random?: () => number } = {},
): Stats {
  return {
    start,
    windowMs,
    maxWindows: opts.maxWindows ?? 720,
    maxLatencies: opts.maxLatencies ?? 5000,
    windows: new Map(),
    totals: new Map(),
    random: opts.random ?? Math.random,
  };
}

const key = (service: string, api: string): string => `${service}\u0000${api}`;

function cellOf(m: Map<string, Cell>, k: string): Cell {
  let c = m.get(k);
  if (!c) {
    c = { ok: 0, failed: 0, shed: 0, latencies: [], seen: 0, max: 0 };
    m.set(k, c);
  }
  return c;
}

function observe(stats: Stats, c: Cell, s: Sample): void {
  if (s.ok) c.ok++;
  else c.failed++;
  if (s.shed) c.shed++;
  c.max = Math.max(c.max, s.ms);
  c.seen++;
  // reservoir sampling keeps a uniform sample of the latencies
  if (c.latencies.length < stats.maxLatencies) c.latencies.push(s.ms);
  else {
    const j = Math.floor(stats.random() * c.seen);
    if (j < stats.maxLatencies) c.latencies[j] = s.ms;
  }
}

export function windowIndex(stats: Stats, at: number): number {
  return Math.floor((at - stats.start) / stats.windowMs);
}

export function addSample(stats: Stats, s: Sample): void {
  const i = windowIndex(stats, s.at);
  let w = stats.windows.get(i);
  if (!w) {
    w = new Map();
    stats.windows.set(i, w);
    for (const old of stats.windows.keys())
      if (old <= i - stats.maxWindows) stats.windows.delete(old);
  }
  observe(stats, cellOf(w, key(s.service, s.api)), s);
  observe(stats, cellOf(stats.totals, key(s.service, s.api)), s);
}

/** Nearest-rank percentile of unsorted values; null when there are none. */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1] ?? null;
}

function apiStats(cells: Map<string, Cell>): ApiStats[] {
  return [...cells.entries()]
    .map(([k, c]) => {
      const [service = '', api = ''] = k.split('\u0000');
      return {
        service,
        api,
        ok: c.ok,
        failed: c.failed,
        shed: c.shed,
        p50Ms: percentile(c.latencies, 50),
        p99Ms: percentile(c.latencies, 99),
        maxMs: c.seen > 0 ? c.max : null,
      };
    })
    .sort((a, b) => a.service.localeCompare(b.service) || a.api.localeCompare(b.api));
}

function windowOf(stats: Stats, i: number, cells: Map<string, Cell>): WindowStats {
  const apis = apiStats(cells);
  const ok = apis.reduce((n, a) => n + a.ok, 0);
  const failed = apis.reduce((n, a) => n + a.failed, 0);
  return {
    start: stats.start + i * stats.windowMs,
    end: stats.start + (i + 1) * stats.windowMs,
    ok,
    failed,
    successRate: ok + failed > 0 ? ok / (ok + failed) : null,
    apis,
  };
}

/** Every kept window up to `now` (empty ones included, so gaps show) and the totals. */
export function summarize(stats: Stats, now: number): { windows: WindowStats[]; apis: ApiStats[] } {
  const last = windowIndex(stats, now);
  const first = Math.max(0, last - stats.maxWindows + 1);
  const windows: WindowStats[] = [];
  for (let i = first; i <= last; i++)
    windows.push(windowOf(stats, i, stats.windows.get(i) ?? new Map<string, Cell>()));
  return { windows, apis: apiStats(stats.totals) };
}
