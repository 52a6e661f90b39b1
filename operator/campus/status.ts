// What the campus controller's part of a campus's status says, and which
// Event a shield change deserves. Pure. The amounts (allocatable, ceilings,
// grants, requests, headroom) are the scheduler's part of the same status.
import type { CampusShieldStatus, CampusStatus } from '../../crds/index.ts';
import { rfc3339, setCondition } from '../../runtime/index.ts';
import type { Condition, EventInput } from '../../runtime/index.ts';
import { campusSafe, nodesSelected } from './desired.ts';
import type { CampusFacts } from './desired.ts';
import type { ShieldState } from '../../crds/index.ts';

/** The Event for a shield that took hold or went away since the last status, if any. */
export function shieldEvent(
  before: CampusShieldStatus | undefined,
  shield: ShieldState,
): EventInput | undefined {
  if (shield.kind === 'active' && !before?.active) {
    return {
      type: 'Warning',
      reason: 'CampusShielded',
      action: 'Shield',
      note: `shielded by ${shield.by} until ${rfc3339(shield.until)}: ${shield.reason}`,
    };
  }
  if (shield.kind !== 'active' && before?.active) {
    const expired = shield.kind === 'expired';
    return {
      type: 'Normal',
      reason: expired ? 'ShieldExpired' : 'ShieldLifted',
      action: 'Unshield',
      note: `the shield set by ${before.by ?? 'unknown'} ${expired ? `expired at ${before.until ?? '?'}` : 'was lifted'}; traffic returns`,
    };
  }
  return undefined;
}

function shieldedCondition(
  shield: ShieldState,
  generation: number,
): Omit<Condition, 'lastTransitionTime'> {
  if (shield.kind === 'active') {
    return {
      type: 'Shielded',
      status: 'True',
      reason: 'ShieldActive',
      message: `shielded by ${shield.by} until ${rfc3339(shield.until)}: ${shield.reason}`,
      observedGeneration: generation,
    };
  }
  return {
    type: 'Shielded',
    status: 'False',
    reason: shield.kind === 'expired' ? 'ShieldExpired' : 'NotShielded',
    message:
      shield.kind === 'expired'
        ? `the shield expired at ${rfc3339(shield.until)}`
        : 'the campus serves traffic',
    observedGeneration: generation,
  };
}

export interface CampusStatusInput {
  readonly self: CampusFacts;
  readonly all: readonly CampusFacts[];
  /** Of the nodes it selects, those Ready and not cordoned. */
  readonly nodesReady: number;
  readonly shield: ShieldState;
  readonly previous: CampusStatus | undefined;
  readonly generation: number;
  readonly now: Date;
  /** Published numbers older than this make CampusSafe Unknown. */
  readonly staleAfterMs: number;
}

/** The fields of a Campus's status the campus controller owns. */
export type CampusControllerStatus = Pick<
  CampusStatus,
  'observedGeneration' | 'nodes' | 'shield' | 'conditions'
>;

/** The campus controller's part of one campus's status. */
export function campusStatus({
  self,
  all,
  nodesReady,
  shield,
  previous,
  generation,
  now,
  staleAfterMs,
}: CampusStatusInput): CampusControllerStatus {
  const safe = campusSafe(self, all, { now: now.getTime(), staleAfterMs });
  let conditions = setCondition(
    previous?.conditions,
    { type: 'CampusSafe', ...safe, observedGeneration: generation },
    now,
  );
  conditions = setCondition(conditions, shieldedCondition(shield, generation), now);
  conditions = setCondition(
    conditions,
    { type: 'NodesSelected', ...nodesSelected(self), observedGeneration: generation },
    now,
  );
  const before = previous?.shield;
  const total = self.selected.length;
  return {
    observedGeneration: generation,
    nodes: { ready: nodesReady, total, summary: `${nodesReady}/${total}` },
    shield:
      shield.kind === 'active'
        ? {
            active: true,
            since: before?.active && before.since ? before.since : rfc3339(now),
            until: rfc3339(shield.until),
            by: shield.by,
            reason: shield.reason,
          }
        : { active: false },
    conditions,
  };
}

/** The campus controller's fields, as the object shows them. */
export function ownCampusStatus(s: CampusStatus | undefined): Partial<CampusControllerStatus> {
  return {
    ...(s?.observedGeneration === undefined ? {} : { observedGeneration: s.observedGeneration }),
    ...(s?.nodes === undefined ? {} : { nodes: s.nodes }),
    ...(s?.shield === undefined ? {} : { shield: s.shield }),
    ...(s?.conditions === undefined ? {} : { conditions: s.conditions }),
  };
}
