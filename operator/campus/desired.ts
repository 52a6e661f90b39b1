// The campus controller's decisions, pure: what a campus's status says, and
// what its shield demands of nodes and pods. No client, no clock (now is an
// argument), so every rule is a table test.
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
const scale = (a: Resources, f: number): Resources => ({
  cpuMilli: Math.floor(a.cpuMilli * f),
  memoryBytes: Math.floor(a.memoryBytes * f),
});
export const fmt = (r: Resources): string =>
  `${formatCpu(r.cpuMilli)} CPU, ${formatBytes(r.memoryBytes)}`;

/** What the controller needs of a node. */
export interface NodeView {
  readonly name: string;
  readonly campus: string | undefined;
  readonly ready: boolean;
  readonly allocatable: Resources;
  readonly shieldTainted: boolean;
}

/** What the controller needs of a pod that holds resources (not finished). */
export interface PodView {
  readonly namespace: string;
  readonly name: string;
  readonly node: string;
  readonly framework: 'online' | 'offline';
  readonly requests: Resources;
  /** Status of the yard.dev/serving condition; undefined when the pod has no such gate. */
  readonly serving: 'True' | 'False' | 'absent' | undefined;
}

/**
 * The online ceiling as a fraction of allocatable: the campus's own setting
 * (percent), else (N−1)/N with N campuses, so that any one can be lost and the
 * others absorb its load (2/3 with three). One campus alone gets all of it.
 */
export function onlineCeiling(percent: number | undefined, campuses: number): number {
  if (percent !== undefined) return percent / 100;
  return campuses <= 1 ? 1 : (campuses - 1) / campuses;
}

export interface CampusLoad {
  readonly name: string;
  readonly nodesReady: number;
  readonly nodesTotal: number;
  readonly allocatable: Resources;
  readonly online: Resources;
  readonly offline: Resources;
  readonly ceiling: number;
  /** Online capacity left under the ceiling (negative when over). */
  readonly headroom: Resources;
  readonly shielded: boolean;
}

/** Sums one campus's nodes and the pods bound to them. */
export function campusLoad(
  name: string,
  nodes: readonly NodeView[],
  pods: readonly PodView[],
  ceiling: number,
  shielded: boolean,
): CampusLoad {
  const mine = nodes.filter((n) => n.campus === name);
  const names = new Set(mine.map((n) => n.name));
  let online = zero;
  let offline = zero;
  for (const p of pods) {
    if (!names.has(p.node)) continue;
    if (p.framework === 'online') online = add(online, p.requests);
    else offline = add(offline, p.requests);
  }
  const allocatable = mine.filter((n) => n.ready).reduce((s, n) => add(s, n.allocatable), zero);
  return {
    name,
    nodesReady: mine.filter((n) => n.ready).length,
    nodesTotal: mine.length,
    allocatable,
    online,
    offline,
    ceiling,
    headroom: sub(scale(allocatable, ceiling), online),
    shielded,
  };
}

export interface SafeVerdict {
  readonly safe: boolean;
  readonly reason: 'OthersCanAbsorb' | 'OthersCannotAbsorb' | 'NoOtherCampus';
  readonly message: string;
}

/**
 * CampusSafe: if this campus were lost, could the others absorb its online
 * load? Offline work does not count against them (it is preempted), and a
 * shielded campus cannot take anything. Both CPU and memory must fit.
 */
export function campusSafe(self: CampusLoad, all: readonly CampusLoad[]): SafeVerdict {
  const others = all.filter((c) => c.name !== self.name && !c.shielded);
  if (others.length === 0) {
    return {
      safe: false,
      reason: 'NoOtherCampus',
      message: `no other unshielded campus can take ${self.name}'s online load (${fmt(self.online)})`,
    };
  }
  const spare = others.reduce((s, c) => add(s, sub(c.allocatable, c.online)), zero);
  const fits =
    spare.cpuMilli >= self.online.cpuMilli && spare.memoryBytes >= self.online.memoryBytes;
  const names = others.map((c) => c.name).join(', ');
  return {
    safe: fits,
    reason: fits ? 'OthersCanAbsorb' : 'OthersCannotAbsorb',
    message: fits
      ? `if ${self.name} is lost, its online load (${fmt(self.online)}) fits in ${names} (spare ${fmt(spare)})`
      : `if ${self.name} is lost, its online load (${fmt(self.online)}) does not fit in ${names} (spare ${fmt(spare)})`,
  };
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
