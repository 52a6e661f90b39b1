// The RBAC a process needs, declared in code beside what uses it: each
// controller names the API calls it makes (ControllerSpec.rbac), the runtime
// adds what it does itself (list and watch of every informer, leases for
// leader election, events), and `Manager.rbacRules()` gives the union, from
// which the Helm chart's ClusterRole is generated. A test runs a controller
// as a ServiceAccount bound to nothing but these rules.
import type { ResourceType } from './resource.ts';

/** The API verbs a rule may grant; never `*`. */
export const rbacVerbs = [
  'get',
  'list',
  'watch',
  'create',
  'update',
  'patch',
  'delete',
  'deletecollection',
] as const;
export type RbacVerb = (typeof rbacVerbs)[number];

/** rbac.authorization.k8s.io/v1 PolicyRule, without wildcards or resourceNames. */
export interface PolicyRule {
  /** '' for the core group. */
  readonly apiGroups: readonly string[];
  /** Plural resource names; a subresource as `pods/status`, `pods/binding`, `pods/eviction`. */
  readonly resources: readonly string[];
  readonly verbs: readonly RbacVerb[];
}

/** A rule for `verbs` on resources of `type` (a subresource: `rule(kinds.Pod, ['create'], 'binding')`). */
export function rule(
  type: ResourceType,
  verbs: readonly RbacVerb[],
  subresource?: string,
): PolicyRule {
  return {
    apiGroups: [type.group],
    resources: [subresource ? `${type.resource}/${subresource}` : type.resource],
    verbs,
  };
}

/** Throws, naming the rule, on a wildcard, an empty list or an unknown verb. */
export function validateRules(owner: string, rules: readonly PolicyRule[]): void {
  rules.forEach((r, i) => {
    const where = `${owner}: rbac rule ${i} (${JSON.stringify(r)})`;
    if (r.apiGroups.length === 0 || r.resources.length === 0 || r.verbs.length === 0) {
      throw new Error(`${where} needs at least one apiGroup, resource and verb`);
    }
    for (const x of [...r.apiGroups, ...r.resources, ...r.verbs]) {
      if (x.includes('*')) throw new Error(`${where}: no wildcards; name each ${x} instead`);
    }
    for (const v of r.verbs) {
      if (!(rbacVerbs as readonly string[]).includes(v)) {
        throw new Error(`${where}: unknown verb ${v}; one of ${rbacVerbs.join(', ')}`);
      }
    }
  });
}

/**
 * The union of `rules`, one rule per (group, resource), verbs sorted, rules
 * ordered by group and resource: a stable text for a generated chart.
 */
export function mergeRules(...rules: readonly (readonly PolicyRule[])[]): PolicyRule[] {
  const verbs = new Map<string, Set<RbacVerb>>();
  for (const r of rules.flat()) {
    for (const g of r.apiGroups) {
      for (const res of r.resources) {
        const k = `${g}\u0000${res}`;
        const set = verbs.get(k) ?? new Set<RbacVerb>();
        for (const v of r.verbs) set.add(v);
        verbs.set(k, set);
      }
    }
  }
  return [...verbs.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, set]) => {
      const [group = '', resource = ''] = k.split('\u0000');
      return {
        apiGroups: [group],
        resources: [resource],
        verbs: rbacVerbs.filter((v) => set.has(v)),
      };
    });
}

/** What an informer of `type` needs: a list, then a watch. */
export const informerRules = (types: readonly ResourceType[]): PolicyRule[] =>
  mergeRules(types.map((t) => rule(t, ['list', 'watch'])));

/**
 * The runtime's own API calls: the EventRecorder writes events.k8s.io/v1
 * Events (create, and patch for a series), the LeaderElector reads and
 * writes its Lease.
 */
export function runtimeRules(opts: { readonly leaderElection: boolean }): PolicyRule[] {
  return mergeRules(
    [{ apiGroups: ['events.k8s.io'], resources: ['events'], verbs: ['create', 'patch'] }],
    opts.leaderElection
      ? [
          {
            apiGroups: ['coordination.k8s.io'],
            resources: ['leases'],
            verbs: ['get', 'create', 'update'],
          },
        ]
      : [],
  );
}

/** Whether `rules` grant `verb` on `resource` (with its subresource, if any) of `group`. */
export function allows(
  rules: readonly PolicyRule[],
  group: string,
  resource: string,
  verb: RbacVerb,
): boolean {
  return rules.some(
    (r) => r.apiGroups.includes(group) && r.resources.includes(resource) && r.verbs.includes(verb),
  );
}
