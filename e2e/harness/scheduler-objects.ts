// Small builders of the Kubernetes objects the adapter's unit tests feed it:
// `node('a-1').campus('campus-a').cpu('32')`, `campusObject('campus-b').shield(60)`,
// `offlineJob('ns/etl').min(4)`. Pods come from e2e/harness/builders.ts.
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import type { Campus, OfflineJob, OfflineQueue } from '../../crds/index.ts';

export const t0 = Date.UTC(2026, 4, 1, 8, 0, 0);

class NodeBuilder {
  private readonly n: V1Node & { metadata: { labels: Record<string, string> } };
  constructor(name: string) {
    this.n = {
      metadata: { name, labels: { 'topology.kubernetes.io/zone': 'campus-a' } },
      spec: {},
      status: {
        allocatable: { cpu: '32', memory: '128Gi', pods: '110' },
        conditions: [{ type: 'Ready', status: 'True' }],
      },
    };
  }
  campus(zone: string): this {
    this.n.metadata.labels['topology.kubernetes.io/zone'] = zone;
    return this;
  }
  labels(l: Record<string, string>): this {
    Object.assign(this.n.metadata.labels, l);
    return this;
  }
  cpu(q: string): this {
    this.n.status = { ...this.n.status, allocatable: { ...this.n.status?.allocatable, cpu: q } };
    return this;
  }
  cordoned(): this {
    this.n.spec = { ...this.n.spec, unschedulable: true };
    return this;
  }
  notReady(): this {
    this.n.status = { ...this.n.status, conditions: [{ type: 'Ready', status: 'False' }] };
    return this;
  }
  taint(key: string, effect: 'NoSchedule' | 'NoExecute' | 'PreferNoSchedule'): this {
    this.n.spec = { ...this.n.spec, taints: [...(this.n.spec?.taints ?? []), { key, effect }] };
    return this;
  }
  build(): V1Node {
    return structuredClone(this.n);
  }
}

export const node = (name: string): NodeBuilder => new NodeBuilder(name);

class CampusBuilder {
  private readonly c: Campus;
  constructor(name: string) {
    this.c = { apiVersion: 'yard.dev/v1alpha1', kind: 'Campus', metadata: { name }, spec: {} };
  }
  ceiling(percent: number): this {
    this.c.spec = { ...this.c.spec, onlineCeilingPercent: percent };
    return this;
  }
  selector(s: Record<string, string>): this {
    this.c.spec = { ...this.c.spec, nodeSelector: s };
    return this;
  }
  /** Shielded until `seconds` after t0 (negative: a shield that expired). */
  shield(seconds: number): this {
    this.c.spec = {
      ...this.c.spec,
      shield: { reason: 'test', until: new Date(t0 + seconds * 1000).toISOString() },
    };
    return this;
  }
  build(): Campus {
    return structuredClone(this.c);
  }
}

export const campusObject = (name: string): CampusBuilder => new CampusBuilder(name);

export const threeCampuses = (): Campus[] =>
  ['campus-a', 'campus-b', 'campus-c'].map((c) => campusObject(c).build());

class JobBuilder {
  private readonly j: OfflineJob;
  constructor(key: string) {
    const [namespace = '', name = ''] = key.split('/');
    this.j = {
      apiVersion: 'yard.dev/v1alpha1',
      kind: 'OfflineJob',
      metadata: { name, namespace, uid: `uid-${name}`, creationTimestamp: new Date(t0) },
      spec: { queue: 'batch', template: { spec: { containers: [] } } },
    };
  }
  queue(q: string): this {
    this.j.spec.queue = q;
    return this;
  }
  min(n: number): this {
    this.j.spec.minAvailable = n;
    return this;
  }
  priority(p: number): this {
    this.j.spec.priority = p;
    return this;
  }
  build(): OfflineJob {
    return structuredClone(this.j);
  }
}

export const offlineJob = (key: string): JobBuilder => new JobBuilder(key);

export function queueObject(name: string, spec: OfflineQueue['spec'] = {}): OfflineQueue {
  return {
    apiVersion: 'yard.dev/v1alpha1',
    kind: 'OfflineQueue',
    metadata: { name },
    ...(spec ? { spec } : {}),
  };
}

/** A copy of `p` in namespace `ns`, bound to `node` (and optionally with a phase). */
export function placed(p: V1Pod, node: string, phase = 'Running'): V1Pod {
  const out = structuredClone(p);
  out.metadata = {
    ...out.metadata,
    namespace: out.metadata?.namespace ?? 'ns',
    uid: `uid-${out.metadata?.name ?? ''}`,
  };
  out.spec = { ...(out.spec ?? { containers: [] }), nodeName: node };
  out.status = { ...out.status, phase };
  return out;
}

/** A copy of `p` in namespace `ns`, pending (its uid derived from its name). */
export function pending(p: V1Pod, ns = 'ns'): V1Pod {
  const out = structuredClone(p);
  out.metadata = { ...out.metadata, namespace: ns, uid: `uid-${out.metadata?.name ?? ''}` };
  out.status = { phase: 'Pending' };
  return out;
}
