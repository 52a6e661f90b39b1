// The OfflineJob controller's decisions, pure: what each of a job's pods came
// to (running, succeeded, failed, or preempted), what is still to be counted,
// which pods to create or remove, and what a new pod looks like. No client,
// no clock, so every rule is a table test (desired.test.ts).
//
// Counting, as batch/v1 Job does it: every pod carries a finalizer until its
// end has been counted into the job's status, so an evicted pod — which kwok,
// like a kubelet, removes at once — cannot vanish uncounted. The status write
// comes first; only then does the finalizer come off.
import type { V1Pod, V1PodTemplateSpec } from '@kubernetes/client-node';
import {
  label,
  annotation,
  finalizer,
  yardSchedulerName,
  priorityClassName,
} from '../../crds/names.ts';

export const offlinePriorityClass = priorityClassName('offline');

/** What the controller needs of one of a job's pods. */
export interface JobPodView {
  readonly name: string;
  readonly uid: string;
  readonly phase: string;
  /** It has a deletionTimestamp. */
  readonly deleting: boolean;
  /** It carries the tracking finalizer: its outcome is not counted yet. */
  readonly tracked: boolean;
  /** The API marked it DisruptionTarget (evicted or preempted), or the kubelet evicted it. */
  readonly disrupted: boolean;
  readonly bound: boolean;
  /** The scheduler's PodScheduled=False message, while it waits. */
  readonly unschedulable: string | undefined;
  /** Creation time, ms. */
  readonly created: number;
}

export const podOutcomes = ['active', 'succeeded', 'failed', 'preempted'] as const;
export type PodOutcome = (typeof podOutcomes)[number];

/**
 * What a pod came to. Removed before it finished (evicted, or deleted by
 * anyone) is a preemption, as is a failure the API or kubelet marks as a
 * disruption: the work was taken away, the pod did not fail. A pod that
 * finished counts as what it finished as, even if it is then deleted.
 */
export function outcomeOf(p: JobPodView): PodOutcome {
  if (p.phase === 'Succeeded') return 'succeeded';
  if (p.phase === 'Failed') return p.disrupted ? 'preempted' : 'failed';
  if (p.deleting) return 'preempted';
  return 'active';
}

export interface Counts {
  readonly succeeded: number;
  readonly failed: number;
  readonly preemptions: number;
}

export const noCounts: Counts = { succeeded: 0, failed: 0, preemptions: 0 };

export interface Tally {
  /** What the uncounted pods add to the status counts. */
  readonly add: Counts;
  /** Them, by name and uid: their finalizers come off once the status holds the counts. */
  readonly pods: readonly {
    readonly name: string;
    readonly uid: string;
    readonly outcome: PodOutcome;
  }[];
}

/**
 * The pods whose end is not yet in the status: tracked, ended, and not
 * counted already by an earlier status write whose finalizer removal the
 * cache does not show yet (`counted`, by uid).
 */
export function tally(pods: readonly JobPodView[], counted: ReadonlySet<string>): Tally {
  let succeeded = 0;
  let failed = 0;
  let preemptions = 0;
  const out: Tally['pods'][number][] = [];
  for (const p of pods) {
    const outcome = outcomeOf(p);
    if (!p.tracked || outcome === 'active' || counted.has(p.uid)) continue;
    if (outcome === 'succeeded') succeeded++;
    else if (outcome === 'failed') failed++;
    else preemptions++;
    out.push({ name: p.name, uid: p.uid, outcome });
  }
  return { add: { succeeded, failed, preemptions }, pods: out };
}

export const addCounts = (a: Counts, b: Counts): Counts => ({
  succeeded: a.succeeded + b.succeeded,
  failed: a.failed + b.failed,
  preemptions: a.preemptions + b.preemptions,
});

/** What the controller needs of an OfflineJob's spec, defaults applied. */
export interface JobSpecView {
  readonly name: string;
  readonly namespace: string;
  readonly uid: string;
  readonly queue: string;
  readonly parallelism: number;
  readonly completions: number;
  readonly minAvailable: number | undefined;
  readonly backoffLimit: number;
  readonly priority: number;
  readonly runDuration: string | undefined;
  readonly template: V1PodTemplateSpec;
}

export type JobEnd = 'Succeeded' | 'Failed';

/** Whether the job is over: enough successes, or more failures than it tolerates. */
export function jobEnd(spec: JobSpecView, counts: Counts): JobEnd | undefined {
  if (counts.succeeded >= spec.completions) return 'Succeeded';
  if (counts.failed > spec.backoffLimit) return 'Failed';
  return undefined;
}

export interface PodChanges {
  /** New pods to create. */
  readonly create: number;
  /** Active pods to remove (the job ended, or more run than it wants). */
  readonly remove: readonly string[];
}

/**
 * Keep `min(parallelism, completions − succeeded)` pods active — so a
 * preempted pod is replaced at once — none once the job has ended. Excess
 * pods go unbound first, newest first, so running work is kept.
 */
export function podChanges(
  spec: JobSpecView,
  counts: Counts,
  pods: readonly JobPodView[],
): PodChanges {
  const active = pods.filter((p) => outcomeOf(p) === 'active');
  const want = jobEnd(spec, counts)
    ? 0
    : Math.max(0, Math.min(spec.parallelism, spec.completions - counts.succeeded));
  if (active.length <= want) return { create: want - active.length, remove: [] };
  const order = [...active].sort(
    (a, b) =>
      Number(a.bound) - Number(b.bound) || b.created - a.created || (a.name < b.name ? -1 : 1),
  );
  return { create: 0, remove: order.slice(0, active.length - want).map((p) => p.name) };
}

/**
 * A new pod of the job: its template, placed by Yard (scheduler, offline
 * priority class), labelled with its framework, queue and job, owned by the
 * job, tracked by the finalizer, and — on simulated nodes — declaring its run
 * time so that kwok completes it. Job-like: it never restarts in place.
 */
export function desiredPod(spec: JobSpecView): V1Pod {
  const t = spec.template;
  const podSpec = t.spec ?? { containers: [] };
  const restart = podSpec.restartPolicy === 'OnFailure' ? 'OnFailure' : 'Never';
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: `${spec.name.slice(0, 57)}-`,
      namespace: spec.namespace,
      labels: {
        ...t.metadata?.labels,
        [label.framework]: 'offline',
        [label.queue]: spec.queue,
        [label.offlineJob]: spec.name,
      },
      annotations: {
        ...t.metadata?.annotations,
        ...(spec.runDuration ? { [annotation.runDuration]: spec.runDuration } : {}),
      },
      ownerReferences: [
        {
          apiVersion: 'yard.dev/v1alpha1',
          kind: 'OfflineJob',
          name: spec.name,
          uid: spec.uid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
      finalizers: [finalizer.offlineJobTracking],
    },
    spec: {
      ...podSpec,
      schedulerName: yardSchedulerName,
      priorityClassName: offlinePriorityClass,
      restartPolicy: restart,
    },
  };
}
