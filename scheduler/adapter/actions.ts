// The core's decisions → the API calls that carry them out, pure. The binder
// (binder.ts) only sends what `plan` says, so what Yard writes for each kind
// of decision is a table test (actions.test.ts):
//   bind          POST pods/binding (the pod's uid as precondition)
//   preempt       POST pods/eviction for each victim (policy/v1), an Event on
//                 each, and status.nominatedNodeName on the preemptor
//   revoke        the same evictions, for the shield
//   unschedulable an Event (FailedScheduling) and PodScheduled=False,
//                 reason Unschedulable, with the reason as message; the
//                 nominated node when room is held
//   never         the same, Event reason NeverSchedulable
// Status writes happen only when they change something, so a pod decided
// again and again costs one Event (counted in its series), not a write each time.
import type { Decision } from '../core/index.ts';

export type Action =
  | { readonly kind: 'bind'; readonly pod: string; readonly node: string }
  | {
      readonly kind: 'evict';
      readonly pod: string;
      /** The preemptor, or undefined for a revocation. */
      readonly for: string | undefined;
      readonly reason: string;
    }
  | { readonly kind: 'nominate'; readonly pod: string; readonly node: string }
  | {
      readonly kind: 'report';
      readonly pod: string;
      readonly never: boolean;
      readonly reason: string;
      /** Write PodScheduled=False (the message changed). */
      readonly condition: boolean;
    };

/** What the cache says about a pending pod now, so that unchanged status is not written again. */
export interface PodStatusView {
  readonly nominatedNode: string | undefined;
  /** The message of PodScheduled when it is False. */
  readonly unschedulableMessage: string | undefined;
  /** When this scheduler last reported on the pod (clock ms), and whether it said never. */
  readonly reportedAt?: number | undefined;
  readonly never?: boolean | undefined;
}

export type StatusOf = (pod: string) => PodStatusView | undefined;

/** How often a pending pod's report may change (its message carries numbers that move). */
export interface ReportPace {
  readonly now: number;
  readonly minIntervalMs: number;
}

const unpaced: ReportPace = { now: 0, minIntervalMs: 0 };

/**
 * A report (an Event and PodScheduled=False) when there is news: never when
 * the pod already says this, and a changed message at most once per
 * `minIntervalMs` unless the pod turned from "not now" to "never" or back —
 * the free capacity in a message moves with every bind, and a thousand pending
 * pods rewritten each cycle would load the API server more than the binds.
 */
function report(
  pod: string,
  never: boolean,
  reason: string,
  status: StatusOf,
  pace: ReportPace,
): Action[] {
  const s = status(pod);
  if (s?.unschedulableMessage === reason) return [];
  const recent =
    s?.reportedAt !== undefined &&
    pace.now - s.reportedAt < pace.minIntervalMs &&
    (s.never ?? false) === never;
  return recent ? [] : [{ kind: 'report', pod, never, reason, condition: true }];
}

function nominate(pod: string, node: string, status: StatusOf): Action[] {
  return status(pod)?.nominatedNode === node ? [] : [{ kind: 'nominate', pod, node }];
}

/** The API calls for one cycle's decisions, evictions first (online is waiting on them). */
export function plan(
  decisions: readonly Decision[],
  status: StatusOf,
  pace: ReportPace = unpaced,
): Action[] {
  const urgent: Action[] = [];
  const rest: Action[] = [];
  for (const d of decisions) {
    switch (d.kind) {
      case 'bind':
        rest.push({ kind: 'bind', pod: d.pod, node: d.node });
        break;
      case 'preempt':
        for (const v of d.victims)
          urgent.push({ kind: 'evict', pod: v, for: d.for, reason: d.reason });
        urgent.push(...nominate(d.for, d.node, status));
        rest.push(...report(d.for, false, d.reason, status, pace));
        break;
      case 'revoke':
        for (const v of d.victims)
          urgent.push({ kind: 'evict', pod: v, for: undefined, reason: d.reason });
        break;
      case 'unschedulable':
        if (d.nominatedNode !== undefined) urgent.push(...nominate(d.ask, d.nominatedNode, status));
        for (const p of d.pods) rest.push(...report(p, false, d.reason, status, pace));
        break;
      case 'never':
        for (const p of d.pods) rest.push(...report(p, true, d.reason, status, pace));
        break;
    }
  }
  return [...urgent, ...rest];
}

// --- request bodies -----------------------------------------------------------

const split = (key: string): { namespace: string; name: string } => {
  const i = key.indexOf('/');
  return { namespace: key.slice(0, i), name: key.slice(i + 1) };
};

const podPath = (key: string, sub: string): string => {
  const { namespace, name } = split(key);
  return `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(name)}/${sub}`;
};

export interface Request {
  readonly method: 'POST' | 'PATCH';
  readonly path: string;
  readonly body: unknown;
  readonly contentType?: string;
}

/** A Binding; with the uid, the API refuses it for a pod of the same name created since. */
export function bindingRequest(pod: string, node: string, uid: string | undefined): Request {
  const { namespace, name } = split(pod);
  return {
    method: 'POST',
    path: podPath(pod, 'binding'),
    body: {
      apiVersion: 'v1',
      kind: 'Binding',
      metadata: { name, namespace, ...(uid ? { uid } : {}) },
      target: { apiVersion: 'v1', kind: 'Node', name: node },
    },
  };
}

/** A policy/v1 Eviction: PodDisruptionBudgets are honoured, and the pod gets DisruptionTarget. */
export function evictionRequest(pod: string, uid: string | undefined): Request {
  const { namespace, name } = split(pod);
  return {
    method: 'POST',
    path: podPath(pod, 'eviction'),
    body: {
      apiVersion: 'policy/v1',
      kind: 'Eviction',
      metadata: { name, namespace },
      ...(uid ? { deleteOptions: { preconditions: { uid } } } : {}),
    },
  };
}

const strategicMerge = 'application/strategic-merge-patch+json';

export function nominateRequest(pod: string, node: string): Request {
  return {
    method: 'PATCH',
    path: podPath(pod, 'status'),
    body: { status: { nominatedNodeName: node } },
    contentType: strategicMerge,
  };
}

/** PodScheduled=False, merged by type into the pod's conditions, as kube-scheduler writes it. */
export function unschedulableRequest(pod: string, message: string, now: Date): Request {
  return {
    method: 'PATCH',
    path: podPath(pod, 'status'),
    body: {
      status: {
        conditions: [
          {
            type: 'PodScheduled',
            status: 'False',
            reason: 'Unschedulable',
            message,
            lastProbeTime: null,
            lastTransitionTime: now.toISOString().replace(/\.\d+Z$/, 'Z'),
          },
        ],
      },
    },
    contentType: strategicMerge,
  };
}

/** The Event on a pod Yard could not place (reason) and on a victim (Preempted). */
export const eventReasons = {
  unschedulable: 'FailedScheduling',
  never: 'NeverSchedulable',
  preempted: 'Preempted',
} as const;
