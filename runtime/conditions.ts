// metav1.Condition, as Kubernetes defines it, kept pure: the reconcile
// computes the new list and writes it with the status (one write).
// `lastTransitionTime` moves only when the status flips, so "since when has
// this been false?" has an answer; `observedGeneration` says which spec the
// condition is about, so a reader can tell a stale True from a current one.
import { rfc3339 } from './clock.ts';

export const conditionStatuses = ['True', 'False', 'Unknown'] as const;
export type ConditionStatus = (typeof conditionStatuses)[number];

export interface Condition {
  readonly type: string;
  readonly status: ConditionStatus;
  /** CamelCase, machine-readable: `AllReplicasReady`. */
  readonly reason: string;
  /** For people: what is wrong and what to do. */
  readonly message: string;
  readonly observedGeneration?: number;
  /** RFC 3339, seconds. */
  readonly lastTransitionTime: string;
}

export type ConditionUpdate = Omit<Condition, 'lastTransitionTime'>;

// the API server's own validation of metav1.Condition
const typePattern =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const reasonPattern = /^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/;

/** Why `c` would be refused by the API server, or undefined if it is valid. */
export function invalidCondition(c: ConditionUpdate): string | undefined {
  if (!typePattern.test(c.type) || c.type.length > 316)
    return `type ${JSON.stringify(c.type)} is not a qualified name`;
  if (!(conditionStatuses as readonly string[]).includes(c.status)) {
    return `status of ${c.type} must be True, False or Unknown, not ${JSON.stringify(c.status)}`;
  }
  if (!reasonPattern.test(c.reason) || c.reason.length > 1024) {
    return `reason ${JSON.stringify(c.reason)} of ${c.type} must be CamelCase (letters, digits, _ , :)`;
  }
  if (c.message.length > 32768) return `message of ${c.type} is longer than 32768 characters`;
  if (c.observedGeneration !== undefined && c.observedGeneration < 0) {
    return `observedGeneration of ${c.type} is negative`;
  }
  return undefined;
}

/**
 * `conditions` with `update` set: added if new; otherwise replaced, keeping
 * `lastTransitionTime` unless the status changed. Order is kept. Throws
 * (TypeError) on a condition the API server would refuse.
 */
export function setCondition(
  conditions: readonly Condition[] | undefined,
  update: ConditionUpdate,
  now: Date | number,
): Condition[] {
  const invalid = invalidCondition(update);
  if (invalid) throw new TypeError(invalid);
  const list = conditions ?? [];
  const existing = list.find((c) => c.type === update.type);
  const next: Condition = {
    type: update.type,
    status: update.status,
    reason: update.reason,
    message: update.message,
    ...(update.observedGeneration !== undefined
      ? { observedGeneration: update.observedGeneration }
      : {}),
    lastTransitionTime:
      existing && existing.status === update.status ? existing.lastTransitionTime : rfc3339(now),
  };
  return existing ? list.map((c) => (c === existing ? next : c)) : [...list, next];
}

export function findCondition(
  conditions: readonly Condition[] | undefined,
  type: string,
): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

export function removeCondition(
  conditions: readonly Condition[] | undefined,
  type: string,
): Condition[] {
  return (conditions ?? []).filter((c) => c.type !== type);
}

/**
 * The condition is True — and, if `generation` is given, it was computed for
 * that generation (a True about an older spec does not count).
 */
export function isTrue(
  conditions: readonly Condition[] | undefined,
  type: string,
  generation?: number,
): boolean {
  return hasStatus(conditions, type, 'True', generation);
}

export function isFalse(
  conditions: readonly Condition[] | undefined,
  type: string,
  generation?: number,
): boolean {
  return hasStatus(conditions, type, 'False', generation);
}

function hasStatus(
  conditions: readonly Condition[] | undefined,
  type: string,
  status: ConditionStatus,
  generation: number | undefined,
): boolean {
  const c = findCondition(conditions, type);
  if (!c || c.status !== status) return false;
  return generation === undefined || c.observedGeneration === generation;
}
