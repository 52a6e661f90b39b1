// Exponential back-off with jitter, per key. Jitter only shortens a delay, so
// `maxMs` stays a true ceiling; it spreads retries of keys that failed
// together (an API server restart fails every key at once) instead of
// retrying them in lockstep.

export interface BackoffPolicy {
  /** The delay after the first failure. */
  readonly baseMs: number;
  /** The ceiling of any delay. */
  readonly maxMs: number;
  /** Growth per failure (default 2). */
  readonly factor?: number;
  /** Fraction of a delay that may be taken off at random, 0..1 (default 0.2). */
  readonly jitter?: number;
}

/**
 * The default for reconciles: controller-runtime's 5 ms doubling, capped at 5
 * minutes rather than its 1,000 s, so a key that failed through a long outage
 * is looked at again within minutes of the outage ending.
 */
export const reconcileBackoff: BackoffPolicy = { baseMs: 5, maxMs: 300_000, jitter: 0.2 };

/** The default for list and watch retries: client-go's reflector, 800 ms to 30 s. */
export const watchBackoff: BackoffPolicy = { baseMs: 800, maxMs: 30_000, jitter: 0.2 };

/** The delay before retry number `failures` (0 for the first retry). */
export function backoffDelay(
  failures: number,
  policy: BackoffPolicy,
  random: () => number = Math.random,
): number {
  const raw = policy.baseMs * (policy.factor ?? 2) ** Math.max(0, failures);
  const capped = Number.isFinite(raw) ? Math.min(policy.maxMs, raw) : policy.maxMs;
  const jitter = Math.min(1, Math.max(0, policy.jitter ?? 0.2));
  return capped * (1 - jitter * random());
}

/** Counts failures per key; `next` returns the delay and counts one more. */
export class KeyedBackoff {
  readonly #failures = new Map<string, number>();
  readonly #policy: BackoffPolicy;
  readonly #random: () => number;

  constructor(policy: BackoffPolicy, random: () => number = Math.random) {
    this.#policy = policy;
    this.#random = random;
  }

  next(key: string): number {
    const n = this.#failures.get(key) ?? 0;
    this.#failures.set(key, n + 1);
    return backoffDelay(n, this.#policy, this.#random);
  }

  /** Failures since the key last succeeded. */
  failures(key: string): number {
    return this.#failures.get(key) ?? 0;
  }

  /** The key succeeded: its next failure starts from the base delay again. */
  forget(key: string): void {
    this.#failures.delete(key);
  }
}
