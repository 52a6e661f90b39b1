// What the prober saw: each answer of the target becomes a sample (per API
// and window), a metric and, when it failed, a recent failure; each receipt
// of an acknowledged message a delivery sample. Failures before the target
// first served are start-up (startup.ts), counted apart and kept out of the
// windows and totals.
import type { ApiResult } from '../access/client.ts';
import type { Receipt } from './delivery.ts';
import type { ProberMetrics } from './metrics.ts';
import { outcomeOf } from './startup.ts';
import { addSample, createStats, summarize } from './stats.ts';
import type { Stats } from './stats.ts';

export interface Failure {
  readonly at: string;
  readonly api: string;
  readonly status: number;
  readonly reason: string;
}

export interface StartupCounts {
  /** Failed requests (shed ones included) sent before any instance of the target had served. */
  readonly failed: number;
  /** Of those, shed. */
  readonly shed: number;
  /** When the first request succeeded (null: not yet). */
  readonly servedAt: string | null;
  /** The last start-up failure: why the target is not up yet. */
  readonly lastFailure: Failure | null;
}

export interface Recorder {
  readonly stats: Stats;
  /** Records an answer to a request sent at `startedAt` (the clock's time) and hands it back. */
  record<T>(api: string, startedAt: number, r: ApiResult<T>): ApiResult<T>;
  /** Calls `call` and records its answer: a property, so it can be passed on as it is. */
  readonly timed: <T>(api: string, call: () => Promise<ApiResult<T>>) => Promise<ApiResult<T>>;
  /** A recipient's sync returned message `message`. */
  received(got: Receipt, recipient: string, message: string, at: number): void;
  /** `n` acknowledged messages were not received within `timeoutMs`. */
  lost(n: number, at: number, timeoutMs: number): void;
  /** Sets the success-ratio gauge from the last complete window. */
  publish(now: number): void;
  recentFailures(): readonly Failure[];
  deliveryLatencies(): readonly number[];
  startup(): StartupCounts;
}

export function createRecorder(o: {
  readonly service: string;
  readonly metrics: ProberMetrics;
  readonly now: () => number;
  readonly startedAt: number;
  readonly windowMs: number;
  readonly random?: () => number;
}): Recorder {
  const { service, metrics, now } = o;
  const stats = createStats(o.startedAt, o.windowMs, o.random ? { random: o.random } : {});
  const failures: Failure[] = [];
  const latencies: number[] = [];
  let servedAt: number | undefined;
  let startupFailed = 0;
  let startupShed = 0;
  let lastStartupFailure: Failure | undefined;

  const remember = (f: Failure): void => {
    failures.push(f);
    if (failures.length > 20) failures.shift();
  };

  function record<T>(api: string, startedAt: number, r: ApiResult<T>): ApiResult<T> {
    const at = now();
    const ms = Math.max(0, at - startedAt);
    const shed = !r.ok && r.shed !== undefined;
    const outcome = outcomeOf({ ok: r.ok, shed }, startedAt, servedAt);
    if (r.ok && servedAt === undefined) servedAt = at;
    if (outcome === 'startup') {
      startupFailed++;
      if (shed) startupShed++;
      metrics.startupFailures.inc({ service, api });
      if (!r.ok)
        lastStartupFailure = {
          at: new Date(at).toISOString(),
          api,
          status: r.status,
          reason: r.reason,
        };
      return r;
    }
    addSample(stats, { service, api, ok: r.ok, shed, ms, at });
    metrics.requests.inc({ service, api, outcome });
    metrics.duration.observe({ service, api }, ms / 1000);
    if (!r.ok)
      remember({ at: new Date(at).toISOString(), api, status: r.status, reason: r.reason });
    return r;
  }

  function received(got: Receipt, recipient: string, message: string, at: number): void {
    if (got.kind === 'first' || got.kind === 'late') {
      latencies.push(got.latencyMs);
      if (latencies.length > 10_000) latencies.shift();
      metrics.deliveries.inc({ service, outcome: got.kind === 'first' ? 'delivered' : 'late' });
      metrics.deliverySeconds.observe({ service }, got.latencyMs / 1000);
      addSample(stats, { service, api: 'delivery', ok: true, ms: got.latencyMs, at });
    } else if (got.kind === 'duplicate') {
      metrics.deliveries.inc({ service, outcome: 'duplicate' });
      addSample(stats, { service, api: 'delivery', ok: false, ms: 0, at });
      remember({
        at: new Date(at).toISOString(),
        api: 'delivery',
        status: 0,
        reason: `duplicate ${message} for ${recipient}`,
      });
    }
  }

  function lost(n: number, at: number, timeoutMs: number): void {
    if (n <= 0) return;
    for (let i = 0; i < n; i++) {
      metrics.deliveries.inc({ service, outcome: 'lost' });
      addSample(stats, { service, api: 'delivery', ok: false, ms: timeoutMs, at });
    }
    remember({
      at: new Date(at).toISOString(),
      api: 'delivery',
      status: 0,
      reason: `${n} acknowledged messages not received within ${timeoutMs} ms`,
    });
  }

  return {
    stats,
    record,
    timed: async (api, call) => {
      const started = now();
      return record(api, started, await call());
    },
    received,
    lost,
    publish(at) {
      const windows = summarize(stats, at).windows;
      const lastComplete = windows[windows.length - 2];
      if (lastComplete?.successRate != null)
        metrics.successRatio.set({ service }, lastComplete.successRate);
    },
    recentFailures: () => [...failures],
    deliveryLatencies: () => latencies,
    startup: () => ({
      failed: startupFailed,
      shed: startupShed,
      servedAt: servedAt === undefined ? null : new Date(servedAt).toISOString(),
      lastFailure: lastStartupFailure ?? null,
    }),
  };
}
