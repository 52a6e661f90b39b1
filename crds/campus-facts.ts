// What a Campus object means, as every component reads it: which nodes it
// selects (its nodeSelector, else zone = its name), which campus a node
// belongs to, and whether its shield holds at a given moment. Pure; the
// operator, the scheduler and the node agent all read campuses through these,
// so they can never disagree about a node or a shield.
import type { V1Node } from '@kubernetes/client-node';
import type { Campus } from './generated/types.ts';
import { label } from './names.ts';

/** The labels that select a campus's nodes: its nodeSelector, or zone = its name. */
export function campusSelector(c: Campus): Record<string, string> {
  const sel = c.spec?.nodeSelector;
  return sel && Object.keys(sel).length > 0 ? sel : { [label.zone]: c.metadata.name ?? '' };
}

/** The campus a node belongs to: the first (by name) whose selector it matches. */
export function campusOfNode(node: V1Node, campuses: readonly Campus[]): string | undefined {
  const labels = node.metadata?.labels ?? {};
  const sorted = [...campuses].sort((a, b) =>
    (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''),
  );
  for (const c of sorted) {
    if (Object.entries(campusSelector(c)).every(([k, v]) => labels[k] === v))
      return c.metadata.name;
  }
  return undefined;
}

export interface ShieldSpec {
  readonly reason: string;
  readonly until: string;
  readonly by?: string | undefined;
}

export type ShieldState =
  | { readonly kind: 'none' }
  | { readonly kind: 'active'; readonly until: Date; readonly reason: string; readonly by: string }
  | { readonly kind: 'expired'; readonly until: Date };

/** Whether a shield holds at `now`; an unparsable `until` counts as expired so it can never block forever. */
export function shieldState(shield: ShieldSpec | undefined, now: Date): ShieldState {
  if (!shield) return { kind: 'none' };
  const until = new Date(shield.until);
  if (Number.isNaN(until.getTime()) || until.getTime() <= now.getTime()) {
    return { kind: 'expired', until };
  }
  return { kind: 'active', until, reason: shield.reason, by: shield.by ?? 'unknown' };
}

/** Which campuses select a node, and which nodes each campus selects. */
export interface CampusMembership {
  /** Per campus (every Campus given, by name): the nodes it selects, sorted, overlaps included. */
  readonly selected: ReadonlyMap<string, readonly string[]>;
  /** The campus each node counts in: the first by name that selects it (campusOfNode). */
  readonly campusOf: ReadonlyMap<string, string>;
  /** Nodes that more than one campus selects, with those campuses sorted by name. */
  readonly overlaps: ReadonlyMap<string, readonly string[]>;
}

/**
 * Who selects which node. A campus that selects no node, or only nodes an
 * earlier campus (by name) already owns, has no capacity of its own: callers
 * must neither spread services over it nor call it safe.
 */
export function campusMembership(
  campuses: readonly Campus[],
  nodes: readonly V1Node[],
): CampusMembership {
  const sorted = [...campuses].sort((a, b) =>
    (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''),
  );
  const selectors = sorted.map((c) => [c.metadata.name ?? '', campusSelector(c)] as const);
  const selected = new Map<string, string[]>(selectors.map(([n]) => [n, []]));
  const campusOf = new Map<string, string>();
  const overlaps = new Map<string, string[]>();
  for (const node of nodes) {
    const name = node.metadata?.name ?? '';
    const labels = node.metadata?.labels ?? {};
    const mine = selectors
      .filter(([, sel]) => Object.entries(sel).every(([k, v]) => labels[k] === v))
      .map(([c]) => c);
    for (const c of mine) selected.get(c)?.push(name);
    if (mine[0] !== undefined) campusOf.set(name, mine[0]);
    if (mine.length > 1) overlaps.set(name, mine);
  }
  for (const list of selected.values()) list.sort();
  return { selected, campusOf, overlaps };
}

/** The campuses that own at least one node (campusOf): the ones capacity can be spread over. */
export function campusesWithNodes(m: CampusMembership): string[] {
  return [...new Set(m.campusOf.values())].sort();
}
