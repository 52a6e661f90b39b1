// Which pods the agent runs: bound to a node kwok simulates, opted in with
// the label yard.dev/runtime=process, not being deleted, not finished. kwok's
// pod stages skip pods with that label (kwok-stages.yaml), so exactly one of
// the two owns each pod's status. Pure.
import { kwokAnnotation } from '../control-plane/topology.ts';
import type { NodeObject, PodObject } from './types.ts';
import { label, labelValue } from '../../crds/names.ts';

export type Selection = { readonly run: true } | { readonly run: false; readonly reason: string };

export const isSimulatedNode = (n: NodeObject): boolean =>
  n.metadata?.annotations?.[kwokAnnotation] === 'fake';

export function selection(pod: PodObject, node: NodeObject | undefined): Selection {
  const skip = (reason: string): Selection => ({ run: false, reason });
  if (pod.metadata?.labels?.[label.runtime] !== labelValue.process) {
    return skip(`not labelled ${label.runtime}=${labelValue.process}`);
  }
  if (pod.metadata.deletionTimestamp) return skip('being deleted');
  const nodeName = pod.spec?.nodeName;
  if (!nodeName) return skip('not bound to a node yet');
  if (!node) return skip(`node ${nodeName} is not one this agent serves`);
  if (!isSimulatedNode(node)) return skip(`node ${nodeName} is not simulated by kwok`);
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') return skip(`finished (${phase})`);
  return { run: true };
}

/** The node's pod range: podCIDRs[0], else podCIDR. */
export function podCidrOf(n: NodeObject): string | undefined {
  return n.spec?.podCIDRs?.[0] ?? n.spec?.podCIDR;
}

/** The node's InternalIP (kwok gives simulated nodes 127.0.0.1). */
export function hostIpOf(n: NodeObject): string {
  return n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address ?? '127.0.0.1';
}
