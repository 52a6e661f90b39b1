// The campus controller's decisions, pure: whether a campus selects nodes of
// its own, whether the others could absorb its online load (CampusSafe), and
// what its shield demands of nodes and pods. No client, no clock (now is an
// argument), so every rule is a table test.
//
// The numbers CampusSafe weighs are the scheduler's own — what it published
// to each Campus's status (online requests with pod overhead and binds in
// flight, the ceiling in force, the ceiling it would raise a campus to if one
// more were lost) — never a recomputation here: the scheduler decides, so it
// is the one that knows.
import { formatBytes, formatCpu } from '../../runtime/quantity.ts';

export interface Resources {
  readonly cpuMilli: number;
  readonly memoryBytes: number;
}

export const zero: Resources = { cpuMilli: 0, memoryBytes: 0 };

export const add = (a: Resources, b: Resources): Resources => ({
  cpuMilli: a.cpuMilli + b.cpuMilli,
  memoryBytes: a.memoryBytes + b.memoryBytes,
});

export const sub = (a: Resources, b: Resources): Resources => ({
  cpuMilli: a.cpuMilli - b.cpuMilli,
  memoryBytes: a.memoryBytes - b.memoryBytes,
});

const positive = (a: Resources): Resources => ({
  cpuMilli: Math.max(0, a.cpuMilli),
  memoryBytes: Math.max(0, a.memoryBytes),
});

export const fmt = (r: Resources): string =>
  `${formatCpu(r.cpuMilli)} CPU, ${formatBytes(r.memoryBytes)}`;

/** What the controller needs of a node. */
export interface NodeView {
  readonly name: string;
  readonly campus: string | undefined;
  readonly ready: boolean;
  readonly shieldTainted: boolean;
}

/** What the controller needs of a pod bound to a node (not finished). */
export interface PodView {
  readonly namespace: string;
  readonly name: string;
  readonly node: string;
  /** Status of the yard.dev/serving condition; undefined when the pod has no such gate. */
  readonly serving: 'True' | 'False' | 'absent' | undefined;
}

/** What the scheduler published to a Campus's status. */
export interface Published {
  /** publishedAt, ms. */
  readonly at: number;
  readonly onlineRequests: Resources;
  /** What online may use there now. */
  readonly onlineCeiling: Resources;
  /** What online could use there if one more campus were lost (the ceiling a shield raises). */
  readonly failoverCeiling: Resources;
}

/** One campus as CampusSafe weighs it. */
export interface CampusFacts {
  readonly name: string;
  readonly shielded: boolean;
  /** Every node its selector matches, sorted. */
  readonly selected: readonly string[];
  /** Of those, the ones an earlier campus (by name) also selects and counts: node → that campus. */
  readonly ownedElsewhere: ReadonlyMap<string, string>;
  /** Nodes it counts that later campuses select too: node → those campuses. */
  readonly sharedWith: ReadonlyMap<string, readonly string[]>;
  /** Undefined until the scheduler has published its numbers. */
  readonly published: Published | undefined;
}

export type ConditionVerdict = {
  readonly status: 'True' | 'False' | 'Unknown';
  readonly reason: string;
  readonly message: string;
};

const listed = (xs: readonly string[], most = 5): string =>
  xs.length <= most
    ? xs.join(', ')
    : `${xs.slice(0, most).join(', ')} and ${xs.length - most} more`;

/** Nodes grouped by the campus named for them: "n1, n2 (campus-a); n3 (campus-c)". */
function byCampus(m: ReadonlyMap<string, string | readonly string[]>): string {
  const groups = new Map<string, string[]>();
  for (const [node, c] of m) {
    const k = typeof c === 'string' ? c : c.join(', ');
    groups.set(k, [...(groups.get(k) ?? []), node]);
  }
  return [...groups]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([c, nodes]) => `${listed(nodes.sort())} (${c})`)
    .join('; ');
}

/**
 * NodesSelected: the campus selects nodes that count as its own. False when
 * it selects none, or nodes an earlier campus already counts — it has no
 * capacity of its own, or less than it claims; the message names the nodes
 * and the other campus.
 */
export function nodesSelected(c: CampusFacts): ConditionVerdict {
  if (c.selected.length === 0)
    return {
      status: 'False',
      reason: 'NoNodes',
      message: `${c.name} selects no nodes: check spec.nodeSelector (or the nodes' zone label)`,
    };
  if (c.ownedElsewhere.size > 0)
    return {
      status: 'False',
      reason: 'NodesOfAnotherCampus',
      message: `${c.name} selects nodes another campus already counts as its own: ${byCampus(c.ownedElsewhere)}; make the node selectors disjoint`,
    };
  const own = `${c.name} selects ${c.selected.length} node${c.selected.length === 1 ? '' : 's'}`;
  if (c.sharedWith.size > 0)
    return {
      status: 'True',
      reason: 'NodesAlsoSelectedElsewhere',
      message: `${own}; these are selected by other campuses too (${c.name} counts them): ${byCampus(c.sharedWith)}`,
    };
  return { status: 'True', reason: 'NodesSelected', message: own };
}

