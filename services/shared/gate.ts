// The in-process admission queue that turns admission.ts into behaviour: a
// bounded number of requests are served at once, admitted ones wait in a
// priority queue for a slot, and how long they waited is the overload signal.
// A request below the threshold is answered at once instead of queueing; a
// full queue makes room by shedding its least important waiter; a request
// that waited too long is shed rather than served after its caller gave up.
import { admits, defaultAdmissionPolicy, nextThreshold } from './admission.ts';
import type { AdmissionChange, AdmissionPolicy } from './admission.ts';
import { describeThreshold, levels } from './priority.ts';
import type { BusinessPriority } from './priority.ts';
import type { ServiceMetrics } from './metrics.ts';

export interface GateOptions {
  /** Requests served at once. */
  readonly maxConcurrency: number;
  /** Admitted requests that may wait for a slot. */
  readonly maxQueue: number;
  /** A waiter older than this is shed, not served. */
  readonly maxQueueWaitMs: number;
  readonly policy: AdmissionPolicy;
}

export const defaultGateOptions: GateOptions = {
  maxConcurrency: 64,
  maxQueue: 512,
  maxQueueWaitMs: 1000,
  policy: defaultAdmissionPolicy,
};

export const shedReasons = ['level', 'queue-full', 'queue-timeout'] as const;
export type ShedReason = (typeof shedReasons)[number];

export type GateResult =
  | { readonly kind: 'admitted'; readonly queuedMs: number; readonly release: () => void }
  | { readonly kind: 'shed'; readonly reason: ShedReason; readonly detail: string };

export interface Gate {
  /** Waits for a slot (or none when `holdsSlot` is false, e.g. a long-poll) or sheds at once. */
  enter(level: number, business: BusinessPriority, holdsSlot?: boolean): Promise<GateResult>;
  /** The current threshold, sent to callers so they shed before calling. */
  threshold(): number;
  /** Ends the window now (tests and the periodic timer). */
  roll(): AdmissionChange;
  close(): void;
}

interface Waiter {
  readonly level: number;
  readonly seq: number;
  readonly at: number;
  readonly business: BusinessPriority;
  readonly resolve: (r: GateResult) => void;
}

export function createGate(
  opts: GateOptions = defaultGateOptions,
  metrics?: ServiceMetrics,
  now: () => number = () => performance.now(),
): Gate {
  let threshold = levels;
  let inFlight = 0;
  let seq = 0;
  // sorted by level, then arrival: the most important waiter is served first
  const queue: Waiter[] = [];
  let arrivals = new Map<number, number>();
  let windowStart = now();
  let windowCount = 0;
  let queuedMsSum = 0;
  let queuedCount = 0;

  const gauges = (): void => {
    metrics?.queueDepth.set(queue.length);
    metrics?.inFlight.set(inFlight);
  };

  const observeQueued = (ms: number, business: BusinessPriority): void => {
    queuedMsSum += ms;
    queuedCount++;
    metrics?.queueSeconds.observe({ business }, ms / 1000);
  };

  const roll = (): AdmissionChange => {
    const t = now();
    // waiters still in the queue count with their age so far: a stuck queue is overload too
    let sum = queuedMsSum;
    for (const w of queue) sum += t - w.at;
    const count = queuedCount + queue.length;
    const change = nextThreshold(
      { threshold, arrivals, avgQueueMs: count > 0 ? sum / count : 0, queued: count },
      opts.policy,
    );
    if (change.threshold !== threshold) metrics?.admissionChanges.inc({ direction: change.kind });
    threshold = change.threshold;
    metrics?.admissionLevel.set(threshold);
    arrivals = new Map();
    windowStart = t;
    windowCount = 0;
    queuedMsSum = 0;
    queuedCount = 0;
    return change;
  };

  const shedWaiter = (w: Waiter, reason: ShedReason, detail: string): void => {
    w.resolve({ kind: 'shed', reason, detail });
  };

  const release = (): void => {
    inFlight--;
    pump();
  };

  function grant(w: Waiter, t: number): void {
    inFlight++;
    observeQueued(t - w.at, w.business);
    let released = false;
    w.resolve({
      kind: 'admitted',
      queuedMs: t - w.at,
      release: () => {
        if (released) return;
        released = true;
        release();
      },
    });
  }

  function pump(): void {
    const t = now();
    while (inFlight < opts.maxConcurrency && queue.length > 0) {
      const w = queue.shift();
      if (!w) break;
      if (t - w.at > opts.maxQueueWaitMs) {
        shedWaiter(w, 'queue-timeout', `waited ${Math.round(t - w.at)} ms for a slot`);
        continue;
      }
      grant(w, t);
    }
    gauges();
  }

  const sweep = (): void => {
    const t = now();
    for (let i = queue.length - 1; i >= 0; i--) {
      const w = queue[i];
      if (w && t - w.at > opts.maxQueueWaitMs) {
        queue.splice(i, 1);
        shedWaiter(w, 'queue-timeout', `waited ${Math.round(t - w.at)} ms for a slot`);
      }
    }
    gauges();
  };

  const windowTimer = setInterval(() => {
    if (now() - windowStart >= opts.policy.windowMs) roll();
  }, opts.policy.windowMs);
  windowTimer.unref();
  const sweepTimer = setInterval(sweep, Math.max(10, opts.maxQueueWaitMs / 4));
  sweepTimer.unref();

  return {
    threshold: () => threshold,
    roll,
    close() {
      clearInterval(windowTimer);
      clearInterval(sweepTimer);
      for (const w of queue.splice(0)) shedWaiter(w, 'queue-timeout', 'service is stopping');
      gauges();
    },
    enter(level, business, holdsSlot = true) {
      const t = now();
      if (t - windowStart >= opts.policy.windowMs || windowCount >= opts.policy.windowRequests)
        roll();
      windowCount++;
      arrivals.set(level, (arrivals.get(level) ?? 0) + 1);
      if (!admits(threshold, level)) {
        return Promise.resolve({
          kind: 'shed',
          reason: 'level',
          detail: `overloaded: ${describeThreshold(threshold)}`,
        });
      }
      if (!holdsSlot) return Promise.resolve({ kind: 'admitted', queuedMs: 0, release: () => {} });
      return new Promise<GateResult>((resolve) => {
        const w: Waiter = { level, seq: seq++, at: t, business, resolve };
        if (inFlight < opts.maxConcurrency && queue.length === 0) {
          grant(w, t);
          gauges();
          return;
        }
        if (queue.length >= opts.maxQueue) {
          const worst = queue[queue.length - 1];
          if (!worst || worst.level <= level) {
            resolve({
              kind: 'shed',
              reason: 'queue-full',
              detail: `${queue.length} requests waiting`,
            });
            return;
          }
          queue.pop();
          shedWaiter(worst, 'queue-full', 'made room for a more important request');
        }
        // insert after every waiter of the same or a more important level
        let i = queue.length;
        while (i > 0 && (queue[i - 1]?.level ?? 0) > level) i--;
        queue.splice(i, 0, w);
        pump();
      });
    },
  };
}
