// The campus blackhole as the node agent reads it from the API: which
// campuses' Campus.spec.blackhole holds at a moment (the shield's rule: an
// `until` that has passed, or cannot be parsed, holds nothing, so a block can
// never outlive its expiry), which of the agent's nodes that puts out of
// reach, when the next one lifts, and the `yard.dev/reachable` condition a
// pod should show for it. Pure: the adapter (network.ts) feeds it the
// informers' contents and its clock.
import type { Campus } from '../../crds/generated/types.ts';
import { campusOfNode, shieldState } from '../../crds/campus-facts.ts';
import { podCondition } from '../../crds/names.ts';
import type { NodeObject, PodCondition } from './types.ts';

/** A blackhole in force on a campus. */
export interface CampusBlock {
  readonly campus: string;
  readonly reason: string;
  readonly by: string;
  readonly until: Date;
}

/** The blackhole in force on each campus at `now` (campuses without one are absent). */
export function activeBlackholes(
  campuses: readonly Campus[],
  now: Date,
): ReadonlyMap<string, CampusBlock> {
  const out = new Map<string, CampusBlock>();
  for (const c of campuses) {
    const name = c.metadata.name ?? '';
    const s = shieldState(c.spec?.blackhole, now);
    if (s.kind === 'active')
      out.set(name, { campus: name, reason: s.reason, by: s.by, until: s.until });
  }
  return out;
}

/**
 * The nodes out of reach at `now`, with the block that holds each: a node
 * counts in the campus campusOfNode gives it (the first by name that selects
 * it), the same one the operator and the scheduler count it in.
 */
export function blackholedNodes(
  nodes: readonly NodeObject[],
  campuses: readonly Campus[],
  now: Date,
): ReadonlyMap<string, CampusBlock> {
  const active = activeBlackholes(campuses, now);
  const out = new Map<string, CampusBlock>();
  if (active.size === 0) return out;
  for (const n of nodes) {
    const name = n.metadata?.name;
    if (!name) continue;
    const campus = campusOfNode({ metadata: { labels: { ...n.metadata?.labels } } }, campuses);
    const block = campus === undefined ? undefined : active.get(campus);
    if (block) out.set(name, block);
  }
  return out;
}

/** Milliseconds from `now` until the next blackhole in force lifts by itself; undefined if none holds. */
export function nextLiftIn(campuses: readonly Campus[], now: Date): number | undefined {
  let next: number | undefined;
  for (const b of activeBlackholes(campuses, now).values()) {
    const ms = b.until.getTime() - now.getTime();
    if (next === undefined || ms < next) next = ms;
  }
  return next;
}

/** The pods (by key) bound to a blackholed node, with the block that holds each. */
export function blackholedPods(
  pods: readonly { readonly key: string; readonly node: string }[],
  nodes: ReadonlyMap<string, CampusBlock>,
): ReadonlyMap<string, CampusBlock> {
  const out = new Map<string, CampusBlock>();
  for (const p of pods) {
    const block = nodes.get(p.node);
    if (block) out.set(p.key, block);
  }
  return out;
}

/**
 * The pod condition that tells people a pod is blackholed. Informational
 * only: it is not a readiness gate and Ready does not read it, since a
 * blackhole routes nothing away — callers must notice on their own.
 */
export const reachableCondition = podCondition.reachable;

const rfc3339 = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Same block, same words: a changed `until`, reason or author is news, nothing else is. */
export function blockMessage(b: CampusBlock): string {
  return `campus ${b.campus} is blackholed until ${rfc3339(b.until)} by ${b.by}: ${b.reason}`;
}

/**
 * The `yard.dev/reachable` condition to write for a pod under `block` (or
 * none), given what the API shows; undefined when there is nothing to write:
 * the API already says so, or the pod was never blackholed (no condition is
 * added to pods that never had one).
 */
export function reachabilityPatch(
  block: CampusBlock | undefined,
  observed: readonly PodCondition[] | undefined,
  now: Date,
): PodCondition | undefined {
  const old = observed?.find((c) => c.type === reachableCondition);
  if (block) {
    const message = blockMessage(block);
    if (old?.status === 'False' && old.message === message) return undefined;
    return {
      type: reachableCondition,
      status: 'False',
      reason: 'Blackholed',
      message,
      lastTransitionTime:
        old?.status === 'False' && old.lastTransitionTime ? old.lastTransitionTime : rfc3339(now),
    };
  }
  if (!old || old.status === 'True') return undefined;
  return {
    type: reachableCondition,
    status: 'True',
    reason: 'BlackholeLifted',
    message: 'no blackhole holds on the campus of this pod',
    lastTransitionTime: rfc3339(now),
  };
}
