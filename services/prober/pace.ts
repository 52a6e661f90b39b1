// The open loop's pace: operations are due at a fixed rate from the start,
// whether or not earlier ones have answered (a slow target must not slow the
// probe down and hide its slowness). Pure: the times are passed in.

/** Operations due by `now` in a run that started at `t0`: the first at once, then one every 1/rate s. */
export function dueOperations(t0: number, now: number, rate: number, maxOps: number): number {
  return Math.min(maxOps, Math.floor(((now - t0) * rate) / 1000) + 1);
}

/**
 * How long to wait before looking again, after `started` operations: until
 * the next one is due, at least 1 ms and at most `maxWaitMs` (the loop also
 * checks deliveries and stop requests).
 */
export function waitMs(
  t0: number,
  now: number,
  rate: number,
  started: number,
  maxWaitMs = 500,
): number {
  const next = t0 + (started * 1000) / rate;
  return Math.max(1, Math.min(maxWaitMs, next - now));
}
