// One scheduling cycle: snapshot + asks → decisions, deterministic (no
// randomness, no clock; every tie breaks by name). Online first, by business
// priority then creation order, each bound, held for, preempted for or
// refused with a reason; then the master revokes offline work sitting in room
// held for a shielded campus; then offline gangs, in DRF order, all or none.
import {
  type Ask,
  type Decision,
  defaultPolicy,
  type GangAsk,
  type OnlineAsk,
  type PendingPod,
  type Policy,
  type Resources,
  type ScheduleResult,
  type Snapshot,
} from './contract.ts';
import { DrfRound } from './drf.ts';
import { type CampusBook, Ledger } from './ledger.ts';
import { grants, offlinePool, refreshGrants, revokeForShielded } from './master.ts';
import { placeUnit } from './offline.ts';
import { onlinePod, pickSpread, placeOnline } from './online.ts';
import { describeVictims, preemptFor, rank } from './preemption.ts';
import { maxBelow, overMax, type QueueNode } from './queues.ts';
import {
  add,
  fitsIn,
  formatFraction,
  formatResources,
  plural,
  positive,
  shortDims,
  sub,
  sum,
  vec,
} from './resources.ts';

/** A cycle on a snapshot. */
export function schedule(
  snapshot: Snapshot,
  asks: readonly Ask[],
  policy: Policy = defaultPolicy,
): ScheduleResult {
  return cycle(new Ledger(snapshot), asks, policy);
}

/**
 * A cycle on books the caller keeps between cycles (the adapter's, updated by
 * assume/forget as pods come and go). Every bind, and every room held for a
 * nominated pod, is assumed in the ledger before this returns.
 */
export function cycle(
  ledger: Ledger,
  asks: readonly Ask[],
  policy: Policy = defaultPolicy,
): ScheduleResult {
  const decisions: Decision[] = [];
  const online = asks.filter((a): a is OnlineAsk => a.kind === 'online').sort(onlineOrder);
  for (const ask of online) decisions.push(decideOnline(ledger, ask, policy));
  refreshGrants(ledger, policy);
  for (const r of revokeForShielded(ledger)) decisions.push({ kind: 'revoke', ...r });
  decideOffline(
    ledger,
    asks.filter((a): a is GangAsk => a.kind === 'gang'),
    decisions,
  );
  return { decisions, grants: grants(ledger) };
}

const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

const onlineOrder = (a: OnlineAsk, b: OnlineAsk): number =>
  rank(b.businessPriority) - rank(a.businessPriority) ||
  a.created - b.created ||
  byName(a.pod, b.pod);

const gangOrder = (a: GangAsk, b: GangAsk): number =>
  b.priority - a.priority || a.created - b.created || byName(a.job, b.job);

const never = (ask: string, pods: readonly string[], reason: string): Decision => ({
  kind: 'never',
  ask,
  pods,
  reason,
});

const notNow = (ask: string, pods: readonly string[], reason: string): Decision => ({
  kind: 'unschedulable',
  ask,
  pods,
  reason,
});

// --- online -----------------------------------------------------------------

function decideOnline(ledger: Ledger, ask: OnlineAsk, policy: Policy): Decision {
  // a pending pod holds nothing: room an earlier cycle held for it is decided afresh
  ledger.forget(ask.pod);
  const c = ledger.campus(ask.campus);
  if (!c) {
    const known = ledger.campuses.map((k) => k.name).join(', ');
    return never(
      ask.pod,
      [ask.pod],
      `campus ${ask.campus} does not exist (campuses: ${known || 'none'})`,
    );
  }
  const tooBig = onlineTooBig(c, ask);
  if (tooBig) return never(ask.pod, [ask.pod], tooBig);
  if (c.shielded)
    return notNow(
      ask.pod,
      [ask.pod],
      `${c.name} is shielded: it takes no new pods until the shield lifts`,
    );
  const placed = placeOnline(ledger, ask);
  if (placed.kind === 'bound')
    return { kind: 'bind', pod: ask.pod, node: ledger.nodeName(placed.node) };
  const noNode = noNodeBigEnough(ledger, c.nodes, ask.requests, c.name);
  if (noNode) return never(ask.pod, [ask.pod], noNode);
  return waitForLeaving(ledger, c, ask) ?? preempt(ledger, c, ask, policy);
}

