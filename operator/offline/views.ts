// Kubernetes objects → the offline controllers' views. Pure.
import type { V1Pod } from '@kubernetes/client-node';
import type { OfflineJob } from '../../crds/index.ts';
import type { JobPodView, JobSpecView } from './desired.ts';
import { finalizer } from '../../crds/names.ts';

const disruptionReasons = new Set(['Evicted', 'Preempting', 'Shutdown', 'Terminated']);

/** The API marked it a disruption target, or the kubelet ended it for a disruption. */
function disrupted(pod: V1Pod): boolean {
  const marked = (pod.status?.conditions ?? []).some(
    (c) => c.type === 'DisruptionTarget' && c.status === 'True',
  );
  return marked || disruptionReasons.has(pod.status?.reason ?? '');
}

/** The scheduler's reason while the pod waits (PodScheduled=False). */
function unschedulable(pod: V1Pod): string | undefined {
  const c = pod.status?.conditions?.find((x) => x.type === 'PodScheduled');
  return c?.status === 'False' && c.message ? c.message : undefined;
}

export function jobPodView(pod: V1Pod): JobPodView {
  const m = pod.metadata ?? {};
  return {
    name: m.name ?? '',
    uid: m.uid ?? '',
    phase: pod.status?.phase ?? 'Pending',
    deleting: Boolean(m.deletionTimestamp),
    tracked: (m.finalizers ?? []).includes(finalizer.offlineJobTracking),
    disrupted: disrupted(pod),
    bound: Boolean(pod.spec?.nodeName),
    unschedulable: unschedulable(pod),
    created: Date.parse(String(m.creationTimestamp ?? '')) || 0,
  };
}

export function jobSpecView(job: OfflineJob): JobSpecView {
  const s = job.spec;
  return {
    name: job.metadata.name ?? '',
    namespace: job.metadata.namespace ?? '',
    uid: job.metadata.uid ?? '',
    queue: s.queue,
    parallelism: s.parallelism ?? 1,
    completions: s.completions ?? 1,
    minAvailable: s.minAvailable,
    backoffLimit: s.backoffLimit ?? 6,
    priority: s.priority ?? 0,
    runDuration: s.runDuration,
    template: s.template,
  };
}
