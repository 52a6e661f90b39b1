// Campus-by-campus rollout, pure: which campus may take the new template now.
// One campus at a time, in order; the next starts only when every campus
// before it runs the new template and is Available; a campus whose image is
// not yet on its nodes waits (the image-distribution hook).

export interface CampusRolloutState {
  readonly campus: string;
  /** Template hash the campus's Deployment carries; undefined when it does not exist yet. */
  readonly hash: string | undefined;
  /** Its Deployment has rolled out: every replica updated and available. */
  readonly available: boolean;
}

export type RolloutStep =
  | { readonly kind: 'done' }
  | { readonly kind: 'update'; readonly campus: string }
  | { readonly kind: 'wait-available'; readonly campus: string }
  | { readonly kind: 'wait-image'; readonly campus: string };

/**
 * The next step of a rollout to `target`. Campuses without a Deployment are
 * created at the target directly (there is nothing to roll), so they never
 * block and never wait.
 */
export function nextRolloutStep(
  order: readonly CampusRolloutState[],
  target: string,
  imageReady: (campus: string) => boolean,
): RolloutStep {
  for (const c of order) {
    if (c.hash === undefined) continue;
    if (c.hash === target) {
      if (!c.available) return { kind: 'wait-available', campus: c.campus };
      continue;
    }
    return imageReady(c.campus)
      ? { kind: 'update', campus: c.campus }
      : { kind: 'wait-image', campus: c.campus };
  }
  return { kind: 'done' };
}

/** The rollout order: the spec's campusOrder first (those that exist), then the rest by name. */
export function rolloutOrder(
  campuses: readonly string[],
  preferred: readonly string[] | undefined,
): string[] {
  const set = new Set(campuses);
  const first = (preferred ?? []).filter((c) => set.has(c));
  const rest = [...campuses].filter((c) => !first.includes(c)).sort();
  return [...first, ...rest];
}
