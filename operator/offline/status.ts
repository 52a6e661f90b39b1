// What an OfflineJob's and an OfflineQueue's status say, pure: phase, counts,
// share and conditions, with the numbers and the scheduler's reasons in the
// messages. No client, no clock (`now` is an argument).
import type {
  OfflineJobPhase,
  OfflineJobStatus,
  OfflineQueue,
  OfflineQueueStatus,
  ResourceAmounts,
} from '../../crds/index.ts';
import type { QueueGrant, Resources } from '../../scheduler/core/index.ts';
import { formatBytes, formatCpu, rfc3339, setCondition } from '../../runtime/index.ts';
import type { Condition } from '../../runtime/index.ts';
import { jobEnd, outcomeOf } from './desired.ts';
import type { Amounts, Counts, JobPodView, JobSpecView } from './desired.ts';

// --- the queue a job names -------------------------------------------------------

export type QueueCheck =
  | { readonly ok: true }
  | {
      readonly ok: false;
      readonly reason: 'QueueNotFound' | 'NotALeafQueue';
      readonly message: string;
    };

/** Whether jobs may run in `name`: it exists and is a leaf (parents only divide their share). */
export function queueCheck(name: string, queues: readonly OfflineQueue[]): QueueCheck {
  if (!queues.some((q) => q.metadata.name === name))
    return { ok: false, reason: 'QueueNotFound', message: `queue ${name} does not exist` };
  const children = queues.filter((q) => q.spec?.parent === name).map((q) => q.metadata.name ?? '');
  if (children.length > 0)
    return {
      ok: false,
      reason: 'NotALeafQueue',
      message: `queue ${name} is a parent queue; jobs must name one of its leaves (${children.sort().join(', ')})`,
    };
  return { ok: true };
}

// --- shares -------------------------------------------------------------------------

const add = (a: Amounts, b: Amounts): Amounts => ({
  cpuMilli: a.cpuMilli + b.cpuMilli,
  memoryBytes: a.memoryBytes + b.memoryBytes,
});
export const sumAmounts = (xs: readonly Amounts[]): Amounts =>
  xs.reduce(add, { cpuMilli: 0, memoryBytes: 0 });

/**
 * The job's share of its queue's dominant resource (the one the queue uses
 * most of, relative to the cluster's capacity), as a decimal string; undefined
 * when the queue runs nothing.
 */
export function queueShare(job: Amounts, queue: Amounts, capacity: Amounts): string | undefined {
  const cpu = capacity.cpuMilli > 0 ? queue.cpuMilli / capacity.cpuMilli : 0;
  const mem = capacity.memoryBytes > 0 ? queue.memoryBytes / capacity.memoryBytes : 0;
  const [j, q] = cpu >= mem ? [job.cpuMilli, queue.cpuMilli] : [job.memoryBytes, queue.memoryBytes];
  if (q <= 0) return undefined;
  return String(Math.round(Math.min(1, j / q) * 1000) / 1000);
}

// --- the job -----------------------------------------------------------------------

export interface JobStatusInput {
  readonly spec: JobSpecView;
  readonly counts: Counts;
  /** The job's pods after this reconcile's changes (created ones count as active pending). */
  readonly pods: readonly JobPodView[];
  readonly created: number;
  readonly queue: QueueCheck;
  readonly share: string | undefined;
  readonly previous: OfflineJobStatus | undefined;
  readonly generation: number;
  readonly now: Date;
}

function phaseOf(end: ReturnType<typeof jobEnd>, running: number): OfflineJobPhase {
  return end ?? (running > 0 ? 'Running' : 'Pending');
}

/** The first scheduler message among the job's waiting pods. */
function waitingFor(pods: readonly JobPodView[]): string | undefined {
  return pods.find((p) => outcomeOf(p) === 'active' && !p.bound && p.unschedulable)?.unschedulable;
}

function admitted(
  i: JobStatusInput,
  wait: string | undefined,
): Omit<Condition, 'lastTransitionTime'> {
  const generation = i.generation;
  if (!i.queue.ok) {
    const said = wait && wait !== i.queue.message ? `; the scheduler says: ${wait}` : '';
    return {
      type: 'Admitted',
      status: 'False',
      reason: i.queue.reason,
      message: `${i.queue.message}${said}`,
      observedGeneration: generation,
    };
  }
  return {
    type: 'Admitted',
    status: 'True',
    reason: 'QueueAdmits',
    message: `queue ${i.spec.queue} admits the job${wait ? `; waiting for capacity: ${wait}` : ''}`,
    observedGeneration: generation,
  };
}

function jobConditions(i: JobStatusInput, end: ReturnType<typeof jobEnd>): Condition[] {
  const { spec, counts, now, generation } = i;
  let conditions = setCondition(i.previous?.conditions, admitted(i, waitingFor(i.pods)), now);
  conditions = setCondition(
    conditions,
    {
      type: 'Complete',
      status: end === 'Succeeded' ? 'True' : 'False',
      reason: end === 'Succeeded' ? 'CompletionsReached' : 'InProgress',
      message: `${counts.succeeded} of ${spec.completions} pods succeeded`,
      observedGeneration: generation,
    },
    now,
  );
  return setCondition(
    conditions,
    {
      type: 'Failed',
      status: end === 'Failed' ? 'True' : 'False',
      reason: end === 'Failed' ? 'BackoffLimitExceeded' : 'WithinBackoffLimit',
      message: `${counts.failed} pods failed (backoffLimit ${spec.backoffLimit}); ${counts.preemptions} preempted, which does not count`,
      observedGeneration: generation,
    },
    now,
  );
}

