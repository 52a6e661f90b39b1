// Level 1: whom to evict when online needs capacity back. The adapter evicts;
// this only chooses, and marks the victims leaving in the ledger so that no
// later decision of the cycle counts on their room twice.
//
// Victims come in units. A pod is a unit of its own, except that a gang's
// members beyond its minimum are the only ones that may go one by one: taking
// one more would break the gang, and a broken gang only wastes its nodes, so
// the rest of the gang (on every node) is then one unit, all or nothing.
//
// Cheapest first, in this order: offline before online (online pods only of
// strictly lower business priority than the pod that asks, and only when the
// policy allows it); the lowest priority within its queue; the least progress
// lost; the fewest pods. On a node, the set is drawn from the lowest priority
// level that can cover the need at all, then by two greedy passes (least
// progress first, biggest first) that each drop what they did not need; the
// cheaper of the two wins. Across nodes, the cheapest set wins, ties by name
// order; a campus of more than 100 nodes is searched until 100 (or 10%) nodes
// could be cleared, as kube-scheduler does, not to its end.
import {
  businessPriorities,
  type BusinessPriority,
  type OnlineAsk,
  type Policy,
  type Resources,
} from './contract.ts';
import type { CampusBook, Entry, JobBook, Ledger } from './ledger.ts';
import {
  add,
  addInto,
  isZero,
  list,
  plural,
  positive,
  sub,
  vec,
  type MutableResources,
} from './resources.ts';

/** payment 3, message 2, groupchat 1, moments 0. */
export const rank = (p: BusinessPriority): number =>
  businessPriorities.length - 1 - businessPriorities.indexOf(p);

interface Unit {
  readonly entries: readonly Entry[];
  /** What evicting the unit gives back where it is needed. */
  readonly frees: MutableResources;
  /** 0 offline; 1 + business rank online. */
  readonly tier: number;
  readonly priority: number;
  readonly progress: number;
  readonly job: string | undefined;
  readonly whole: boolean;
  readonly name: string;
}

interface Cost {
  readonly tier: number;
  readonly priority: number;
  readonly progress: number;
  readonly victims: number;
}

