// Time is injected everywhere in the runtime (work queue delays, back-off,
// watchdogs, leader election) so tests step it by hand instead of sleeping.

/** Cancels a timer; calling it twice, or after the timer fired, does nothing. */
export type Cancel = () => void;

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Calls `fn` once after `ms` milliseconds. */
  setTimer(ms: number, fn: () => void): Cancel;
}

export const realClock: Clock = {
  now: () => Date.now(),
  setTimer(ms, fn) {
    const t = setTimeout(fn, Math.max(0, ms));
    return () => clearTimeout(t);
  },
};

/**
 * Resolves after `ms` on `clock`, or as soon as `signal` aborts (it never
 * rejects: loops check `signal.aborted` after waking up).
 */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const onAbort = (): void => {
      cancel();
      resolve();
    };
    const cancel = clock.setTimer(ms, () => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    });
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

interface ManualTimer {
  readonly at: number;
  readonly seq: number;
  readonly fn: () => void;
}

/** A clock that moves only when a test says so. */
export class ManualClock implements Clock {
  #now: number;
  #seq = 0;
  #timers: ManualTimer[] = [];

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimer(ms: number, fn: () => void): Cancel {
    const timer: ManualTimer = { at: this.#now + Math.max(0, ms), seq: this.#seq++, fn };
    this.#timers.push(timer);
    return () => {
      this.#timers = this.#timers.filter((t) => t !== timer);
    };
  }

  /** Timers not yet fired. */
  pending(): number {
    return this.#timers.length;
  }

  /** Moves time forward, firing due timers in order (including ones they set). */
  advance(ms: number): void {
    const end = this.#now + ms;
    for (let t = this.#next(end); t; t = this.#next(end)) {
      this.#now = Math.max(this.#now, t.at);
      t.fn();
    }
    this.#now = end;
  }

  /**
   * Like `advance`, but lets promise continuations run after each timer, so
   * async loops woken by a timer can set their next one before time moves on.
   */
  async tick(ms: number): Promise<void> {
    const end = this.#now + ms;
    await flush();
    for (let t = this.#next(end); t; t = this.#next(end)) {
      this.#now = Math.max(this.#now, t.at);
      t.fn();
      await flush();
    }
    this.#now = end;
    await flush();
  }

  #next(end: number): ManualTimer | undefined {
    let best: ManualTimer | undefined;
    for (const t of this.#timers) {
      if (t.at <= end && (!best || t.at < best.at || (t.at === best.at && t.seq < best.seq))) {
        best = t;
      }
    }
    if (best) this.#timers = this.#timers.filter((t) => t !== best);
    return best;
  }
}

/** Lets pending promise continuations (and I/O callbacks already due) run. */
export async function flush(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((r) => setImmediate(r));
}

/** metav1.Time: RFC 3339 with whole seconds. */
export function rfc3339(t: Date | number): string {
  return new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** metav1.MicroTime: RFC 3339 with 6 fractional digits. */
export function microTime(t: Date | number): string {
  return new Date(t).toISOString().replace(/Z$/, '000Z');
}
