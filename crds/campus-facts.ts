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
