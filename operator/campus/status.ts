// What a campus's status says, and which Event a shield change deserves. Pure.
import type { CampusShieldStatus, CampusStatus } from '../../crds/index.ts';
import { formatBytes, formatCpu, rfc3339, setCondition } from '../../runtime/index.ts';
import type { Condition, EventInput } from '../../runtime/index.ts';
import { campusSafe } from './desired.ts';
import type { CampusLoad, Resources } from './desired.ts';
import type { ShieldState } from '../../crds/index.ts';

const amounts = (r: Resources): { cpu: string; memory: string } => ({
  cpu: formatCpu(Math.max(0, r.cpuMilli)),
  memory: formatBytes(Math.max(0, r.memoryBytes)),
});

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
  readonly self: CampusLoad;
  readonly loads: readonly CampusLoad[];
  readonly shield: ShieldState;
  readonly previous: CampusStatus | undefined;
  readonly generation: number;
  readonly now: Date;
}

/** The whole status subresource of one campus. */
export function campusStatus({
  self,
  loads,
  shield,
  previous,
  generation,
  now,
}: CampusStatusInput): CampusStatus {
  const safe = campusSafe(self, loads);
  let conditions = setCondition(
    previous?.conditions,
    {
      type: 'CampusSafe',
      status: safe.safe ? 'True' : 'False',
      reason: safe.reason,
      message: safe.message,
      observedGeneration: generation,
    },
    now,
  );
  conditions = setCondition(conditions, shieldedCondition(shield, generation), now);
  const before = previous?.shield;
  return {
    observedGeneration: generation,
    nodes: {
      ready: self.nodesReady,
      total: self.nodesTotal,
      summary: `${self.nodesReady}/${self.nodesTotal}`,
    },
    allocatable: amounts(self.allocatable),
    onlineCeiling: amounts({
      cpuMilli: Math.floor(self.allocatable.cpuMilli * self.ceiling),
      memoryBytes: Math.floor(self.allocatable.memoryBytes * self.ceiling),
    }),
    onlineRequests: amounts(self.online),
    offlineRequests: amounts(self.offline),
    headroom: amounts(self.headroom),
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
