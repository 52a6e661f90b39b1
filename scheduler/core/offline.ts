// Level 2, the offline framework: places a unit of an OfflineJob — the gang's
// members that must start together, or one more pod of a gang that already
// runs — inside the offline grant, all or nothing. It sees level 1 only
// through the contract's Offer.
//
// Packing: each member goes to the most allocated node it fits (MostAllocated),
// so offline fills nodes already in use and whole nodes stay free for the next
// big gang or an online surge. A gang first tries to stay in one campus (the
// one with the most offline room first), for locality, and spans campuses only
// when no single one can hold it.
import type { Offer, OfflinePod, PendingPod } from './contract.ts';

export interface OfflineUnit {
  readonly job: string;
  readonly queue: string;
  readonly priority: number;
  readonly gangMin: number;
  /** Only this campus, when the job asks for one. */
  readonly campus?: string;
  readonly members: readonly PendingPod[];
}

export type OfflinePlacement =
  | { readonly kind: 'bound'; readonly binds: readonly { pod: string; node: string }[] }
  /** Nothing placed; at most `fit` of the members fitted at once. */
  | { readonly kind: 'short'; readonly fit: number };

/** Places every member or none, assuming the ones placed in the offer. */
export function placeUnit(offer: Offer, unit: OfflineUnit): OfflinePlacement {
  const open = offer.openCampuses();
  const campuses = unit.campus === undefined ? open : open.filter((c) => c === unit.campus);
  // big members first: they have the fewest places to go
  const members = [...unit.members].sort(
    (a, b) =>
      b.requests.cpu - a.requests.cpu ||
      b.requests.memory - a.requests.memory ||
      (a.name < b.name ? -1 : 1),
  );
  let fit = 0;
  if (members.length > 1 && campuses.length > 1) {
    for (const c of byRoom(offer, campuses)) {
      const r = tryAll(offer, unit, members, [c]);
      if (r.kind === 'bound') return r;
      fit = Math.max(fit, r.fit);
    }
  }
  const r = tryAll(offer, unit, members, campuses);
  return r.kind === 'bound' ? r : { kind: 'short', fit: Math.max(fit, r.fit) };
}

function byRoom(offer: Offer, campuses: readonly string[]): string[] {
  const room = new Map(campuses.map((c) => [c, offer.headroom(c, 'offline')]));
  return [...campuses].sort((a, b) => {
    const ra = room.get(a);
    const rb = room.get(b);
    return (
      (rb?.cpu ?? 0) - (ra?.cpu ?? 0) || (rb?.memory ?? 0) - (ra?.memory ?? 0) || (a < b ? -1 : 1)
    );
  });
}

function tryAll(
  offer: Offer,
  unit: OfflineUnit,
  members: readonly PendingPod[],
  campuses: readonly string[],
): OfflinePlacement {
  const binds: { pod: string; node: string }[] = [];
  for (const m of members) {
    const node = mostAllocated(offer, m, campuses);
    if (node === undefined) {
      for (const b of binds) offer.forget(b.pod);
      return { kind: 'short', fit: binds.length };
    }
    const name = offer.nodeName(node);
    offer.assume(offlinePod(unit, m, name));
    binds.push({ pod: m.name, node: name });
  }
  return { kind: 'bound', binds };
}

function mostAllocated(
  offer: Offer,
  m: PendingPod,
  campuses: readonly string[],
): number | undefined {
  let best: number | undefined;
  let bestScore = -Infinity;
  for (const c of campuses) {
    if (!offer.withinGrant(c, 'offline', m.requests)) continue;
    for (const n of offer.campusNodes(c)) {
      if (!offer.fits(n, m.requests)) continue;
      const score = offer.allocatedAfter(n, m.requests);
      if (score > bestScore) {
        best = n;
        bestScore = score;
      }
    }
  }
  return best;
}

const offlinePod = (unit: OfflineUnit, m: PendingPod, node: string): OfflinePod => ({
  framework: 'offline',
  name: m.name,
  node,
  requests: m.requests,
  job: unit.job,
  queue: unit.queue,
  priority: unit.priority,
  progress: 0,
  gangMin: unit.gangMin,
});
