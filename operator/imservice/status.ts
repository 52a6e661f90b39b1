// What an IMService's status says, from what its Deployments report. Pure.
import type { V1Deployment } from '@kubernetes/client-node';
import type { IMServiceRolloutPhase, IMServiceStatus } from '../../crds/index.ts';
import { setCondition } from '../../runtime/index.ts';
import type { Condition } from '../../runtime/index.ts';
import type { RolloutStep } from './rollout.ts';
import { survivesLossOfAnyCampus } from './sizing.ts';
import type { CampusCount } from './sizing.ts';
import { annotation } from '../../crds/names.ts';

/** Per-campus counts; `updated` counts only replicas of the target template. */
export function campusCounts(
  campuses: readonly string[],
  byCampus: ReadonlyMap<string, V1Deployment>,
  perCampus: number,
  target: string,
): CampusCount[] {
  return campuses.map((campus) => {
    const d = byCampus.get(campus);
    const s = d?.status;
    const atTarget = d?.metadata?.annotations?.[annotation.templateHash] === target;
    return {
      campus,
      desired: perCampus,
      ready: s?.readyReplicas ?? 0,
      updated: atTarget ? (s?.updatedReplicas ?? 0) : 0,
      available: s?.availableReplicas ?? 0,
    };
  });
}

export interface StatusInput {
  readonly capacity: number;
  readonly counts: readonly CampusCount[];
  readonly step: RolloutStep;
  /** The rollout pauses between campuses. */
  readonly pausing: boolean;
  readonly target: string;
  readonly shielded: ReadonlySet<string>;
  readonly previous: readonly Condition[] | undefined;
  readonly generation: number;
  readonly now: Date;
  /** The CampusesResolved condition (placement.ts): unknown campus names, campuses without nodes. */
  readonly campuses: { readonly ok: boolean; readonly reason: string; readonly message: string };
}

function progressing(
  step: RolloutStep,
  rolling: boolean,
  target: string,
): { reason: string; message: string } {
  switch (step.kind) {
    case 'done':
      return rolling
        ? { reason: 'Scaling', message: 'waiting for every campus to reach its desired replicas' }
        : { reason: 'RolloutComplete', message: `every campus runs template ${target}` };
    case 'wait-image':
      return {
        reason: 'WaitingForImage',
        message: `waiting for the image to reach ${step.campus} before rolling it out there`,
      };
    default:
      return {
        reason: 'RollingOutCampus',
        message: `rolling out template ${target}: at ${step.campus}`,
      };
  }
}

function phaseOf(step: RolloutStep, pausing: boolean): IMServiceRolloutPhase {
  if (step.kind === 'done') return 'Complete';
  if (step.kind === 'wait-image') return 'Distributing';
  return pausing ? 'Pausing' : 'Updating';
}

/**
 * Conditions: Available (enough replicas for peak), Progressing (a rollout or
 * scale is under way), CampusSafe (losing any one campus leaves capacity),
 * Degraded (an unshielded campus runs fewer than it should), CampusesResolved
 * (every campus the spec names exists and every campus counted has nodes of
 * its own).
 */
export function imserviceStatus(i: StatusInput): IMServiceStatus {
  const sum = (f: (c: CampusCount) => number): number => i.counts.reduce((n, c) => n + f(c), 0);
  const available = sum((c) => c.available);
  const set = (
    conds: Condition[],
    type: string,
    ok: boolean,
    reason: string,
    message: string,
  ): Condition[] =>
    setCondition(
      conds,
      { type, status: ok ? 'True' : 'False', reason, message, observedGeneration: i.generation },
      i.now,
    );

  const perCampus =
    i.counts.map((c) => `${c.campus} ${c.available}/${c.desired}`).join(', ') || 'no campus';
  let conditions = set(
    [...(i.previous ?? [])],
    'Available',
    available >= i.capacity,
    available >= i.capacity ? 'CapacityAvailable' : 'BelowCapacity',
    `${available} of ${i.capacity} needed replicas available (${perCampus})`,
  );
  const rolling = i.step.kind !== 'done' || i.counts.some((c) => c.updated < c.desired);
  const p = progressing(i.step, rolling, i.target);
  conditions = set(conditions, 'Progressing', rolling, p.reason, p.message);
  const loss = survivesLossOfAnyCampus(i.capacity, i.counts);
  conditions = set(
    conditions,
    'CampusSafe',
    loss.safe,
    loss.safe ? 'SurvivesCampusLoss' : 'CampusLossWouldDropBelowCapacity',
    loss.worst
      ? `losing ${loss.worst.campus} would leave ${loss.worst.remaining} of ${i.capacity} needed replicas`
      : 'no campus to run on',
  );
  const short = i.counts.filter((c) => !i.shielded.has(c.campus) && c.available < c.desired);
  conditions = set(
    conditions,
    'Degraded',
    short.length > 0,
    short.length > 0 ? 'CampusBelowDesired' : 'AllCampusesAtDesired',
    short.length > 0
      ? `below desired in ${short.map((c) => `${c.campus} (${c.available}/${c.desired})`).join(', ')}`
      : 'every unshielded campus runs its desired replicas',
  );
  conditions = set(
    conditions,
    'CampusesResolved',
    i.campuses.ok,
    i.campuses.reason,
    i.campuses.message,
  );
  return {
    observedGeneration: i.generation,
    replicas: sum((c) => c.desired),
    readyReplicas: sum((c) => c.ready),
    updatedReplicas: sum((c) => c.updated),
    availableReplicas: available,
    campuses: i.counts.map((c) => ({
      name: c.campus,
      desired: c.desired,
      ready: c.ready,
      updated: c.updated,
      available: c.available,
    })),
    rollout: {
      revision: i.target,
      phase: phaseOf(i.step, i.pausing),
      ...(i.step.kind !== 'done' ? { currentCampus: i.step.campus } : {}),
    },
    conditions,
  };
}