const compareUnits = (a: Unit, b: Unit): number =>
  a.tier - b.tier ||
  a.priority - b.priority ||
  a.progress - b.progress ||
  a.entries.length - b.entries.length ||
  (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

function costOf(units: readonly Unit[]): Cost {
  let tier = -1;
  let priority = -Infinity;
  let progress = 0;
  let victims = 0;
  for (const u of units) {
    tier = Math.max(tier, u.tier);
    if (u.tier === 0) priority = Math.max(priority, u.priority);
    progress += u.progress;
    victims += u.entries.length;
  }
  return { tier, priority, progress, victims };
}

const compareCost = (a: Cost, b: Cost): number =>
  a.tier - b.tier || a.priority - b.priority || a.progress - b.progress || a.victims - b.victims;

const covers = (got: Resources, need: Resources): boolean =>
  (need.cpu <= 0 || got.cpu >= need.cpu) &&
  (need.memory <= 0 || got.memory >= need.memory) &&
  (need.pods <= 0 || got.pods >= need.pods);

const helps = (frees: Resources, got: Resources, need: Resources): boolean =>
  (frees.cpu > 0 && got.cpu < need.cpu) ||
  (frees.memory > 0 && got.memory < need.memory) ||
  (frees.pods > 0 && got.pods < need.pods);

/**
 * The cheapest set of units that covers `need`, or undefined when all of them
 * together do not (with `partial`, everything that helps instead). First the
 * lowest level — (tier, priority) — whose units, with all cheaper ones, can
 * cover the need at all; then, within it, the least progress lost and the
 * fewest pods, by two greedy passes (least progress first; biggest first)
 * that each drop what they turn out not to need.
 */
function select(units: readonly Unit[], need: Resources, partial = false): Unit[] | undefined {
  const sorted = [...units].sort(compareLevel);
  for (let i = 0; i < sorted.length; i++) {
    const u = sorted[i];
    const next = sorted[i + 1];
    if (u && next && compareLevel(u, next) === 0) continue;
    const best = cheapestCover(sorted.slice(0, i + 1), need);
    if (best) return best;
  }
  // not enough even with everything: all that helps, cheapest first
  return partial ? greedy(sorted, need, true) : undefined;
}

function cheapestCover(units: readonly Unit[], need: Resources): Unit[] | undefined {
  const size = (u: Unit): number => coverage(u.frees, need);
  const byProgress = [...units].sort(
    (a, b) => a.progress - b.progress || size(b) - size(a) || compareUnits(a, b),
  );
  const bySize = [...units].sort(
    (a, b) => size(b) - size(a) || a.progress - b.progress || compareUnits(a, b),
  );
  let best: Unit[] | undefined;
  for (const order of [byProgress, bySize]) {
    const taken = greedy(order, need);
    if (taken && (!best || compareSpend(costOf(taken), costOf(best)) < 0)) best = taken;
  }
  return best;
}

const compareLevel = (a: Unit, b: Unit): number => a.tier - b.tier || a.priority - b.priority;

const compareSpend = (a: Cost, b: Cost): number => a.progress - b.progress || a.victims - b.victims;

/** How much of `need` the unit covers, summed over the needed dimensions. */
function coverage(frees: Resources, need: Resources): number {
  let c = 0;
  if (need.cpu > 0) c += Math.min(1, frees.cpu / need.cpu);
  if (need.memory > 0) c += Math.min(1, frees.memory / need.memory);
  if (need.pods > 0) c += Math.min(1, frees.pods / need.pods);
  return c;
}

/**
 * Takes units in order until `need` is covered, then drops what it did not
 * need, dearest first. Short of the need: undefined, or with `partial` what
 * it took.
 */
function greedy(order: readonly Unit[], need: Resources, partial = false): Unit[] | undefined {
  let taken: Unit[] = [];
  const got = vec();
  const wholeJobs = new Set<string>();
  for (const u of order) {
    if (covers(got, need)) break;
    if ((u.job !== undefined && wholeJobs.has(u.job)) || !helps(u.frees, got, need)) continue;
    if (u.whole && u.job !== undefined) {
      // the whole gang includes the members already taken one by one
      const job = u.job;
      for (const t of taken) if (t.job === job) addInto(got, t.frees, -1);
      taken = taken.filter((t) => t.job !== job);
      wholeJobs.add(job);
    }
    taken.push(u);
    addInto(got, u.frees);
  }
  if (!covers(got, need)) return partial ? taken : undefined;
  return prune(taken, got, need);
}

/** Drops, dearest first, the units that `need` is covered without. */
function prune(taken: readonly Unit[], got: MutableResources, need: Resources): Unit[] {
  const kept = [...taken];
  for (let i = kept.length - 1; i >= 0; i--) {
    const t = kept[i];
    if (t && covers(sub(got, t.frees), need)) {
      addInto(got, t.frees, -1);
      kept.splice(i, 1);
    }
  }
  return kept;
}

/** Offline units among `entries`; `inScope` says where freed room counts. */
function offlineUnits(
  ledger: Ledger,
  entries: Iterable<Entry>,
  inScope: (e: Entry) => boolean,
): Unit[] {
  const byJob = new Map<string, Entry[]>();
  for (const e of entries) {
    if (e.leaving || e.pod.framework !== 'offline') continue;
    const list = byJob.get(e.pod.job);
    if (list) list.push(e);
    else byJob.set(e.pod.job, [e]);
  }
  const units: Unit[] = [];
  for (const [job, es] of byJob) {
    es.sort((a, b) => progressOf(a) - progressOf(b) || (a.pod.name < b.pod.name ? -1 : 1));
    const book = ledger.job(job);
    const min = book?.min ?? 0;
    // members beyond the gang minimum may go one by one; the rest only together
    const spare = book && min >= 2 ? Math.max(0, book.running.size - min) : es.length;
    for (const e of es.slice(0, spare)) units.push(single(e, 0, priorityOf(e)));
    if (book && es.length > spare) units.push(wholeGang(ledger, book, inScope));
  }
  return units;
}

function wholeGang(ledger: Ledger, book: JobBook, inScope: (e: Entry) => boolean): Unit {
  const all = [...book.running]
    .map((name) => ledger.entry(name))
    .filter((e): e is Entry => e !== undefined);
  const frees = vec();
  for (const e of all) if (inScope(e)) addInto(frees, e.pod.requests);
  return {
    entries: all,
    frees,
    tier: 0,
    priority: Math.max(...all.map(priorityOf)),
    progress: all.reduce((s, e) => s + progressOf(e), 0),
    job: book.name,
    whole: true,
    name: book.name,
  };
}

/** Online pods of strictly lower business priority than `below`. */
function onlineUnits(entries: Iterable<Entry>, below: number): Unit[] {
  const units: Unit[] = [];
  for (const e of entries) {
    if (e.leaving || e.pod.framework !== 'online') continue;
    const r = rank(e.pod.businessPriority);
    if (r < below) units.push(single(e, 1 + r, 0));
  }
  return units;
}

const single = (e: Entry, tier: number, priority: number): Unit => ({
  entries: [e],
  frees: { ...e.pod.requests },
  tier,
  priority,
  progress: progressOf(e),
  job: undefined,
  whole: false,
  name: e.pod.name,
});

const progressOf = (e: Entry): number => (e.pod.framework === 'offline' ? e.pod.progress : 0);
const priorityOf = (e: Entry): number => (e.pod.framework === 'offline' ? e.pod.priority : 0);

function* campusEntries(ledger: Ledger, c: CampusBook): Generator<Entry> {
  for (const n of c.nodes) yield* ledger.podsOn(n);
}

function victimsOf(units: readonly Unit[]): Entry[] {
  const seen = new Map<string, Entry>();
  for (const u of units) for (const e of u.entries) seen.set(e.pod.name, e);
  // name order, so the decision does not depend on the order pods were listed in
  return [...seen.values()].sort((a, b) => (a.pod.name < b.pod.name ? -1 : 1));
}

function markLeaving(ledger: Ledger, entries: readonly Entry[]): void {
  for (const e of entries) ledger.markLeaving(e.pod.name);
}

export type Preemption =
  | {
      readonly kind: 'preempt';
      readonly node: number;
      readonly victims: readonly Entry[];
      readonly atCeiling: boolean;
    }
  /** The campus's online ceiling stays in the way. */
  | { readonly kind: 'ceiling' }
  /** No node can be cleared enough. */
  | { readonly kind: 'node' };

/**
 * Victims that make room for an online pod in its campus: first under the
 * online ceiling (only lower-priority online pods can give that back), then on
 * one node. On success the victims are marked leaving.
 */
export function preemptFor(
  ledger: Ledger,
  c: CampusBook,
  ask: OnlineAsk,
  policy: Policy,
): Preemption {
  const below = rank(ask.businessPriority);
  const ceilingNeed = positive(sub(add(sub(c.online, c.leavingOnline), ask.requests), c.onlineCap));
  let ceilingVictims: Entry[] = [];
  if (!isZero(ceilingNeed)) {
    if (!policy.preemptLowerOnline) return { kind: 'ceiling' };
    const chosen = select(onlineUnits(campusEntries(ledger, c), below), ceilingNeed);
    if (!chosen) return { kind: 'ceiling' };
    ceilingVictims = victimsOf(chosen);
    markLeaving(ledger, ceilingVictims);
  }
  const best = cheapestNode(ledger, c, ask.requests, below, policy);
  if (!best) {
    for (const e of ceilingVictims) ledger.unmarkLeaving(e.pod.name);
    return { kind: 'node' };
  }
  const nodeVictims = victimsOf(best.units);
  markLeaving(ledger, nodeVictims);
  return {
    kind: 'preempt',
    node: best.node,
    victims: [...ceilingVictims, ...nodeVictims],
    atCeiling: ceilingVictims.length > 0,
  };
}

/**
 * In a big campus, stop after this many nodes that could be cleared, as
 * kube-scheduler's DefaultPreemption does (10%, at least 100): the cheapest
 * among them, not among all, so that a surge costs O(candidates) per pod.
 * Smaller campuses are searched whole.
 */
const candidateLimit = (nodes: number): number => Math.max(100, Math.ceil(nodes / 10));

interface NodeChoice {
  readonly node: number;
  readonly units: readonly Unit[];
  readonly cost: Cost;
}

/** The node whose victims are cheapest, with them. */
function cheapestNode(
  ledger: Ledger,
  c: CampusBook,
  req: Resources,
  below: number,
  policy: Policy,
): NodeChoice | undefined {
  const count = c.nodes.length;
  const limit = candidateLimit(count);
  // a capped search starts where the last one stopped, so that one corner of
  // the campus does not take every preemption
  const start = count > limit ? c.preemptFrom % count : 0;
  let best: NodeChoice | undefined;
  let feasible = 0;
  let k = 0;
  const floor = lazy(() => lowestOfflinePriority(ledger, c));
  for (; k < count && feasible < limit; k++) {
    const n = c.nodes[(start + k) % count];
    if (n === undefined || !ledger.isOpen(n)) continue;
    const choice = clearNode(ledger, n, req, below, policy, best?.cost);
    if (!choice) continue;
    feasible++;
    if (best && (compareCost(choice.cost, best.cost) || n - best.node) >= 0) continue;
    best = choice;
    if (unbeatable(choice.cost, floor)) {
      k++;
      break;
    }
  }
  if (count > limit) c.preemptFrom = (start + k) % count;
  return best;
}

/** The cheapest victims on one node, unless it cannot beat `bound`. */
function clearNode(
  ledger: Ledger,
  n: number,
  req: Resources,
  below: number,
  policy: Policy,
  bound: Cost | undefined,
): NodeChoice | undefined {
  const need = positive(sub(req, add(ledger.free(n), ledger.leaving(n))));
  // room already (the ceiling victims were here): nothing more to evict
  if (isZero(need)) return { node: n, units: [], cost: costOf([]) };
  if (!mayCover(ledger, n, need, below, policy, bound)) return undefined;
  const units = select(unitsOn(ledger, n, below, policy), need);
  return units && { node: n, units, cost: costOf(units) };
}

/** Nothing, or one victim of the lowest priority there is with no progress lost, cannot be beaten. */
const unbeatable = (cost: Cost, floor: () => number): boolean =>
  cost.victims === 0 ||
  (cost.tier === 0 && cost.victims === 1 && cost.progress === 0 && cost.priority <= floor());

function lazy<T>(f: () => T): () => T {
  let value: { v: T } | undefined;
  return () => (value ??= { v: f() }).v;
}

function unitsOn(ledger: Ledger, n: number, below: number, policy: Policy): Unit[] {
  const here = ledger.podsOn(n);
  const units = offlineUnits(ledger, here, (e) => e.node === n);
  if (policy.preemptLowerOnline) units.push(...onlineUnits(here, below));
  return units;
}

/**
 * Whether the node's candidates could cover `need` at all, counting only
 * those no dearer than the best found so far: an optimistic bound, in one
 * pass without allocation, that spares most nodes the full selection.
 */
function mayCover(
  ledger: Ledger,
  n: number,
  need: Resources,
  below: number,
  policy: Policy,
  best: Cost | undefined,
): boolean {
  let cpu = 0;
  let memory = 0;
  let pods = 0;
  for (const e of ledger.podsOn(n)) {
    if (e.leaving) continue;
    const p = e.pod;
    let tier = 0;
    let priority = 0;
    if (p.framework === 'offline') priority = p.priority;
    else {
      const r = rank(p.businessPriority);
      if (!policy.preemptLowerOnline || r >= below) continue;
      tier = 1 + r;
    }
    if (best && (tier > best.tier || (tier === best.tier && priority > best.priority))) continue;
    cpu += p.requests.cpu;
    memory += p.requests.memory;
    pods += p.requests.pods;
  }
  return covers({ cpu, memory, pods }, need);
}

function lowestOfflinePriority(ledger: Ledger, c: CampusBook): number {
  let low = Infinity;
  for (const n of c.nodes)
    for (const e of ledger.podsOn(n))
      if (!e.leaving && e.pod.framework === 'offline') low = Math.min(low, e.pod.priority);
  return low;
}

/**
 * Offline victims in a campus that give back `over`, cheapest first; all of
 * them that help when even all are not enough. Marks them leaving.
 */
export function revokeOffline(ledger: Ledger, c: CampusBook, over: Resources): Entry[] {
  const units = offlineUnits(ledger, campusEntries(ledger, c), (e) => e.campus === c);
  const victims = victimsOf(select(units, over, true) ?? []);
  markLeaving(ledger, victims);
  return victims;
}

/** "3 pods of job train (queue batch) and 1 moments pod of service feed". */
export function describeVictims(victims: readonly Entry[]): string {
  const groups = new Map<string, number>();
  for (const e of victims) {
    const p = e.pod;
    const key =
      p.framework === 'offline'
        ? `of job ${p.job} (queue ${p.queue}, priority ${p.priority})`
        : `of ${p.businessPriority} service ${p.service}`;
    groups.set(key, (groups.get(key) ?? 0) + 1);
  }
  return list([...groups].map(([key, n]) => `${plural(n, 'pod')} ${key}`));
}
