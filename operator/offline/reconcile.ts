// The OfflineJob and OfflineQueue controllers.
//
// OfflineJob: keeps `parallelism` pods of the job in existence (Yard's
// scheduler places them, all-or-nothing for a gang), replaces every pod that
// is preempted, counts each pod's end exactly once through a tracking
// finalizer (desired.ts says how), and reports phase, counts, preemptions
// and conditions (its admitted share is the scheduler's to publish). Level-based; two in-memory notes
// only bridge the informer's lag behind our own writes, as the Job controller
// does: pods created and not yet seen ("expectations"), and pods counted
// whose finalizer removal is not yet seen.
//
// OfflineQueue: reports its jobs, and Ready — whether it is in the queue
// tree — with its guaranteed and maximum amounts. What it uses, its fair
// share and its pending demand are the scheduler's: it publishes them to the
// same status (scheduler/adapter/publish.ts), and nothing here recomputes them.
import { PatchStrategy } from '@kubernetes/client-node';
import type { V1Pod } from '@kubernetes/client-node';
import type { OfflineJob, OfflineJobStatus, OfflineQueue } from '../../crds/index.ts';
import { priorityClasses } from '../imservice/desired.ts';
import { yardKinds } from '../../crds/index.ts';
import {
  anyOf,
  apply,
  applyStatus,
  deletionTimestampChanged,
  generationChanged,
  isNotFound,
  jsonEqual,
  keyOf,
  kinds,
  rule,
  watch,
} from '../../runtime/index.ts';
import type {
  Controller,
  Manager,
  ReconcileRequest,
  ReconcileResult,
} from '../../runtime/index.ts';
import {
  addCounts,
  desiredPod,
  jobEnd,
  noCounts,
  offlinePriorityClass,
  podChanges,
  tally,
} from './desired.ts';
import type { Counts, JobPodView, JobSpecView, PodChanges, Tally } from './desired.ts';
import { jobStatus, queueCheck, queueProblem, queueStatus } from './status.ts';
import type { QueueControllerStatus } from './status.ts';
import { jobPodView, jobSpecView } from './views.ts';
import { label, finalizer } from '../../crds/names.ts';

export const jobFieldManager = 'yard-offline-job-controller';
export const queueFieldManager = 'yard-offline-queue-controller';

const byJob = 'offlineJob';
/** How long pods created are waited for before the cache is trusted without them. */
const expectationTtlMs = 30_000;

export interface OfflineControllerOptions {
  readonly now?: () => Date;
  readonly concurrency?: number;
}

/** The pods of OfflineJobs, indexed by job. */
function offlinePods(mgr: Manager) {
  return mgr.informers.informerFor<V1Pod>(kinds.Pod, {
    labelSelector: label.offlineJob,
    indexers: {
      [byJob]: (p) => [
        `${p.metadata?.namespace ?? ''}/${p.metadata?.labels?.[label.offlineJob] ?? ''}`,
      ],
    },
  });
}

const countsOf = (s: OfflineJobStatus | undefined): Counts => ({
  succeeded: s?.succeeded ?? noCounts.succeeded,
  failed: s?.failed ?? noCounts.failed,
  preemptions: s?.preemptions ?? noCounts.preemptions,
});

