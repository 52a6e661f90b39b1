// Kubernetes objects → the campus controller's views. Pure.
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import type { Campus, ResourceAmounts } from '../../crds/index.ts';
import { campusMembership, campusOfNode, shieldState } from '../../crds/index.ts';
import { taint, podCondition } from '../../crds/names.ts';
import { requestsOf } from '../../runtime/quantity.ts';
import type { CampusFacts, NodeView, PodView, Published, Resources } from './desired.ts';

export function nodeView(node: V1Node, campuses: readonly Campus[]): NodeView {
  const ready =
    !node.spec?.unschedulable &&
    (node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false);
  return {
    name: node.metadata?.name ?? '',
    campus: campusOfNode(node, campuses),
    ready,
    shieldTainted: node.spec?.taints?.some((t) => t.key === taint.shielded) ?? false,
  };
}

/** The pod's yard.dev/serving condition, or undefined when it has no such readiness gate. */
export function servingOf(pod: V1Pod): PodView['serving'] {
  const gated =
    pod.spec?.readinessGates?.some((g) => g.conditionType === podCondition.serving) ?? false;
  if (!gated) return undefined;
  const cond = pod.status?.conditions?.find((c) => c.type === podCondition.serving)?.status;
  return cond === 'True' || cond === 'False' ? cond : 'absent';
}

/** A pod bound to a node and not finished, or undefined. */
export function podView(pod: V1Pod): PodView | undefined {
  const node = pod.spec?.nodeName;
  const phase = pod.status?.phase;
  if (!node || phase === 'Succeeded' || phase === 'Failed') return undefined;
  const meta = pod.metadata ?? {};
  return {
    namespace: meta.namespace ?? '',
    name: meta.name ?? '',
    node,
    serving: servingOf(pod),
  };
}

const amounts = (r: ResourceAmounts | undefined): Resources | undefined => {
  if (r?.cpu === undefined && r?.memory === undefined) return undefined;
  const q = requestsOf(r as Record<string, string | number>);
  return { cpuMilli: q.cpu, memoryBytes: q.memory };
};

/** What the scheduler published to the campus's status, or undefined when it has not (all of it). */
export function publishedOf(c: Campus): Published | undefined {
  const s = c.status;
  const at = s?.publishedAt === undefined ? NaN : Date.parse(s.publishedAt);
  const onlineRequests = amounts(s?.onlineRequests);
  const onlineCeiling = amounts(s?.onlineCeiling);
  const failoverCeiling = amounts(s?.failoverCeiling);
  if (Number.isNaN(at) || !onlineRequests || !onlineCeiling || !failoverCeiling) return undefined;
  return { at, onlineRequests, onlineCeiling, failoverCeiling };
}

/** Every campus as CampusSafe weighs it: its nodes (campusMembership), shield and published numbers. */
export function campusFacts(
  campuses: readonly Campus[],
  nodes: readonly V1Node[],
  now: Date,
): CampusFacts[] {
  const m = campusMembership(campuses, nodes);
  return campuses.map((c) => {
    const name = c.metadata.name ?? '';
    const selected = m.selected.get(name) ?? [];
    const ownedElsewhere = new Map<string, string>();
    const sharedWith = new Map<string, readonly string[]>();
    for (const n of selected) {
      const owner = m.campusOf.get(n);
      if (owner !== undefined && owner !== name) ownedElsewhere.set(n, owner);
      else if (m.overlaps.has(n))
        sharedWith.set(
          n,
          (m.overlaps.get(n) ?? []).filter((x) => x !== name),
        );
    }
    return {
      name,
      shielded: shieldState(c.spec?.shield, now).kind === 'active',
      selected,
      ownedElsewhere,
      sharedWith,
      published: publishedOf(c),
    };
  });
}
