// The prober's report (GET /report of the prober service): totals, per
// (service, API) and per window; start-up failures apart (startup.ts); and the
// delivery check.
import { pending } from './delivery.ts';
import type { Ledger } from './delivery.ts';
import type { Failure, Recorder, StartupCounts } from './recorder.ts';
import { percentile, summarize } from './stats.ts';
import type { ApiStats, WindowStats } from './stats.ts';

export type ProberPhase = 'setting-up' | 'running' | 'draining' | 'stopped';

export interface ProberReport {
  readonly target: string;
  readonly service: string;
  readonly runId: string;
  readonly phase: ProberPhase;
  readonly startedAt: string;
  readonly at: string;
  readonly windowMs: number;
  readonly operations: number;
  /** Operations not started because too many were still in flight (the target is slow). */
  readonly skipped: number;
  /** Requests once the target has served: start-up failures are not in here. */
  readonly totals: {
    readonly ok: number;
    readonly failed: number;
    readonly shed: number;
    readonly successRate: number | null;
  };
  /** Failures before any instance of the target had served once: it was starting, not down. */
  readonly startup: StartupCounts;
  readonly apis: readonly ApiStats[];
  readonly windows: readonly WindowStats[];
  readonly delivery: {
    readonly expected: number;
    readonly delivered: number;
    readonly pending: number;
    readonly lost: number;
    readonly late: number;
    readonly duplicates: number;
    readonly unacked: number;
    readonly p50Ms: number | null;
    readonly p99Ms: number | null;
  };
  readonly recentFailures: readonly Failure[];
}

export function buildReport(o: {
  readonly target: string;
  readonly service: string;
  readonly runId: string;
  readonly phase: ProberPhase;
  readonly startedAt: number;
  readonly now: number;
  readonly windowMs: number;
  readonly operations: number;
  readonly skipped: number;
  readonly recorder: Recorder;
  readonly ledger: Ledger;
}): ProberReport {
  const { recorder, ledger } = o;
  const { windows, apis } = summarize(recorder.stats, o.now);
  // delivery samples are in the windows, but they are not requests
  const real = apis.filter((a) => a.api !== 'delivery');
  const ok = real.reduce((n, a) => n + a.ok, 0);
  const failed = real.reduce((n, a) => n + a.failed, 0);
  const latencies = recorder.deliveryLatencies();
  return {
    target: o.target,
    service: o.service,
    runId: o.runId,
    phase: o.phase,
    startedAt: new Date(o.startedAt).toISOString(),
    at: new Date(o.now).toISOString(),
    windowMs: o.windowMs,
    operations: o.operations,
    skipped: o.skipped,
    totals: {
      ok,
      failed,
      shed: real.reduce((n, a) => n + a.shed, 0),
      successRate: ok + failed > 0 ? ok / (ok + failed) : null,
    },
    startup: recorder.startup(),
    apis,
    windows,
    delivery: {
      expected: ledger.expected,
      delivered: ledger.delivered,
      pending: pending(ledger),
      lost: ledger.lost,
      late: ledger.late,
      duplicates: ledger.duplicates,
      unacked: ledger.unacked,
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
    },
    recentFailures: recorder.recentFailures(),
  };
}