function onlineTooBig(c: CampusBook, ask: OnlineAsk): string | undefined {
  const req = ask.requests;
  if (c.nodes.length === 0) return `${c.name} has no nodes`;
  const big = shortDims(req, c.largest);
  if (big.length > 0)
    return `needs ${formatResources(req, big)}, but the largest node in ${c.name} has ${formatResources(c.largest, big)}`;
  const overCap = shortDims(req, c.onlineCap);
  if (overCap.length > 0)
    return (
      `needs ${formatResources(req, overCap)}, more than ${c.name}'s whole online ceiling ` +
      `(${formatFraction(c.ceiling)} of its allocatable: ${formatResources(c.onlineCap, overCap)})`
    );
  return undefined;
}

/** O(nodes), so only on the way to a "no". */
function noNodeBigEnough(
  ledger: Ledger,
  nodes: readonly number[],
  req: Resources,
  where: string,
): string | undefined {
  if (nodes.some((n) => ledger.couldHold(n, req))) return undefined;
  return `no single node in ${where} has ${formatResources(req)} allocatable`;
}

/**
 * When the pod fits once terminating pods are gone (the victims of an earlier
 * preemption, usually), it waits instead of preempting again, and its room is
 * held so that nothing else takes it meanwhile.
 */
function waitForLeaving(ledger: Ledger, c: CampusBook, ask: OnlineAsk): Decision | undefined {
  const req = ask.requests;
  if (!fitsIn(add(sub(c.online, c.leavingOnline), req), c.onlineCap)) return undefined;
  const node = pickSpread(
    ledger,
    ask,
    (n) => ledger.isOpen(n) && fitsIn(req, add(ledger.free(n), ledger.leaving(n))),
  );
  if (node === undefined) return undefined;
  const name = ledger.nodeName(node);
  const leavingHere = [...ledger.podsOn(node)].filter((e) => e.leaving).length;
  const reason = ledger.fits(node, req)
    ? `waiting for terminating online pods to leave room under ${c.name}'s online ceiling (${formatFraction(c.ceiling)}); room is held on ${name}`
    : `waiting for ${plural(leavingHere, 'terminating pod')} to leave ${name}; room there is held for this pod`;
  ledger.assume(onlinePod(ask, name));
  return { kind: 'unschedulable', ask: ask.pod, pods: [ask.pod], reason, nominatedNode: name };
}

function preempt(ledger: Ledger, c: CampusBook, ask: OnlineAsk, policy: Policy): Decision {
  const p = preemptFor(ledger, c, ask, policy);
  if (p.kind === 'preempt') {
    const node = ledger.nodeName(p.node);
    ledger.assume(onlinePod(ask, node)); // the room is this pod's while its victims leave
    const ceiling = p.atCeiling
      ? ` and ${c.name} is at its online ceiling (${formatFraction(c.ceiling)})`
      : '';
    return {
      kind: 'preempt',
      for: ask.pod,
      node,
      victims: p.victims.map((e) => e.pod.name),
      reason:
        `${ask.businessPriority} pod ${ask.pod} needs ${formatResources(ask.requests)} on ${node}` +
        `${ceiling}: evicting ${describeVictims(p.victims)}`,
    };
  }
  const reason =
    p.kind === 'ceiling' ? ceilingReason(c, ask, policy) : noRoomReason(ledger, c, ask, policy);
  return notNow(ask.pod, [ask.pod], reason);
}

function ceilingReason(c: CampusBook, ask: OnlineAsk, policy: Policy): string {
  const free = positive(sub(c.onlineCap, c.online));
  const short = shortDims(add(c.online, ask.requests), c.onlineCap);
  const tail = policy.preemptLowerOnline
    ? `, and no online pods of lower priority than ${ask.businessPriority} to preempt`
    : '';
  return (
    `${c.name} at online ceiling (${formatFraction(c.ceiling)}): ` +
    `needs ${formatResources(ask.requests, short)}, ${formatResources(free, short)} free${tail}`
  );
}

