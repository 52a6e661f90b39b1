// bench:scheduler's measures and report (pure): what a phase measured, the
// rates and quantiles it is summed up with, the phase table and the targets.
import type { V1Pod } from '@kubernetes/client-node';
import { mebibytes } from './report.ts';
import type { Row } from './report.ts';

export const targets = { vsKube: 2, vsNull: 0.9, p99Ms: 1_000, rssBytes: 512 * 2 ** 20 } as const;

// ---- what a phase measures ---------------------------------------------------------

export interface Phase {
  readonly name: string;
  readonly pods: number;
  readonly bound: number;
  /** From the first to the last bind a watch saw. */
  readonly podsPerSecond: number | undefined;
  /** From the pods' PodScheduled times (whole seconds). */
  readonly podsPerSecondScheduled: number | undefined;
  readonly p50Ms?: number | undefined;
  readonly p99Ms?: number | undefined;
  readonly cpuSeconds?: number | undefined;
  readonly peakRssBytes?: number | undefined;
  readonly writesPerPod?: number | undefined;
  readonly evictions?: number | undefined;
  /** Nodes that were NotReady, tainted or cordoned at some moment of the phase. */
  readonly nodesNotReady?: number | undefined;
  readonly violations: readonly string[];
}

export function scheduledRate(pods: readonly V1Pod[]): number | undefined {
  const ts = pods.flatMap((p) => {
    const c = p.status?.conditions?.find((x) => x.type === 'PodScheduled' && x.status === 'True');
    return c?.lastTransitionTime ? [Date.parse(String(c.lastTransitionTime))] : [];
  });
  if (ts.length < 2) return undefined;
  // whole seconds: the span is at least one second
  return ts.length / ((Math.max(...ts) - Math.min(...ts)) / 1000 + 1);
}

export const quantile = (xs: readonly number[], q: number): number | undefined => {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};

// ---- the report ------------------------------------------------------------------------

export const fmt = (n: number | undefined, digits = 0): string =>
  n === undefined ? 'n/a' : n.toFixed(digits);

export function phaseTable(phases: readonly Phase[]): string {
  const head = [
    'phase',
    'bound',
    'pods/s',
    'pods/s (PodScheduled)',
    'p50',
    'p99',
    'CPU s',
    'peak RSS',
    'writes/pod',
    'evictions',
    'nodes not ready',
    'violations',
  ];
  const rows = phases.map((p) => [
    p.name,
    `${p.bound}/${p.pods}`,
    fmt(p.podsPerSecond),
    fmt(p.podsPerSecondScheduled),
    p.p50Ms === undefined ? '' : `${fmt(p.p50Ms)} ms`,
    p.p99Ms === undefined ? '' : `${fmt(p.p99Ms)} ms`,
    fmt(p.cpuSeconds, 1),
    p.peakRssBytes === undefined ? '' : mebibytes(p.peakRssBytes),
    fmt(p.writesPerPod, 2),
    p.evictions === undefined ? '' : String(p.evictions),
    p.nodesNotReady === undefined ? '' : String(p.nodesNotReady),
    String(p.violations.length),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (c: readonly string[]): string =>
    c
      .map((x, i) => x.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export function targetRows(ph: Record<string, Phase | undefined>): Row[] {
  const rate = (p: Phase | undefined) => p?.podsPerSecond;
  const yard = rate(ph['yard']);
  const kube = Math.max(rate(ph['kube']) ?? 0, rate(ph['kubeDefault']) ?? 0) || undefined;
  const nul = rate(ph['null']);
  const ratio = (a: number | undefined, b: number | undefined) => (a && b ? a / b : undefined);
  const vsKube = ratio(yard, kube);
  const vsNull = ratio(yard, nul);
  const p99 = ph['paced']?.p99Ms;
  const rss = Math.max(
    ...Object.values(ph).map((p) => (p?.name.startsWith('Yard') ? (p.peakRssBytes ?? 0) : 0)),
  );
  const viol = Object.values(ph).reduce((n, p) => n + (p?.violations.length ?? 0), 0);
  return [
    {
      what: 'Yard / kube-scheduler (best of default and raised QPS), pods/s',
      value: fmt(vsKube, 2),
      target: `≥ ${targets.vsKube}`,
      met: vsKube === undefined ? undefined : vsKube >= targets.vsKube,
    },
    {
      what: 'Yard / null binder, pods/s',
      value: fmt(vsNull, 2),
      target: `≥ ${targets.vsNull}`,
      met: vsNull === undefined ? undefined : vsNull >= targets.vsNull,
    },
    {
      what: 'p99 create→bound at 80% of the null binder’s rate',
      value: p99 === undefined ? 'n/a' : `${fmt(p99)} ms`,
      target: `≤ ${targets.p99Ms} ms`,
      met: p99 === undefined ? undefined : p99 <= targets.p99Ms,
    },
    {
      what: 'the same, null binder (what the API server itself allows)',
      value: ph['pacedNull']?.p99Ms === undefined ? 'n/a' : `${fmt(ph['pacedNull']?.p99Ms)} ms`,
    },
    {
      what: 'constraint violations (all phases)',
      value: String(viol),
      target: '0',
      met: viol === 0,
    },
    {
      what: 'Yard peak RSS',
      value: mebibytes(rss || undefined),
      target: '≤ 512 MiB',
      met: rss ? rss <= targets.rssBytes : undefined,
    },
  ];
}
