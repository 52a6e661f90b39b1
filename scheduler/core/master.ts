// Level 1, the resource master: how much of each campus each framework may
// use. Online may hold up to the campus's ceiling (the rest is failover
// headroom); offline gets everything online does not hold, less the room held
// for the online load of a shielded campus. When that room is taken by offline
// work, the master revokes it at once (cheapest victims first), so that the
// load of the shielded campus fits in the others. The DRF division of the
// offline grant between queues is in drf.ts.
import type { CampusGrant, Grants, JobGrant, Policy, QueueGrant, Resources } from './contract.ts';
import { fairShares } from './drf.ts';
import { effectiveCeiling, type CampusBook, type Ledger } from './ledger.ts';
import { describeVictims, revokeOffline } from './preemption.ts';
import {
  add,
  addInto,
  copy,
  dominantShare,
  formatResources,
  isZero,
  max,
  min,
  positive,
  scale,
  sub,
  vec,
} from './resources.ts';

/**
 * Sets each campus's reserve and offline grant from the books. Called at the
 * start of a cycle's offline phase, after online has taken what it needs.
 */
export function refreshGrants(ledger: Ledger, policy: Policy): void {
  const shieldedLoad = vec();
  const openAlloc = vec();
  for (const c of ledger.campuses) {
    if (c.shielded) addInto(shieldedLoad, sub(c.online, c.leavingOnline));
    else addInto(openAlloc, c.alloc);
  }
  for (const c of ledger.campuses) {
    c.reserve =
      c.shielded || !policy.reserveForShielded
        ? vec()
        : vec(
            part(shieldedLoad.cpu, c.alloc.cpu, openAlloc.cpu),
            part(shieldedLoad.memory, c.alloc.memory, openAlloc.memory),
            part(shieldedLoad.pods, c.alloc.pods, openAlloc.pods),
          );
    c.offlineGrant = c.shielded ? vec() : positive(sub(c.alloc, onlineGrant(c)));
  }
}

/** A shielded campus's load is shared in proportion to allocatable. */
const part = (load: number, alloc: number, total: number): number =>
  total > 0 ? (load * alloc) / total : 0;

/** What online holds, or may soon need (the shield reserve), up to its cap. */
const onlineGrant = (c: CampusBook): Resources =>
  max(c.online, min(c.onlineCap, add(c.online, c.reserve)));

/**
 * Offline work that sits in room held for a shielded campus's online load,
 * evicted now. Measured on the books as they will be once terminating pods
 * are gone, so that a revocation already under way is not made twice.
 */
export function revokeForShielded(
  ledger: Ledger,
): { campus: string; victims: string[]; reason: string }[] {
  const out: { campus: string; victims: string[]; reason: string }[] = [];
  const shielded = ledger.campuses.filter((c) => c.shielded).map((c) => c.name);
  for (const c of ledger.campuses) {
    if (c.shielded || isZero(c.reserve)) continue;
    const online = sub(c.online, c.leavingOnline);
    const need = max(online, min(c.onlineCap, add(online, c.reserve)));
    const over = positive(sub(sub(c.offline, c.leavingOffline), sub(c.alloc, need)));
    if (isZero(over)) continue;
    const victims = revokeOffline(ledger, c, over);
    if (victims.length === 0) continue;
    out.push({
      campus: c.name,
      victims: victims.map((e) => e.pod.name),
      reason:
        `${shielded.join(', ')} ${shielded.length === 1 ? 'is' : 'are'} shielded: ` +
        `${c.name} holds ${formatResources(c.reserve)} for ${shielded.length === 1 ? 'its' : 'their'} online load, ` +
        `so offline gives back ${formatResources(over)}: evicting ${describeVictims(victims)}`,
    });
  }
  return out;
}

/** What DRF divides: the offline grants of the campuses taking new pods. */
export function offlinePool(ledger: Ledger): Resources {
  const pool = vec();
  for (const c of ledger.campuses) if (!c.shielded) addInto(pool, c.offlineGrant);
  return pool;
}

/** The grants as they stand, for metrics and status. */
export function grants(ledger: Ledger): Grants {
  const pool = offlinePool(ledger);
  const count = ledger.campuses.length;
  const shielded = ledger.campuses.filter((c) => c.shielded).length;
  const campuses: CampusGrant[] = ledger.campuses.map((c) => ({
    campus: c.name,
    shielded: c.shielded,
    ceiling: c.ceiling,
    configuredCeiling: c.configuredCeiling,
    failoverCeiling: c.shielded
      ? c.ceiling
      : effectiveCeiling(c.configuredCeiling, count, shielded + 1),
    allocatable: copy(c.alloc),
    online: { cap: copy(c.onlineCap), grant: onlineGrant(c), used: copy(c.online) },
    offline: { grant: copy(c.offlineGrant), used: copy(c.offline) },
    reserve: copy(c.reserve),
  }));
  const fair = fairShares(ledger.queues, pool);
  const queues: QueueGrant[] = ledger.queues.all().map((q) => {
    const fraction = fair.get(q.name) ?? 0;
    return {
      queue: q.name,
      ...(q.parent && q.parent !== ledger.queues.root ? { parent: q.parent.name } : {}),
      weight: q.weight,
      used: copy(q.used),
      dominantShare: dominantShare(q.used, pool),
      fairFraction: fraction,
      fairShare: min(q.max, max(q.guaranteed, scale(pool, fraction))),
    };
  });
  const jobs: JobGrant[] = [];
  for (const j of ledger.allJobs()) {
    const q = ledger.queues.get(j.queue);
    jobs.push({
      job: j.name,
      queue: j.queue,
      used: copy(j.used),
      dominantShare: dominantShare(j.used, pool),
      queueShare: q ? shareOfQueue(j.used, q.used, pool) : 0,
    });
  }
  jobs.sort((a, b) => (a.job < b.job ? -1 : a.job > b.job ? 1 : 0));
  return { campuses, queues, jobs, offlinePool: pool };
}

/** The job's part of its queue's use, in the resource the queue uses most of (against the pool). */
function shareOfQueue(job: Resources, queue: Resources, pool: Resources): number {
  const cpu = pool.cpu > 0 ? queue.cpu / pool.cpu : 0;
  const memory = pool.memory > 0 ? queue.memory / pool.memory : 0;
  const [j, q] = cpu >= memory ? [job.cpu, queue.cpu] : [job.memory, queue.memory];
  return q > 0 ? Math.min(1, j / q) : 0;
}

/**
 * The grants as they stand now, between cycles: the shield reserve and the
 * offline grants brought up to date with the books first (a cycle does the
 * same before its offline phase). What the adapter publishes.
 */
export function standing(ledger: Ledger, policy: Policy): Grants {
  refreshGrants(ledger, policy);
  return grants(ledger);
}