function noRoomReason(ledger: Ledger, c: CampusBook, ask: OnlineAsk, policy: Policy): string {
  const open = c.nodes.filter((n) => ledger.isOpen(n)).length;
  if (open === 0)
    return `${c.name} has no node taking new pods (${plural(c.nodes.length, 'node')} cordoned, not ready or tainted)`;
  const also = policy.preemptLowerOnline ? ' and online pods of lower priority' : '';
  return (
    `none of the ${plural(open, 'open node')} in ${c.name} has room for ` +
    `${formatResources(ask.requests)}, even after preempting offline pods${also}`
  );
}

// --- offline ----------------------------------------------------------------

interface GangState {
  readonly ask: GangAsk;
  readonly pods: readonly PendingPod[];
  next: number;
}

function decideOffline(ledger: Ledger, gangs: readonly GangAsk[], out: Decision[]): void {
  const byLeaf = new Map<QueueNode, GangState[]>();
  for (const ask of [...gangs].sort(gangOrder)) {
    const pods = [...ask.pods].sort((a, b) => byName(a.name, b.name));
    const names = pods.map((p) => p.name);
    const no = gangNever(ledger, ask, pods);
    if (no) {
      out.push(never(ask.job, names, no));
      continue;
    }
    const leaf = ledger.queues.get(ask.queue);
    if (!leaf) continue; // gangNever said why
    if (ask.campus !== undefined && ledger.campus(ask.campus)?.shielded) {
      out.push(
        notNow(
          ask.job,
          names,
          `${ask.campus} is shielded: it takes no new pods until the shield lifts`,
        ),
      );
      continue;
    }
    const list = byLeaf.get(leaf) ?? [];
    list.push({ ask, pods, next: 0 });
    byLeaf.set(leaf, list);
  }
  const round = new DrfRound(ledger.queues, offlinePool(ledger), byLeaf);
  for (let step = round.next(); step; step = round.next()) {
    if (!stepGang(ledger, step.leaf, step.item, out)) round.done(step.leaf);
  }
}

/** Places the gang's next unit; true while it has more to place this cycle. */
function stepGang(ledger: Ledger, leaf: QueueNode, st: GangState, out: Decision[]): boolean {
  const { ask } = st;
  const pending = st.pods.slice(st.next);
  if (pending.length === 0) return false;
  const names = pending.map((p) => p.name);
  const refuse = (reason: string, kind: 'unschedulable' | 'never' = 'unschedulable'): false => {
    out.push(kind === 'never' ? never(ask.job, names, reason) : notNow(ask.job, names, reason));
    return false;
  };
  const running = ledger.job(ask.job)?.running.size ?? 0;
  const take = Math.max(1, gangNeed(ask, running));
  if (take > pending.length)
    return refuse(
      `gang ${ask.job} needs ${ask.minMember} pods together; ${running} run and only ` +
        `${pending.length} are pending: waiting for the rest to be created`,
    );
  const members = pending.slice(0, take);
  const total = sum(members.map((m) => m.requests));
  const over = overMax(leaf, total);
  if (over) return refuse(maxReason(over, leaf, total, ask.job));
  const r = placeUnit(ledger, {
    job: ask.job,
    queue: ask.queue,
    priority: ask.priority,
    gangMin: ask.minMember,
    ...(ask.campus === undefined ? {} : { campus: ask.campus }),
    members,
  });
  if (r.kind === 'short') {
    const nodes = campusesFor(ledger, ask).flatMap((c) => c.nodes);
    const noNode = distinct(members.map((m) => m.requests))
      .map((req) => noNodeBigEnough(ledger, nodes, req, where(ask)))
      .find((x) => x !== undefined);
    return noNode ? refuse(noNode, 'never') : refuse(shortReason(ledger, ask, members, r.fit));
  }
  for (const b of r.binds) out.push({ kind: 'bind', pod: b.pod, node: b.node });
  st.next += take;
  return st.next < st.pods.length;
}

