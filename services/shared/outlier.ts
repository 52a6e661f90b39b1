// Outlier detection as Envoy does it: a caller stops sending to an instance on
// its own, with no central health service (docs/background.md §1). Consecutive
// failures (errors or timeouts) eject an endpoint for base × n, n being how
// many times it has been ejected (capped); an ejection that would push the
// ejected share above the cap is skipped; an endpoint that stays healthy for a
// base period after its return earns one step of its multiplier back. Pure:
// every function takes `now` and returns a new table.

export interface OutlierPolicy {
  /** Consecutive failures that eject an endpoint (Envoy's consecutive_5xx: 5). */
  readonly consecutiveFailures: number;
  /** First ejection lasts this long; the n-th lasts n times as long (Envoy: 30 s). */
  readonly baseEjectionMs: number;
  /** No ejection lasts longer (Envoy: 300 s). */
  readonly maxEjectionMs: number;
  /** At most this share of endpoints is ejected at once; one always may be, never the last. */
  readonly maxEjectionPercent: number;
}

export const defaultOutlierPolicy: OutlierPolicy = {
  consecutiveFailures: 5,
  baseEjectionMs: 5_000,
  maxEjectionMs: 60_000,
  maxEjectionPercent: 50,
};

export interface EndpointHealth {
  readonly consecutiveFailures: number;
  /** Ejected until then (ms since the epoch), or not ejected. */
  readonly ejectedUntil: number | undefined;
  /** The ejection multiplier: how many ejections in a row, less those earned back. */
  readonly ejections: number;
  /** When the multiplier last changed or the endpoint returned. */
  readonly since: number;
}

export type OutlierTable = ReadonlyMap<string, EndpointHealth>;

/** What changed, with a reason for logs and metrics. */
export type OutlierEvent =
  | {
      readonly kind: 'ejected';
      readonly endpoint: string;
      readonly forMs: number;
      readonly reason: string;
    }
  | { readonly kind: 'kept'; readonly endpoint: string; readonly reason: string }
  | { readonly kind: 'returned'; readonly endpoint: string; readonly reason: string };

export type Outcome = 'success' | 'failure';

const fresh = (now: number): EndpointHealth => ({
  consecutiveFailures: 0,
  ejectedUntil: undefined,
  ejections: 0,
  since: now,
});

export function isEjected(h: EndpointHealth | undefined, now: number): boolean {
  return h?.ejectedUntil !== undefined && now < h.ejectedUntil;
}

/** How many of `total` endpoints may be ejected at once. */
export function ejectionCap(total: number, policy: OutlierPolicy): number {
  if (total <= 1) return 0;
  return Math.min(total - 1, Math.max(1, Math.floor((total * policy.maxEjectionPercent) / 100)));
}

/**
 * Brings the table in line with the current endpoint list (discovery may add
 * and remove endpoints), returns endpoints whose ejection ran out, and gives
 * back one step of the multiplier per healthy base period.
 */
export function refresh(
  table: OutlierTable,
  endpoints: readonly string[],
  now: number,
  policy: OutlierPolicy,
): { table: OutlierTable; events: OutlierEvent[] } {
  const next = new Map<string, EndpointHealth>();
  const events: OutlierEvent[] = [];
  for (const e of endpoints) {
    const h = table.get(e);
    if (!h) {
      next.set(e, fresh(now));
      continue;
    }
    if (h.ejectedUntil !== undefined && now >= h.ejectedUntil) {
      next.set(e, { ...h, ejectedUntil: undefined, consecutiveFailures: 0, since: now });
      events.push({ kind: 'returned', endpoint: e, reason: 'ejection time is over' });
      continue;
    }
    if (h.ejectedUntil === undefined && h.ejections > 0 && now - h.since >= policy.baseEjectionMs) {
      next.set(e, { ...h, ejections: h.ejections - 1, since: now });
      continue;
    }
    next.set(e, h);
  }
  return { table: next, events };
}

/** Records one call's outcome; may eject the endpoint. */
export function record(
  table: OutlierTable,
  endpoints: readonly string[],
  endpoint: string,
  outcome: Outcome,
  now: number,
  policy: OutlierPolicy,
): { table: OutlierTable; event: OutlierEvent | undefined } {
  const h = table.get(endpoint) ?? fresh(now);
  const next = new Map(table);
  if (outcome === 'success') {
    next.set(endpoint, h.consecutiveFailures === 0 ? h : { ...h, consecutiveFailures: 0 });
    return { table: next, event: undefined };
  }
  // Failures of an ejected endpoint (calls already in flight) change nothing.
  if (isEjected(h, now)) return { table, event: undefined };
  const failures = h.consecutiveFailures + 1;
  if (failures < policy.consecutiveFailures) {
    next.set(endpoint, { ...h, consecutiveFailures: failures });
    return { table: next, event: undefined };
  }
  const ejected = endpoints.filter((e) => e !== endpoint && isEjected(table.get(e), now)).length;
  const cap = ejectionCap(endpoints.length, policy);
  if (ejected + 1 > cap) {
    next.set(endpoint, { ...h, consecutiveFailures: failures });
    return {
      table: next,
      event: {
        kind: 'kept',
        endpoint,
        reason: `${failures} consecutive failures, but ${ejected} of ${endpoints.length} already ejected (cap ${cap})`,
      },
    };
  }
  const ejections = h.ejections + 1;
  const forMs = Math.min(policy.maxEjectionMs, policy.baseEjectionMs * ejections);
  next.set(endpoint, { consecutiveFailures: 0, ejectedUntil: now + forMs, ejections, since: now });
  return {
    table: next,
    event: {
      kind: 'ejected',
      endpoint,
      forMs,
      reason: `${failures} consecutive failures (ejection ${ejections}, ${forMs / 1000}s)`,
    },
  };
}

/** Endpoints that may receive calls now. */
export function usable(table: OutlierTable, endpoints: readonly string[], now: number): string[] {
  return endpoints.filter((e) => !isEjected(table.get(e), now));
}
