// The pod status the agent owns — phase, addresses, start time, container
// statuses and four conditions (Initialized, PodReadyToStartContainers,
// ContainersReady, Ready) — and whether the API already shows it. Other
// writers' conditions (the readiness gates) are read, never written: the
// adapter sends this as a strategic-merge patch, which merges conditions by
// type. Pure.
import { jsonEqual } from '../../runtime/object.ts';
import { readiness } from './readiness.ts';
import type { ConditionValue } from './readiness.ts';
import { podPhase } from './restart.ts';
import type { PodPhase } from './restart.ts';
import type {
  ContainerStatus,
  PodCondition,
  PodObject,
  PodStatus,
  PodView,
  RestartPolicy,
} from './types.ts';

export const ownedConditions = [
  'PodReadyToStartContainers',
  'Initialized',
  'ContainersReady',
  'Ready',
] as const;

export interface StatusInput {
  readonly pod: PodObject;
  readonly view: PodView;
  readonly policy: RestartPolicy;
  /** RFC 3339 (whole seconds): the transition time of conditions that change now. */
  readonly now: string;
}

function condition(
  type: string,
  v: ConditionValue,
  observed: readonly PodCondition[],
  now: string,
): PodCondition {
  const old = observed.find((c) => c.type === type);
  return {
    type,
    status: v.status,
    lastTransitionTime:
      old?.status === v.status && old.lastTransitionTime ? old.lastTransitionTime : now,
    ...(v.reason ? { reason: v.reason } : {}),
    ...(v.message ? { message: v.message } : {}),
  };
}

/** A terminal phase is final: the pod never runs again, whatever the view says. */
function phaseOf(pod: PodObject, view: PodView, policy: RestartPolicy): PodPhase {
  const observed = pod.status?.phase;
  if (observed === 'Succeeded' || observed === 'Failed') return observed;
  return podPhase(view.containers, policy);
}

export function desiredStatus({ pod, view, policy, now }: StatusInput): PodStatus {
  const observed = pod.status?.conditions ?? [];
  const phase = phaseOf(pod, view, policy);
  const gates = (pod.spec?.readinessGates ?? []).map((g) => g.conditionType);
  const { containersReady, ready } = readiness(view.containers, gates, observed, phase);
  const containerStatuses: ContainerStatus[] = view.containers.map((c) => ({
    name: c.name,
    image: c.image,
    imageID: '',
    ...(c.containerID ? { containerID: c.containerID } : {}),
    ready: c.ready && phase === 'Running',
    started: c.state.running !== undefined,
    restartCount: c.restartCount,
    state: c.state,
    lastState: c.lastState ?? {},
  }));
  return {
    phase,
    podIP: view.podIP,
    podIPs: [{ ip: view.podIP }],
    hostIP: view.hostIP,
    hostIPs: [{ ip: view.hostIP }],
    startTime: view.startTime,
    conditions: [
      condition('PodReadyToStartContainers', { status: 'True' }, observed, now),
      condition('Initialized', { status: 'True' }, observed, now),
      condition('ContainersReady', containersReady, observed, now),
      condition('Ready', ready, observed, now),
    ],
    containerStatuses,
  };
}

/** The parts of a status the agent owns, without times that do not make a difference. */
function owned(s: PodStatus | undefined): unknown {
  const conditions = ownedConditions.map((t) => {
    const c = s?.conditions?.find((x) => x.type === t);
    return c ? { type: t, status: c.status, reason: c.reason, message: c.message } : undefined;
  });
  return {
    phase: s?.phase,
    podIP: s?.podIP,
    podIPs: s?.podIPs,
    hostIP: s?.hostIP,
    hostIPs: s?.hostIPs,
    startTime: s?.startTime,
    conditions,
    containerStatuses: s?.containerStatuses?.map((c) => ({
      name: c.name,
      image: c.image,
      containerID: c.containerID,
      ready: c.ready,
      started: c.started ?? false,
      restartCount: c.restartCount,
      state: c.state ?? {},
      lastState: c.lastState ?? {},
    })),
  };
}

/** Whether the API must be told: something the agent owns differs from what it shows. */
export function needsWrite(observed: PodStatus | undefined, desired: PodStatus): boolean {
  return !jsonEqual(owned(observed), owned(desired));
}