/** Requests without repeats: a gang's members are usually alike. */
function distinct(rs: readonly Resources[]): Resources[] {
  const seen = new Map<string, Resources>();
  for (const r of rs) seen.set(`${r.cpu}/${r.memory}/${r.pods}`, r);
  return [...seen.values()];
}

/** Members that must start together: the gang minimum less those running. */
const gangNeed = (ask: GangAsk, running: number): number =>
  ask.minMember >= 2 ? Math.max(0, ask.minMember - running) : 0;

const where = (ask: GangAsk): string => ask.campus ?? 'any campus';

/** The campuses a job may run in. */
const campusesFor = (ledger: Ledger, ask: GangAsk): readonly CampusBook[] =>
  ask.campus === undefined ? ledger.campuses : ledger.campuses.filter((c) => c.name === ask.campus);

function gangNever(ledger: Ledger, ask: GangAsk, pods: readonly PendingPod[]): string | undefined {
  const problem = ledger.queues.problem(ask.queue);
  if (problem) return problem;
  const campuses = campusesFor(ledger, ask);
  if (campuses.length === 0) return `campus ${ask.campus ?? ''} does not exist`;
  const largest = vec();
  const alloc = vec();
  for (const c of campuses) {
    largest.cpu = Math.max(largest.cpu, c.largest.cpu);
    largest.memory = Math.max(largest.memory, c.largest.memory);
    largest.pods = Math.max(largest.pods, c.largest.pods);
    alloc.cpu += c.alloc.cpu;
    alloc.memory += c.alloc.memory;
    alloc.pods += c.alloc.pods;
  }
  for (const p of pods) {
    const big = shortDims(p.requests, largest);
    if (big.length > 0)
      return `pod ${p.name} needs ${formatResources(p.requests, big)}, but the largest node in ${where(ask)} has ${formatResources(largest, big)}`;
  }
  const need = gangNeed(ask, ledger.job(ask.job)?.running.size ?? 0);
  if (need < 2) return undefined;
  const gang = sum(pods.slice(0, need).map((p) => p.requests));
  const tooBig = shortDims(gang, alloc);
  if (tooBig.length > 0)
    return `gang ${ask.job} needs ${need} pods together (${formatResources(gang, tooBig)}), more than ${where(ask)} has in all (${formatResources(alloc, tooBig)})`;
  const leaf = ledger.queues.get(ask.queue);
  const capped = leaf && maxBelow(leaf, gang);
  if (capped) {
    const dims = shortDims(gang, capped.max);
    return `gang ${ask.job} needs ${need} pods together (${formatResources(gang, dims)}), more than queue ${capped.name}'s maximum (${formatResources(capped.max, dims)})`;
  }
  return undefined;
}

function maxReason(over: QueueNode, leaf: QueueNode, total: Resources, job: string): string {
  const who = over === leaf ? `queue ${leaf.name}` : `queue ${over.name} (above ${leaf.name})`;
  const dims = shortDims(add(over.used, total), over.max);
  return (
    `${who} is at its maximum: it uses ${formatResources(over.used, dims)} of ` +
    `${formatResources(over.max, dims)}, and ${job} needs ${formatResources(total, dims)} more`
  );
}

function shortReason(
  ledger: Ledger,
  ask: GangAsk,
  members: readonly PendingPod[],
  fit: number,
): string {
  const open = ledger.openCampuses().filter((c) => ask.campus === undefined || c === ask.campus);
  const room = sum(open.map((c) => ledger.headroom(c, 'offline')));
  const left = `offline may still use ${formatResources(room)} in ${open.join(', ') || 'no campus'}`;
  const first = members[0];
  if (members.length === 1 && first)
    return `pod ${first.name} needs ${formatResources(first.requests)}, and no node has that much room within the offline grant (${left})`;
  const same = members.every(
    (m) =>
      first && m.requests.cpu === first.requests.cpu && m.requests.memory === first.requests.memory,
  );
  const size =
    same && first
      ? `${formatResources(first.requests)} each`
      : `${formatResources(sum(members.map((m) => m.requests)))} in all`;
  return (
    `gang ${ask.job} needs ${members.length} pods at once (${size}); only ${fit} of ` +
    `${members.length} fit within the offline grant, so none is placed (${left})`
  );
}