export function addOfflineJobController(
  mgr: Manager,
  opts: OfflineControllerOptions = {},
): Controller {
  const now = opts.now ?? (() => new Date());
  const jobs = mgr.informers.informerFor<OfflineJob>(yardKinds.OfflineJob);
  const pods = offlinePods(mgr);
  const queues = mgr.informers.informerFor<OfflineQueue>(yardKinds.OfflineQueue);
  const events = mgr.eventRecorder('yard.dev/offline-job-controller');
  /** Per job: uids whose end the status holds while their finalizer removal is not yet cached. */
  const counted = new Map<string, Set<string>>();
  /** Per job: pods created and not yet seen in the cache. */
  const expected = new Map<string, { names: readonly string[]; at: number }>();
  let priorityClassApplied = false;

  async function ensurePriorityClass(signal: AbortSignal): Promise<void> {
    if (priorityClassApplied) return;
    for (const pc of priorityClasses().filter((p) => p.metadata?.name === offlinePriorityClass))
      await apply(mgr.rest, kinds.PriorityClass, pc, { fieldManager: jobFieldManager, signal });
    priorityClassApplied = true;
  }

  /** Takes the tracking finalizer off (a JSON patch that tests it is still there). */
  async function untrack(namespace: string, name: string, signal: AbortSignal): Promise<void> {
    const pod = pods.store.get(`${namespace}/${name}`);
    const i = pod?.metadata?.finalizers?.indexOf(finalizer.offlineJobTracking) ?? -1;
    if (i < 0) return;
    const path = `/metadata/finalizers/${i}`;
    try {
      await mgr.rest.patch(
        kinds.Pod,
        { namespace, name },
        [
          { op: 'test', path, value: finalizer.offlineJobTracking },
          { op: 'remove', path },
        ],
        PatchStrategy.JsonPatch,
        { signal },
      );
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  async function remove(namespace: string, name: string, signal: AbortSignal): Promise<void> {
    await untrack(namespace, name, signal); // removed by us: not a preemption to count
    try {
      await mgr.rest.delete(kinds.Pod, namespace, name, { signal });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  /** Pods created earlier and not yet in the cache, unless they have been awaited too long. */
  function awaiting(key: string, namespace: string): boolean {
    const e = expected.get(key);
    if (!e) return false;
    const missing = e.names.some((n) => !pods.store.get(`${namespace}/${n}`));
    if (missing && now().getTime() - e.at < expectationTtlMs) return true;
    expected.delete(key);
    return false;
  }

  /** Uids counted earlier whose finalizer removal the cache does not show yet. */
  function stillCounted(key: string, views: readonly JobPodView[]): Set<string> {
    const tracked = new Set(views.filter((v) => v.tracked).map((v) => v.uid));
    return new Set([...(counted.get(key) ?? [])].filter((uid) => tracked.has(uid)));
  }

  function statusFor(
    job: OfflineJob,
    spec: JobSpecView,
    counts: Counts,
    views: readonly JobPodView[],
    changes: PodChanges,
    t: Date,
  ): OfflineJobStatus {
    const removing = new Set(changes.remove);
    return jobStatus({
      spec,
      counts,
      pods: views.filter((v) => !removing.has(v.name)),
      created: changes.create,
      queue: queueCheck(spec.queue, queues.store.list()),
      previous: job.status,
      generation: job.metadata.generation ?? 0,
      now: t,
    });
  }

  /** Counted pods: noted, announced, and their finalizers taken off — after the status holds them. */
  async function settle(
    job: OfflineJob,
    key: string,
    t: Tally,
    seen: Set<string>,
    signal: AbortSignal,
  ): Promise<void> {
    for (const p of t.pods) seen.add(p.uid);
    counted.set(key, seen);
    for (const p of t.pods) {
      if (p.outcome === 'preempted')
        events.event(job, {
          type: 'Normal',
          reason: 'PodPreempted',
          action: 'Recreate',
          note: `pod ${p.name} was preempted before it finished; a new pod takes its place`,
        });
      await untrack(job.metadata.namespace ?? '', p.name, signal);
    }
  }

  function announceEnd(job: OfflineJob, spec: JobSpecView, counts: Counts): void {
    const end = jobEnd(spec, counts);
    if (!end || jobEnd(spec, countsOf(job.status))) return;
    events.event(job, {
      type: end === 'Succeeded' ? 'Normal' : 'Warning',
      reason: end === 'Succeeded' ? 'Completed' : 'BackoffLimitExceeded',
      action: 'Finish',
      note: `${counts.succeeded}/${spec.completions} succeeded, ${counts.failed} failed, ${counts.preemptions} preempted`,
    });
  }

  async function carryOut(
    key: string,
    spec: JobSpecView,
    changes: PodChanges,
    t: Date,
    signal: AbortSignal,
  ): Promise<void> {
    for (const name of changes.remove) await remove(spec.namespace, name, signal);
    const names: string[] = [];
    for (let i = 0; i < changes.create; i++) {
      const created = await mgr.rest.create<V1Pod>(kinds.Pod, desiredPod(spec), { signal });
      names.push(created.metadata?.name ?? '');
      expected.set(key, { names, at: t.getTime() });
    }
  }

  async function reconcile(req: ReconcileRequest): Promise<ReconcileResult | void> {
    const { key, signal } = req;
    const namespace = req.namespace ?? '';
    const job = jobs.store.get(key);
    const mine = pods.store.byIndex(byJob, key);
    if (!job || job.metadata.deletionTimestamp) {
      // the pods go with the job (garbage collection): nothing may hold them back
      for (const p of mine) await untrack(namespace, p.metadata?.name ?? '', signal);
      counted.delete(key);
      expected.delete(key);
      return;
    }
    await ensurePriorityClass(signal);
    const spec = jobSpecView(job);
    const views = mine.map(jobPodView);
    const seen = stillCounted(key, views);
    const t = tally(views, seen);
    const counts = addCounts(countsOf(job.status), t.add);
    const wait = awaiting(key, namespace);
    const changes = wait ? { create: 0, remove: [] } : podChanges(spec, counts, views);
    const t0 = now();
    const status = statusFor(job, spec, counts, views, changes, t0);
    if (!jsonEqual(status, job.status)) {
      // conditional on the version read: counts never move backwards from a stale cache
      await mgr.rest.replace(
        yardKinds.OfflineJob,
        { ...job, status },
        { subresource: 'status', signal },
      );
    }
    await settle(job, key, t, seen, signal);
    announceEnd(job, spec, counts);
    await carryOut(key, spec, changes, t0, signal);
    if (wait) return { requeueAfter: 1_000 };
  }

  return mgr.add<OfflineJob>({
    name: 'offlinejob',
    reconcile,
    maxConcurrentReconciles: opts.concurrency ?? 4,
    for: { type: yardKinds.OfflineJob },
    owns: [{ type: kinds.Pod, scope: { labelSelector: label.offlineJob } }],
    watches: [
      watch<OfflineQueue>({
        // a queue created or removed changes its jobs' Admitted condition
        type: yardKinds.OfflineQueue,
        map: (q) =>
          jobs.store
            .list()
            .filter((j) => j.spec.queue === q.metadata.name)
            .map((j) => keyOf(j)),
        predicates: [anyOf(generationChanged, deletionTimestampChanged)],
      }),
    ],
    rbac: [
      rule(kinds.PriorityClass, ['patch']), // server-side apply
      // its pods: made, their tracking finalizer taken off, removed
      rule(kinds.Pod, ['create', 'patch', 'delete']),
      rule(yardKinds.OfflineJob, ['update'], 'status'),
    ],
  });
}

/** The queue controller's fields, as the object shows them. */
function ownQueueStatus(q: OfflineQueue): Partial<QueueControllerStatus> {
  const s = q.status;
  return {
    ...(s?.observedGeneration === undefined ? {} : { observedGeneration: s.observedGeneration }),
    ...(s?.pendingJobs === undefined ? {} : { pendingJobs: s.pendingJobs }),
    ...(s?.runningJobs === undefined ? {} : { runningJobs: s.runningJobs }),
    ...(s?.conditions === undefined ? {} : { conditions: s.conditions }),
  };
}

export function addOfflineQueueController(
  mgr: Manager,
  opts: OfflineControllerOptions = {},
): Controller {
  const now = opts.now ?? (() => new Date());
  const queues = mgr.informers.informerFor<OfflineQueue>(yardKinds.OfflineQueue);
  const jobs = mgr.informers.informerFor<OfflineJob>(yardKinds.OfflineJob);

  /** The queue and its ancestors: a child's usage is its parents' too. */
  function withAncestors(name: string | undefined): string[] {
    const out: string[] = [];
    for (let n = name; n !== undefined && !out.includes(n);) {
      out.push(n);
      n = queues.store.get(n)?.spec?.parent;
    }
    return out;
  }

  async function reconcile(req: ReconcileRequest): Promise<ReconcileResult | void> {
    const q = queues.store.get(req.key);
    if (!q || q.metadata.deletionTimestamp) return;
    const status = queueStatus({
      queue: q,
      problem: queueProblem(q, queues.store.list()),
      jobPhases: jobs.store
        .list()
        .filter((j) => j.spec.queue === req.name)
        .map((j) => j.status?.phase),
      previous: q.status,
      generation: q.metadata.generation ?? 0,
      now: now(),
    });
    // the scheduler's fields (used, fairShare, …) are not ours to compare or send
    if (!jsonEqual(status, ownQueueStatus(q)))
      await applyStatus(
        mgr.rest,
        yardKinds.OfflineQueue,
        { metadata: { name: req.name }, status },
        { fieldManager: queueFieldManager, signal: req.signal },
      );
  }

  return mgr.add<OfflineQueue>({
    name: 'offlinequeue',
    reconcile,
    maxConcurrentReconciles: opts.concurrency ?? 2,
    for: { type: yardKinds.OfflineQueue },
    watches: [
      watch<OfflineJob>({
        type: yardKinds.OfflineJob,
        map: (j) => withAncestors(j.spec.queue),
      }),
      watch<OfflineQueue>({
        // a new child, or a parent that moved, changes the tree
        type: yardKinds.OfflineQueue,
        map: () => queues.store.keys(),
        predicates: [anyOf(generationChanged, deletionTimestampChanged)],
      }),
    ],
    rbac: [rule(yardKinds.OfflineQueue, ['patch'], 'status')],
  });
}
