// Level 2, the online framework: places an IMService's pod inside its campus,
// within the online grant. It sees level 1 only through the contract's Offer.
//
// Spread: among the nodes that fit, fewest replicas of the same service first,
// so a service's replicas never stack on a node while another fits and the
// counts of a campus's nodes stay within one of each other. Among equals, the
// most allocated node, so that online packs and whole nodes stay free for
// offline gangs; then name order, so the choice is deterministic.
import type { Offer, OnlineAsk, OnlinePod } from './contract.ts';

export type OnlinePlacement =
  | { readonly kind: 'bound'; readonly node: number }
  | { readonly kind: 'over-ceiling' }
  | { readonly kind: 'no-room' };

export const onlinePod = (ask: OnlineAsk, node: string): OnlinePod => ({
  framework: 'online',
  name: ask.pod,
  node,
  requests: ask.requests,
  service: ask.service,
  businessPriority: ask.businessPriority,
});

/**
 * The spread choice among the campus's nodes that pass `fits` (by default:
 * open and with room now). O(nodes in the campus).
 */
export function pickSpread(
  offer: Offer,
  ask: OnlineAsk,
  fits: (node: number) => boolean = (n) => offer.fits(n, ask.requests),
): number | undefined {
  let best: number | undefined;
  let bestReplicas = Infinity;
  let bestScore = -Infinity;
  for (const n of offer.campusNodes(ask.campus)) {
    if (!fits(n)) continue;
    // room was cleared for this pod by a preemption: take it, or it goes to waste
    if (ask.nominatedNode !== undefined && offer.nodeName(n) === ask.nominatedNode) return n;
    const replicas = offer.replicas(ask.service, n);
    if (replicas > bestReplicas) continue;
    const score = offer.allocatedAfter(n, ask.requests);
    if (replicas < bestReplicas || score > bestScore) {
      best = n;
      bestReplicas = replicas;
      bestScore = score;
    }
  }
  return best;
}

/** Places the pod and assumes it in the offer, or says which limit stopped it. */
export function placeOnline(offer: Offer, ask: OnlineAsk): OnlinePlacement {
  if (!offer.withinGrant(ask.campus, 'online', ask.requests)) return { kind: 'over-ceiling' };
  const node = pickSpread(offer, ask);
  if (node === undefined) return { kind: 'no-room' };
  offer.assume(onlinePod(ask, offer.nodeName(node)));
  return { kind: 'bound', node };
}
