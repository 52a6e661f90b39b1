// Kubernetes objects → the campus controller's views. Pure.
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import type { Campus } from '../../crds/index.ts';
import { milliCpu, parseQuantity } from '../../runtime/index.ts';
import { zero, add } from './desired.ts';
import type { NodeView, PodView, Resources } from './desired.ts';
import { taint, podCondition } from '../../crds/names.ts';
import { campusOfNode } from '../../crds/index.ts';

const resources = (r: Record<string, string> | undefined): Resources => ({
  cpuMilli: r?.['cpu'] !== undefined ? milliCpu(r['cpu']) : 0,
  memoryBytes: r?.['memory'] !== undefined ? parseQuantity(r['memory']) : 0,
});

export function nodeView(node: V1Node, campuses: readonly Campus[]): NodeView {
  const ready =
    !node.spec?.unschedulable &&
    (node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false);
  return {
    name: node.metadata?.name ?? '',
    campus: campusOfNode(node, campuses),
    ready,
    allocatable: resources(node.status?.allocatable),
    shieldTainted: node.spec?.taints?.some((t) => t.key === taint.shielded) ?? false,
  };
}

/** The effective requests of a pod, as the scheduler counts them: max(sum of containers, any init container). */
export function podRequests(pod: V1Pod): Resources {
  const sum = (pod.spec?.containers ?? []).reduce(
    (s, c) => add(s, resources(c.resources?.requests)),
    zero,
  );
  return (pod.spec?.initContainers ?? []).reduce((m, c) => {
    const r = resources(c.resources?.requests);
    return {
      cpuMilli: Math.max(m.cpuMilli, r.cpuMilli),
      memoryBytes: Math.max(m.memoryBytes, r.memoryBytes),
    };
  }, sum);
}

/** The pod's yard.dev/serving condition, or undefined when it has no such readiness gate. */
export function servingOf(pod: V1Pod): PodView['serving'] {
  const gated =
    pod.spec?.readinessGates?.some((g) => g.conditionType === podCondition.serving) ?? false;
  if (!gated) return undefined;
  const cond = pod.status?.conditions?.find((c) => c.type === podCondition.serving)?.status;
  return cond === 'True' || cond === 'False' ? cond : 'absent';
}

/** A pod that holds resources on a node (bound, not finished), or undefined. */
export function podView(pod: V1Pod): PodView | undefined {
  const node = pod.spec?.nodeName;
  const phase = pod.status?.phase;
  if (!node || phase === 'Succeeded' || phase === 'Failed') return undefined;
  const meta = pod.metadata ?? {};
  return {
    namespace: meta.namespace ?? '',
    name: meta.name ?? '',
    node,
    framework: meta.labels?.['yard.dev/framework'] === 'offline' ? 'offline' : 'online',
    requests: podRequests(pod),
    serving: servingOf(pod),
  };
}
