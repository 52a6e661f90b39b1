// One cycle's asks, from the pods the queue hands out: an online ask per pod,
// with the campus it goes to, and one gang ask per OfflineJob. A pod pinned
// to one campus goes there; pinned to several, or to none, it goes to the
// open campus with the most online room after what this batch already sent
// there (the core spreads within a campus; this spreads a batch across them).
import type { V1Pod } from '@kubernetes/client-node';
import type { Campus as CampusObject, OfflineJob } from '../../crds/index.ts';
import type { Ask, Ledger, Resources } from '../core/index.ts';
import { campusesOfPod, chooseCampus, gangAsk, onlineAsk, podResources } from './mapping.ts';

export interface AskContext {
  readonly ledger: Ledger;
  readonly campuses: readonly CampusObject[];
  readonly job: (key: string) => OfflineJob | undefined;
}

/** Online asks (each with its campus) and one gang ask per job. */
export function asksFor(
  ctx: AskContext,
  online: readonly V1Pod[],
  gangs: ReadonlyMap<string, readonly V1Pod[]>,
): Ask[] {
  const asks: Ask[] = [];
  const taken = new Map<string, Resources>();
  const open = ctx.ledger.openCampuses();
  for (const pod of online) asks.push(onlineAsk(pod, campusFor(pod, ctx, open, taken)));
  for (const [job, pods] of gangs) asks.push(gangAsk(job, ctx.job(job), pods));
  return asks;
}

/** The pod's campus; `taken` gains what it requests there. */
function campusFor(
  pod: V1Pod,
  ctx: AskContext,
  open: readonly string[],
  taken: Map<string, Resources>,
): string {
  const pinned = campusesOfPod(pod, ctx.campuses);
  const only = pinned?.length === 1 ? pinned[0] : undefined;
  if (only !== undefined) return only;
  const req = podResources(pod);
  const candidates = (pinned ?? open).filter((c) => open.includes(c));
  const campus =
    chooseCampus(candidates, (c) => ctx.ledger.headroom(c, 'online'), taken, req) ??
    pinned?.[0] ??
    '(none)';
  const t = taken.get(campus);
  taken.set(campus, {
    cpu: (t?.cpu ?? 0) + req.cpu,
    memory: (t?.memory ?? 0) + req.memory,
    pods: (t?.pods ?? 0) + 1,
  });
  return campus;
}
