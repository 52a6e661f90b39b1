// What an OfflineJob's and an OfflineQueue's status say, pure: phase, counts
// and conditions, with the scheduler's reasons in the messages. The numbers
// of capacity — a queue's use, fair share and pending demand, a job's
// admitted share — are the scheduler's: it publishes them to the same status
// under its own field manager, and nothing here recomputes them. No client,
// no clock (`now` is an argument).
import type {
  OfflineJobPhase,
  OfflineJobStatus,
  OfflineQueue,
  OfflineQueueStatus,
  ResourceAmounts,
} from '../../crds/index.ts';
import { rfc3339, setCondition } from '../../runtime/index.ts';
import type { Condition } from '../../runtime/index.ts';
import { jobEnd, outcomeOf } from './desired.ts';
import type { Counts, JobPodView, JobSpecView } from './desired.ts';

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

// --- what the scheduler owns ----------------------------------------------------

/** The fields of an OfflineJob's status the scheduler publishes (publish.ts there). */
export const schedulerJobFields = [
  'queueShare',
  'admitted',
  'admittedShare',
  'publishedAt',
] as const;

/**
 * The scheduler's fields as the object shows them. The job controller
 * replaces the status (conditional on the version it read), so it sends them
 * back unchanged: they stay the scheduler's, and a newer publication makes
 * the write conflict rather than be undone.
 */
export function schedulerJobStatus(s: OfflineJobStatus | undefined): Partial<OfflineJobStatus> {
  const out: Partial<Record<string, unknown>> = {};
  for (const k of schedulerJobFields) if (s?.[k] !== undefined) out[k] = s[k];
  return out;
}

// --- the job -----------------------------------------------------------------------

export interface JobStatusInput {
  readonly spec: JobSpecView;
  readonly counts: Counts;
  /** The job's pods after this reconcile's changes (created ones count as active pending). */
  readonly pods: readonly JobPodView[];
  readonly created: number;
  readonly queue: QueueCheck;
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
    ...schedulerJobStatus(i.previous),
    observedGeneration: i.generation,
    phase: phaseOf(end, running),
    active: active.length + i.created,
    succeeded: counts.succeeded,
    failed: counts.failed,
    preemptions: counts.preemptions,
    progress: `${counts.succeeded}/${spec.completions}`,
    ...(startTime ? { startTime } : {}),
    ...(completionTime ? { completionTime } : {}),
    conditions: jobConditions(i, end),
  };
}

// --- the queue ----------------------------------------------------------------------

const words = (r: ResourceAmounts | undefined, none: string): string =>
  r && (r.cpu !== undefined || r.memory !== undefined)
    ? [r.cpu === undefined ? '' : `${r.cpu} CPU`, r.memory === undefined ? '' : String(r.memory)]
        .filter(Boolean)
        .join(', ')
    : none;

export interface QueueStatusInput {
  readonly queue: OfflineQueue;
  /** Why the queue is not in the tree (a missing parent, a cycle), or undefined when it is. */
  readonly problem: string | undefined;
  /** Phases of the jobs that name this queue. */
  readonly jobPhases: readonly (OfflineJobPhase | undefined)[];
  readonly previous: OfflineQueueStatus | undefined;
  readonly generation: number;
  readonly now: Date;
}

/** The fields of an OfflineQueue's status the queue controller owns. */
export type QueueControllerStatus = Pick<
  OfflineQueueStatus,
  'observedGeneration' | 'pendingJobs' | 'runningJobs' | 'conditions'
>;

/**
 * The queue controller's part of the status: its jobs, and Ready with its
 * guaranteed and maximum amounts in words. What it uses and its fair share
 * are the scheduler's to publish.
 */
export function queueStatus(i: QueueStatusInput): QueueControllerStatus {
  const spec = i.queue.spec;
  const guaranteed = words(spec?.guaranteed, 'nothing guaranteed');
  const max = words(spec?.max, 'no maximum');
  const ready: Omit<Condition, 'lastTransitionTime'> =
    i.problem === undefined
      ? {
          type: 'Ready',
          status: 'True',
          reason: 'InQueueTree',
          message: `guaranteed ${guaranteed}; maximum ${max}`,
          observedGeneration: i.generation,
        }
      : {
          type: 'Ready',
          status: 'False',
          reason: 'BrokenQueueTree',
          message: i.problem,
          observedGeneration: i.generation,
        };
  return {
    observedGeneration: i.generation,
    pendingJobs: i.jobPhases.filter((p) => p === undefined || p === 'Pending').length,
    runningJobs: i.jobPhases.filter((p) => p === 'Running').length,
    conditions: setCondition(i.previous?.conditions, ready, i.now),
  };
}

/**
 * Why a queue is not in the tree — a parent (or an ancestor) that does not
 * exist, or a cycle of parents — or undefined when its ancestry reaches the
 * root. The scheduler's core leaves such queues out: their jobs never run.
 */
export function queueProblem(q: OfflineQueue, queues: readonly OfflineQueue[]): string | undefined {
  const name = q.metadata.name ?? '';
  const direct = q.spec?.parent;
  const seen = new Set<string>([name]);
  for (let p = direct; p !== undefined;) {
    const parent = queues.find((x) => x.metadata.name === p);
    if (!parent)
      return p === direct
        ? `queue ${name} hangs under ${p}, which does not exist`
        : `queue ${name} hangs under ${direct ?? ''}, whose ancestor ${p} does not exist`;
    if (p === name) return `queue ${name} is its own ancestor (a cycle of parents through ${p})`;
    if (seen.has(p))
      return `queue ${name} hangs under ${direct ?? ''}, whose ancestors form a cycle through ${p}`;
    seen.add(p);
    p = parent.spec?.parent;
  }
  return undefined;
}