export function jobStatus(i: JobStatusInput): OfflineJobStatus {
  const { spec, counts, now } = i;
  const active = i.pods.filter((p) => outcomeOf(p) === 'active');
  const running = active.filter((p) => p.bound).length;
  const end = jobEnd(spec, counts);
  const startTime = i.previous?.startTime ?? (running > 0 || end ? rfc3339(now) : undefined);
  const completionTime = i.previous?.completionTime ?? (end ? rfc3339(now) : undefined);
  return {
    observedGeneration: i.generation,
    phase: phaseOf(end, running),
    active: active.length + i.created,
    succeeded: counts.succeeded,
    failed: counts.failed,
    preemptions: counts.preemptions,
    progress: `${counts.succeeded}/${spec.completions}`,
    ...(i.share === undefined ? {} : { queueShare: i.share }),
    ...(startTime ? { startTime } : {}),
    ...(completionTime ? { completionTime } : {}),
    conditions: jobConditions(i, end),
  };
}

// --- the queue ----------------------------------------------------------------------

const quantities = (r: Partial<Resources>): ResourceAmounts => ({
  ...(r.cpu === undefined || !Number.isFinite(r.cpu) ? {} : { cpu: formatCpu(Math.round(r.cpu)) }),
  ...(r.memory === undefined || !Number.isFinite(r.memory)
    ? {}
    : { memory: formatBytes(Math.round(r.memory)) }),
});

const words = (r: ResourceAmounts | undefined, none: string): string =>
  r && (r.cpu !== undefined || r.memory !== undefined)
    ? [r.cpu === undefined ? '' : `${r.cpu} CPU`, r.memory === undefined ? '' : String(r.memory)]
        .filter(Boolean)
        .join(', ')
    : none;

export interface QueueStatusInput {
  readonly queue: OfflineQueue;
  /** The queue's standing in the core's DRF, or undefined when the tree leaves it out (broken). */
  readonly grant: QueueGrant | undefined;
  /** Why the queue is broken, when it is. */
  readonly problem: string | undefined;
  /** Phases of the jobs that name this queue. */
  readonly jobPhases: readonly (OfflineJobPhase | undefined)[];
  readonly previous: OfflineQueueStatus | undefined;
  readonly generation: number;
  readonly now: Date;
}

/**
 * The queue's status: what it uses and its fair share as the scheduler's core
 * computes them (weighted DRF over the offline pool), its jobs, and Ready
 * with its guaranteed and maximum amounts in words.
 */
export function queueStatus(i: QueueStatusInput): OfflineQueueStatus {
  const spec = i.queue.spec;
  const g = i.grant;
  const used = g ? quantities(g.used) : { cpu: '0', memory: '0' };
  const fair = g ? quantities(g.fairShare) : undefined;
  const guaranteed = words(spec?.guaranteed, 'nothing guaranteed');
  const max = words(spec?.max, 'no maximum');
  const ready: Omit<Condition, 'lastTransitionTime'> = g
    ? {
        type: 'Ready',
        status: 'True',
        reason: 'InQueueTree',
        message:
          `guaranteed ${guaranteed}; maximum ${max}; uses ${words(used, '0 CPU')} ` +
          `(dominant share ${g.dominantShare.toFixed(3)}); fair share ${words(fair, '0 CPU')} ` +
          `(dominant share ${g.fairFraction.toFixed(3)})`,
        observedGeneration: i.generation,
      }
    : {
        type: 'Ready',
        status: 'False',
        reason: 'BrokenQueueTree',
        message: i.problem ?? `queue ${i.queue.metadata.name ?? ''} is not in the queue tree`,
        observedGeneration: i.generation,
      };
  return {
    observedGeneration: i.generation,
    used,
    ...(fair ? { fairShare: fair } : {}),
    pendingJobs: i.jobPhases.filter((p) => p === undefined || p === 'Pending').length,
    runningJobs: i.jobPhases.filter((p) => p === 'Running').length,
    conditions: setCondition(i.previous?.conditions, ready, i.now),
  };
}

/** Why a queue the core's tree leaves out is broken: a missing parent, or a cycle. */
export function queueProblem(q: OfflineQueue, queues: readonly OfflineQueue[]): string {
  const name = q.metadata.name ?? '';
  const seen = new Set<string>([name]);
  for (let p = q.spec?.parent; p !== undefined;) {
    const parent = queues.find((x) => x.metadata.name === p);
    if (!parent) return `queue ${name} hangs under ${p}, which does not exist`;
    if (seen.has(p)) return `queue ${name} is its own ancestor (a cycle of parents through ${p})`;
    seen.add(p);
    p = parent.spec?.parent;
  }
  return `queue ${name} is not in the queue tree`;
}
