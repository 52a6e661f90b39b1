// The prober's time: when things happen and how it waits. Injected, so a test
// steps a virtual clock instead of waiting out a run in real time.
import { setTimeout as sleep } from 'node:timers/promises';

export interface ProberClock {
  /** Milliseconds since the epoch (fractional is fine). */
  now(): number;
  /** Resolves after `ms`; rejects when `signal` aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/**
 * Wall time from the monotonic clock: latencies keep their sub-millisecond
 * part and never go negative when the system clock is set back.
 */
export const realClock: ProberClock = {
  now: () => performance.timeOrigin + performance.now(),
  sleep: (ms, signal) => sleep(ms, undefined, signal ? { signal } : {}),
};
