// Which campuses an IMService spreads over, pure: those it asks for (all by
// default) that own nodes of their own. A campus that selects no node, or
// only nodes an earlier campus (by name) already owns, has no capacity of
// its own: a Deployment there would only leave Pending pods, and counting it
// in N would shrink ⌈capacity/(N−1)⌉ below what a campus loss needs. Names
// the spec gives that are no Campus are reported, never guessed at.
import type { V1Node } from '@kubernetes/client-node';
import type { Campus } from '../../crds/index.ts';
import { campusMembership, campusesWithNodes } from '../../crds/index.ts';

export interface NotCounted {
  readonly campus: string;
  /** Why, in words: "selects no nodes" or "selects only nodes of campus-a". */
  readonly why: string;
}

export interface CampusSpread {
  /** The campuses the service runs in (one Deployment each), by name. */
  readonly counted: readonly string[];
  /** Campuses the service would run in but that own no node. */
  readonly notCounted: readonly NotCounted[];
  /** Names in spec.campuses that are no Campus. */
  readonly unknownCampuses: readonly string[];
  /** Names in spec.rollout.campusOrder that are no Campus. */
  readonly unknownInOrder: readonly string[];
}

export interface SpreadInput {
  /** The Campus objects that are not being deleted. */
  readonly campuses: readonly Campus[];
  readonly nodes: readonly V1Node[];
  /** spec.campuses: unset means every Campus. */
  readonly wanted?: readonly string[] | undefined;
  /** spec.rollout.campusOrder. */
  readonly campusOrder?: readonly string[] | undefined;
}

export function campusSpread(i: SpreadInput): CampusSpread {
  const names = new Set(i.campuses.map((c) => c.metadata.name ?? ''));
  const membership = campusMembership(i.campuses, i.nodes);
  const owning = new Set(campusesWithNodes(membership));
  const wanted = i.wanted ? new Set(i.wanted) : undefined;
  const candidates = [...names].filter((c) => !wanted || wanted.has(c)).sort();
  const notCounted = candidates
    .filter((c) => !owning.has(c))
    .map((campus): NotCounted => {
      const selected = membership.selected.get(campus) ?? [];
      if (selected.length === 0) return { campus, why: 'selects no nodes' };
      const owners = [
        ...new Set(selected.map((n) => membership.campusOf.get(n) ?? '').filter(Boolean)),
      ].sort();
      return {
        campus,
        why: `selects only nodes that ${owners.join(', ')} already select${owners.length === 1 ? 's' : ''}`,
      };
    });
  const unknown = (list: readonly string[] | undefined): string[] =>
    [...new Set((list ?? []).filter((c) => !names.has(c)))].sort();
  return {
    counted: candidates.filter((c) => owning.has(c)),
    notCounted,
    unknownCampuses: unknown(i.wanted),
    unknownInOrder: unknown(i.campusOrder),
  };
}

/** The CampusesResolved condition a spread gives: what to fix, else where the service runs. */
export function campusesCondition(
  s: CampusSpread,
  sizing: { readonly capacity: number; readonly perCampus: number },
): { readonly ok: boolean; readonly reason: string; readonly message: string } {
  const problems: string[] = [];
  if (s.unknownCampuses.length > 0)
    problems.push(`spec.campuses names ${list(s.unknownCampuses)}, which ${no(s.unknownCampuses)}`);
  if (s.unknownInOrder.length > 0)
    problems.push(
      `spec.rollout.campusOrder names ${list(s.unknownInOrder)}, which ${no(s.unknownInOrder)}`,
    );
  for (const n of s.notCounted)
    problems.push(`${n.campus} ${n.why} of its own, so it gets no pods and does not count`);
  const n = s.counted.length;
  const where =
    n === 0
      ? 'no campus with nodes of its own to run in'
      : n === 1
        ? `runs ${sizing.perCampus} in ${s.counted[0]} alone (one campus cannot survive its own loss)`
        : `spread over ${n} campuses (${s.counted.join(', ')}): ⌈${sizing.capacity}/${n - 1}⌉ = ${sizing.perCampus} each`;
  if (problems.length === 0) return { ok: true, reason: 'CampusesResolved', message: where };
  const reason =
    s.unknownCampuses.length > 0 || s.unknownInOrder.length > 0
      ? 'UnknownCampus'
      : 'CampusWithoutNodes';
  return { ok: false, reason, message: `${problems.join('; ')}; ${where}` };
}

const list = (xs: readonly string[]): string => xs.map((x) => `"${x}"`).join(', ');
const no = (xs: readonly string[]): string =>
  xs.length === 1 ? 'is not a Campus' : 'are not Campuses';
