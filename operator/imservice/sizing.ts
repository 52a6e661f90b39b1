// WeChat's sizing rule, pure: `capacity` replicas must survive the loss of
// any one campus with no scale-up, so with N campuses each runs ⌈capacity/(N−1)⌉.

/** Replicas each campus runs for a service that needs `capacity` at peak. */
export function perCampusReplicas(capacity: number, campuses: number): number {
  if (campuses <= 0) return 0;
  if (campuses === 1) return capacity;
  return Math.ceil(capacity / (campuses - 1));
}

export interface CampusCount {
  readonly campus: string;
  readonly desired: number;
  readonly ready: number;
  readonly updated: number;
  readonly available: number;
}

/**
 * Can the service lose any one campus and still serve `capacity`? Counts the
 * available replicas of the others, for the worst campus to lose.
 */
export function survivesLossOfAnyCampus(
  capacity: number,
  counts: readonly CampusCount[],
): {
  readonly safe: boolean;
  readonly worst?: { readonly campus: string; readonly remaining: number };
} {
  if (counts.length === 0) return { safe: false };
  const total = counts.reduce((s, c) => s + c.available, 0);
  let worst: { campus: string; remaining: number } | undefined;
  for (const c of counts) {
    const remaining = total - c.available;
    if (!worst || remaining < worst.remaining) worst = { campus: c.campus, remaining };
  }
  return worst ? { safe: worst.remaining >= capacity, worst } : { safe: false };
}
