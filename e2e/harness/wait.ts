import { setTimeout as sleep } from 'node:timers/promises';

export interface WaitOptions {
  readonly timeoutMs?: number;
  readonly intervalMs?: number;
}

/** What a probe saw: done, or not yet with what it saw instead. */
export type Observation<T> =
  { readonly done: true; readonly value: T } | { readonly done: false; readonly seen: unknown };

export const done = <T>(value: T): Observation<T> => ({ done: true, value });
export const notYet = (seen: unknown): Observation<never> => ({ done: false, seen });

export class WaitTimeoutError extends Error {
  readonly lastSeen: unknown;
  constructor(what: string, ms: number, lastSeen: unknown) {
    super(
      `timed out after ${(ms / 1000).toFixed(1)}s waiting for ${what}; last saw: ${describe(lastSeen)}`,
    );
    this.name = 'WaitTimeoutError';
    this.lastSeen = lastSeen;
  }
}

function describe(v: unknown): string {
  if (v instanceof Error) return `error: ${v.message}`;
  if (typeof v === 'string') return v;
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 2000 ? `${s.slice(0, 2000)}…` : s;
}

/**
 * Polls `probe` until it reports done, and fails with what it last saw when
 * the deadline passes. A probe that throws counts as "not yet" (the error is
 * what it saw), so transient API errors do not end the wait.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<Observation<T>> | Observation<T>,
  { timeoutMs = 30_000, intervalMs = 200 }: WaitOptions = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastSeen: unknown;
  for (;;) {
    try {
      const o = await probe();
      if (o.done) return o.value;
      lastSeen = o.seen;
    } catch (err) {
      lastSeen = err;
    }
    if (Date.now() >= deadline) throw new WaitTimeoutError(what, timeoutMs, lastSeen);
    await sleep(Math.min(intervalMs, Math.max(0, deadline - Date.now())));
  }
}
