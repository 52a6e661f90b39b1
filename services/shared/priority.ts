// Request priority as DAGOR defines it: a business priority (which API) and a
// user priority (which user), folded into one level; lower levels are more
// important and are shed last. Pure.
import { createHash } from 'node:crypto';
import { businessPriorities } from '../../crds/generated/types.ts';
import type { BusinessPriority } from '../../crds/generated/types.ts';

export { businessPriorities };
export type { BusinessPriority };

/** User priorities per business class (DAGOR uses 128). */
export const userPriorities = 128;
/** One more than the least important level: a threshold of `levels` admits everything. */
export const levels = businessPriorities.length * userPriorities;

export function isBusiness(v: unknown): v is BusinessPriority {
  return typeof v === 'string' && (businessPriorities as readonly string[]).includes(v);
}

/**
 * A user's priority, 0 (most important) to 127. It is a hash of the user and
 * the hour, as in DAGOR: the same user keeps one priority for an hour (so a
 * user's requests are shed together, not one in three at random), and no user
 * stays last for long.
 */
export function userPriority(user: string, now: number): number {
  const hour = Math.floor(now / 3_600_000);
  const digest = createHash('sha256').update(`${hour}/${user}`).digest();
  return digest.readUInt16BE(0) % userPriorities;
}

/** The level of a request: business first, then user. */
export function level(business: BusinessPriority, user: number): number {
  const b = businessPriorities.indexOf(business);
  return b * userPriorities + Math.min(userPriorities - 1, Math.max(0, Math.trunc(user)));
}

/** The business class a level belongs to. */
export function businessOf(lvl: number): BusinessPriority {
  const i = Math.min(businessPriorities.length - 1, Math.max(0, Math.floor(lvl / userPriorities)));
  return businessPriorities[i] ?? 'moments';
}

/** A threshold in words, e.g. "admitting payment, message, groupchat users 0-63". */
export function describeThreshold(threshold: number): string {
  if (threshold >= levels) return 'admitting everything';
  if (threshold <= 0) return 'shedding everything';
  const full = Math.floor(threshold / userPriorities);
  const partial = threshold % userPriorities;
  const whole = businessPriorities.slice(0, full).join(', ');
  const part =
    partial > 0 ? `${businessPriorities[full] ?? '?'} users 0-${partial - 1}` : undefined;
  return `admitting ${[whole, part].filter(Boolean).join(', ')}`;
}
