// The admission decision of FastReject / DAGOR (docs/background.md §4). A service keeps
// one threshold over request levels (priority.ts): a request whose level is
// below the threshold is admitted, any other is answered at once with 503.
// Once per window the threshold moves: when the average queueing time of the
// window exceeds its target (the overload signal: queueing time, unlike CPU,
// rises exactly when requests wait for the service), the threshold drops so
// that about 5% fewer requests would have been admitted; otherwise it rises so
// that about 1% more would. Pure: the gate (gate.ts) feeds it counts.
import { levels } from './priority.ts';

export interface AdmissionPolicy {
  /** Average queueing time above which the service counts as overloaded (DAGOR: 20 ms). */
  readonly targetQueueMs: number;
  /** Share of admitted requests to cut per overloaded window (DAGOR: 5%). */
  readonly decrease: number;
  /** Share of admitted requests to add per calm window (DAGOR: 1%). */
  readonly increase: number;
  /** A window ends after this long… */
  readonly windowMs: number;
  /** …or after this many requests, whichever comes first. */
  readonly windowRequests: number;
}

export const defaultAdmissionPolicy: AdmissionPolicy = {
  targetQueueMs: 20,
  decrease: 0.05,
  increase: 0.01,
  windowMs: 1000,
  windowRequests: 2000,
};

/** What one window saw. */
export interface AdmissionWindow {
  /** The threshold in force during the window. */
  readonly threshold: number;
  /** Requests that arrived, by level (admitted or not). */
  readonly arrivals: ReadonlyMap<number, number>;
  /** Average time admitted requests waited before being served (and the age of those still waiting). */
  readonly avgQueueMs: number;
  /** How many requests the queueing average covers; 0 means nothing was served or waited. */
  readonly queued: number;
}

export type AdmissionChange =
  | { readonly kind: 'lower'; readonly threshold: number; readonly reason: string }
  | { readonly kind: 'raise'; readonly threshold: number; readonly reason: string }
  | { readonly kind: 'keep'; readonly threshold: number; readonly reason: string };

export function admits(threshold: number, lvl: number): boolean {
  return lvl < threshold;
}

/** Requests of the window below a threshold, i.e. those it would admit. */
function admittedBelow(arrivals: ReadonlyMap<number, number>, threshold: number): number {
  let n = 0;
  for (const [lvl, count] of arrivals) if (lvl < threshold) n += count;
  return n;
}

function sortedLevels(arrivals: ReadonlyMap<number, number>): number[] {
  return [...arrivals.entries()]
    .filter(([, c]) => c > 0)
    .map(([l]) => l)
    .sort((a, b) => a - b);
}

/** The next threshold after a window. */
export function nextThreshold(w: AdmissionWindow, policy: AdmissionPolicy): AdmissionChange {
  const admitted = admittedBelow(w.arrivals, w.threshold);
  const ms = w.avgQueueMs.toFixed(1);
  if (w.queued > 0 && w.avgQueueMs > policy.targetQueueMs) {
    if (admitted === 0) {
      return {
        kind: 'keep',
        threshold: w.threshold,
        reason: `overloaded (${ms} ms) but nothing admitted to cut`,
      };
    }
    const target = admitted * (1 - policy.decrease);
    // The highest threshold that admits no more than the target: drop whole
    // levels from the least important admitted one down.
    let t = w.threshold;
    for (const lvl of sortedLevels(w.arrivals)
      .filter((l) => l < w.threshold)
      .reverse()) {
      if (admittedBelow(w.arrivals, t) <= target) break;
      t = lvl;
    }
    return {
      kind: 'lower',
      threshold: t,
      reason: `queueing ${ms} ms > ${policy.targetQueueMs} ms: admit ≤ ${Math.floor(target)} of ${admitted}`,
    };
  }
  if (w.threshold >= levels) {
    return { kind: 'keep', threshold: levels, reason: `queueing ${ms} ms: admitting everything` };
  }
  const target = admitted * (1 + policy.increase);
  // The lowest threshold that admits at least the target: add whole levels
  // from the most important shed one up. With no demand above, open fully.
  let t = w.threshold;
  for (const lvl of sortedLevels(w.arrivals).filter((l) => l >= w.threshold)) {
    t = lvl + 1;
    if (admittedBelow(w.arrivals, t) >= target) break;
  }
  if (admittedBelow(w.arrivals, t) < target || t === w.threshold) t = levels;
  return {
    kind: 'raise',
    threshold: Math.min(levels, t),
    reason: `queueing ${ms} ms ≤ ${policy.targetQueueMs} ms: admit ≥ ${Math.ceil(target)} of ${admitted}`,
  };
}
