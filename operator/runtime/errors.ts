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
