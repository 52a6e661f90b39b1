// The RBAC Yard's scheduler needs, declared in code (runtime/rbac.ts) so the
// Helm chart's ClusterRole of the scheduler is generated from it. The
// scheduler is a process of its own, not a Manager: its list here follows
// what scheduler.ts, binder.ts (actions.ts) and publish.ts call.
import { yardKinds } from '../../crds/index.ts';
import { informerRules, kinds, mergeRules, rule, runtimeRules } from '../../runtime/index.ts';
import type { PolicyRule } from '../../runtime/index.ts';

/** What the scheduler reads through its informers. */
export const schedulerInformed = [
  kinds.Pod,
  kinds.Node,
  yardKinds.Campus,
  yardKinds.OfflineQueue,
  yardKinds.OfflineJob,
] as const;

/** Its own writes. */
export const schedulerWrites: readonly PolicyRule[] = [
  rule(kinds.Pod, ['create'], 'binding'), // a bind (actions.ts bindingRequest)
  rule(kinds.Pod, ['create'], 'eviction'), // preemption and revocation, through the Eviction API
  rule(kinds.Pod, ['patch'], 'status'), // PodScheduled=False and nominations
  // what level 1 decided, published in status (publish.ts)
  rule(yardKinds.Campus, ['patch'], 'status'),
  rule(yardKinds.OfflineQueue, ['patch'], 'status'),
  rule(yardKinds.OfflineJob, ['patch'], 'status'),
];

/** Every rule the scheduler process needs (events and, with leader election, its lease too). */
export function schedulerRbacRules(opts: { readonly leaderElection: boolean }): PolicyRule[] {
  return mergeRules(runtimeRules(opts), informerRules([...schedulerInformed]), schedulerWrites);
}