export interface SafeOptions {
  readonly now: number;
  /** Published numbers older than this prove nothing (the scheduler stopped). */
  readonly staleAfterMs: number;
}

/**
 * CampusSafe: if this campus were lost, could the others absorb its online
 * load? With every shielded campus counted as lost already: their online load
 * must move too, and the others may take it up to the ceiling the scheduler
 * would raise them to (`failoverCeiling`; for a shielded campus, the ceiling
 * in force already is). Offline work does not count against them (it is
 * preempted). Both CPU and memory must fit. Never True for a campus without
 * nodes of its own (it proves nothing), and Unknown while the scheduler's
 * numbers are missing or stale — nothing here makes them up.
 */
export function campusSafe(
  self: CampusFacts,
  all: readonly CampusFacts[],
  o: SafeOptions,
): ConditionVerdict {
  const nodes = nodesSelected(self);
  if (nodes.status === 'False')
    return {
      status: 'False',
      reason: nodes.reason === 'NoNodes' ? 'NoCapacity' : 'NodesOfAnotherCampus',
      message: `${nodes.message}; a campus without capacity of its own proves nothing`,
    };
  const missing = all.filter((c) => !c.published).map((c) => c.name);
  if (missing.length > 0)
    return {
      status: 'Unknown',
      reason: 'SchedulerNotPublished',
      message: `the scheduler has not published the numbers of ${listed(missing)} yet (is it running?)`,
    };
  const stale = all.filter((c) => (c.published?.at ?? 0) < o.now - o.staleAfterMs);
  if (stale.length > 0) {
    const oldest = Math.min(...stale.map((c) => c.published?.at ?? 0));
    return {
      status: 'Unknown',
      reason: 'SchedulerStale',
      message: `the scheduler's numbers of ${listed(stale.map((c) => c.name))} are stale (published ${new Date(oldest).toISOString().replace(/\.\d+Z$/, 'Z')}, more than ${Math.round(o.staleAfterMs / 1000)} s ago): is it running?`,
    };
  }
  const lost = all.filter((c) => c.name === self.name || c.shielded);
  const others = all.filter((c) => c.name !== self.name && !c.shielded);
  const load = lost.reduce((s, c) => add(s, c.published?.onlineRequests ?? zero), zero);
  const what =
    lost.length === 1
      ? `its online load (${fmt(load)})`
      : `its online load and that of shielded ${listed(lost.filter((c) => c !== self).map((c) => c.name))} (${fmt(load)})`;
  if (others.length === 0)
    return {
      status: 'False',
      reason: 'NoOtherCampus',
      message: `if ${self.name} is lost, no other unshielded campus can take ${what}`,
    };
  const room = others.reduce((s, c) => {
    const p = c.published;
    if (!p) return s;
    const ceiling = self.shielded ? p.onlineCeiling : p.failoverCeiling;
    return add(s, positive(sub(ceiling, p.onlineRequests)));
  }, zero);
  const fits = room.cpuMilli >= load.cpuMilli && room.memoryBytes >= load.memoryBytes;
  const names = listed(others.map((c) => c.name));
  return {
    status: fits ? 'True' : 'False',
    reason: fits ? 'OthersCanAbsorb' : 'OthersCannotAbsorb',
    message: `if ${self.name} is lost, ${what} ${fits ? 'fits' : 'does not fit'} in ${names} (room ${fmt(room)} under the ceilings they would be raised to)`,
  };
}

/** When the first of these numbers goes stale, or undefined when none is published. */
export function staleAt(all: readonly CampusFacts[], staleAfterMs: number): number | undefined {
  const at = all.flatMap((c) => (c.published ? [c.published.at + staleAfterMs] : []));
  return at.length > 0 ? Math.min(...at) : undefined;
}

export interface ShieldActions {
  /** Nodes of the campus that must gain (true) or lose (false) the shield taint. */
  readonly taint: readonly { readonly node: string; readonly add: boolean }[];
  /** Pods whose serving condition must be set to the given status. */
  readonly serving: readonly {
    readonly namespace: string;
    readonly name: string;
    readonly status: 'True' | 'False';
  }[];
}

/**
 * What the shield demands now: while active, every node of the campus carries
 * the taint and every gated pod there is not serving; otherwise no node of it
 * carries the taint and every gated pod serves. Only differences are returned,
 * so a converged campus yields no writes.
 */
export function shieldActions(
  campus: string,
  active: boolean,
  nodes: readonly NodeView[],
  pods: readonly PodView[],
): ShieldActions {
  const mine = nodes.filter((n) => n.campus === campus);
  const names = new Set(mine.map((n) => n.name));
  const taint = mine
    .filter((n) => n.shieldTainted !== active)
    .map((n) => ({ node: n.name, add: active }));
  const want = active ? 'False' : 'True';
  const serving = pods
    .filter((p) => names.has(p.node) && p.serving !== undefined && p.serving !== want)
    .map((p) => ({ namespace: p.namespace, name: p.name, status: want }) as const);
  return { taint, serving };
}
