// API errors are translated here, once, at the boundary with the client:
// callers ask "was it NotFound?" instead of poking at HTTP codes.
import { ApiException } from '@kubernetes/client-node';
import { realClock, sleep as clockSleep } from './clock.ts';

/**
 * An API answer that was not 2xx, as the runtime's REST client raises it:
 * an ApiException (so `instanceof ApiException` and `.code` work as with
 * client-node's own), whose message is one line — the request, the code and
 * the API's message — and which keeps the request's method and path. It
 * carries the parsed body (a metav1.Status) but no headers: client-node's
 * constructor folds both into the message, which made every logged error
 * pages long.
 */
export class ApiError extends ApiException<unknown> {
  readonly method: string;
  readonly path: string;

  constructor(method: string, path: string, code: number, detail: string, body: unknown) {
    super(code, detail, body, {});
    this.name = 'ApiError';
    this.method = method;
    this.path = path;
    this.message = `${method} ${path}: HTTP ${code}: ${detail}`;
  }
}

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
export const isForbidden = (err: unknown): boolean => statusCode(err) === 403;

/**
 * A write that lost a race, which the next reconcile resolves by reading
 * the cache again: a 409 Conflict (a stale resourceVersion, or a create of
 * what exists already), or a 404 on a status write (the object was deleted
 * while being reconciled). Controllers requeue these quietly.
 */
export function isExpectedConflict(err: unknown): boolean {
  if (isConflict(err)) return true;
  return isNotFound(err) && err instanceof ApiError && /\/status$/.test(err.path.split('?')[0]!);
}

/**
 * One line that says what failed: for an API error the request, the code and
 * the API's message (never its headers or whole body); for any other error
 * its message, with its causes'.
 */
export function describeError(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  if (err instanceof ApiException) {
    // client-node's own: "HTTP-Code: …\nMessage: …\nBody: …\nHeaders: …"
    return `HTTP ${(err as ApiException<unknown>).code}: ${apiMessage(err)}`;
  }
  if (!(err instanceof Error)) return String(err);
  if (err.cause === undefined) return err.message;
  const cause = describeError(err.cause);
  // our wrappers often repeat their cause's message already
  return err.message.includes(cause) ? err.message : `${err.message}: ${cause}`;
}

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
  { attempts = 6, baseMs = 250, sleep = (ms: number) => clockSleep(realClock, ms) } = {},
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
