// Small fixture builders: `pod('web').requests({ cpu: '500m' }).campus('campus-b').build()`
// instead of 80-line literals in every test.
import type { V1Deployment, V1Pod, V1PodSpec } from '@kubernetes/client-node';
import { label } from '../../crds/names.ts';

export const testImage = 'registry.local/yard/pause:1';

class PodBuilder {
  private readonly pod: V1Pod & { metadata: NonNullable<V1Pod['metadata']>; spec: V1PodSpec };

  constructor(name: string) {
    this.pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, labels: { app: name } },
      spec: { containers: [{ name: 'main', image: testImage }], terminationGracePeriodSeconds: 0 },
    };
  }

  labels(l: Record<string, string>): this {
    this.pod.metadata.labels = { ...this.pod.metadata.labels, ...l };
    return this;
  }

  requests(r: { cpu?: string; memory?: string }): this {
    const c = this.pod.spec.containers[0];
    if (c) c.resources = { requests: { ...r } };
    return this;
  }

  /** Required node affinity to one campus (zone). */
  campus(name: string): this {
    this.pod.spec.affinity = {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [
            { matchExpressions: [{ key: label.zone, operator: 'In', values: [name] }] },
          ],
        },
      },
    };
    return this;
  }

  scheduler(name: string): this {
    this.pod.spec.schedulerName = name;
    return this;
  }

  readinessGate(conditionType: string): this {
    this.pod.spec.readinessGates = [...(this.pod.spec.readinessGates ?? []), { conditionType }];
    return this;
  }

  build(): V1Pod {
    return structuredClone(this.pod);
  }
}

export const pod = (name: string): PodBuilder => new PodBuilder(name);

export function deployment(
  name: string,
  replicas: number,
  template: V1Pod = pod(name).build(),
): V1Deployment {
  const labels = { app: name };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, labels },
    spec: {
      replicas,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels: { ...template.metadata?.labels, ...labels } },
        spec: template.spec ?? { containers: [] },
      },
    },
  };
}
