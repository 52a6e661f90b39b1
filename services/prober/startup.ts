// Start-up is not an outage: a prober usually starts with (or before) its
// target, and until some access instance has served once — discovery found
// one and a request to it succeeded — a failure says only that the target is
// not up yet. Such failures are counted apart; after the first success,
// failures are failures. Pure: the times are passed in.

export type Outcome = 'ok' | 'shed' | 'failed' | 'startup';

/**
 * The outcome of one request that started at `startedAt`, given when the
 * first request succeeded (`servedAt`, undefined: none yet). A request sent
 * before that — even if its failure arrives after — was sent to a target
 * that had not served yet.
 */
export function outcomeOf(
  r: { readonly ok: boolean; readonly shed: boolean },
  startedAt: number,
  servedAt: number | undefined,
): Outcome {
  if (r.ok) return 'ok';
  if (servedAt === undefined || startedAt < servedAt) return 'startup';
  return r.shed ? 'shed' : 'failed';
}
