// API errors are translated here, once, at the boundary with the client:
// callers ask "was it NotFound?" instead of poking at HTTP codes.
import { ApiException } from '@kubernetes/client-node';

/** The HTTP status of an API error, or undefined for anything else. */
export function statusCode(err: unknown): number | undefined {
  if (err instanceof ApiException) return (err as ApiException<unknown>).code;
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

export const isNotFound = (err: unknown): boolean => statusCode(err) === 404;
export const isConflict = (err: unknown): boolean => statusCode(err) === 409;
export const isGone = (err: unknown): boolean => statusCode(err) === 410;
export const isAlreadyExists = isConflict;

/** The API server's own message (metav1.Status.message), for errors people read. */
export function apiMessage(err: unknown): string {
  if (err instanceof ApiException) {
    const body: unknown = (err as ApiException<unknown>).body;
    const parsed: unknown = typeof body === 'string' ? safeJson(body) : body;
    const msg = (parsed as { message?: unknown } | null)?.message;
    if (typeof msg === 'string') return msg;
  }
  return err instanceof Error ? err.message : String(err);
}

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s) as unknown;
  } catch {
    return s;
  }
}

/**
 * Worth trying again: throttling or a cache still warming up (429, e.g. the
 * "storage is (re)initializing" of a CRD created a moment ago), a server
 * error (5xx), or no answer at all.
 */
export function isTransient(err: unknown): boolean {
  const code = statusCode(err);
  return code === undefined || code === 429 || code >= 500;
}

/**
 * Runs `fn`, retrying transient API errors a bounded number of times with a
 * growing pause (what a CLI or a one-shot call needs; controllers retry
 * through their work queue instead).
 */
export async function retryTransient<T>(
  fn: () => Promise<T>,
  {
    attempts = 6,
    baseMs = 250,
    sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms)),
  } = {},
): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (i >= attempts || !isTransient(err)) throw err;
      await sleep(baseMs * 2 ** (i - 1));
    }
  }
}
