// Small builders for tests and the benchmark (STYLE.md §7):
//   node('a-1').campus('campus-a').cpu(32)
//   pod('web-1').online('message').requests({ cpu: '500m' }).on('a-1')
//   gang('train').queue('research').members(5, { cpu: '2' }).min(5)
// and `step`, which carries out a cycle's decisions on a snapshot the way the
// adapter would, so that tests step the scheduler by hand.
import type {
  Ask,
  BusinessPriority,
  Campus,
  Decision,
  GangAsk,
  NodeInfo,
  OfflineQueue,
  OnlineAsk,
  PlacedPod,
  Resources,
  Snapshot,
} from './contract.ts';
import { onlinePod } from './online.ts';
// test builders read quantities as the adapter does; decision code never does
import { bytes as parseMemory, milliCpu as parseCpu } from '../../runtime/quantity.ts';

type Quantity = string | number;
type Requests = { cpu?: Quantity; memory?: Quantity };

/** A request as the API writes it; pods defaults to 1, one pod slot per pod. */
export function requests(r: Requests & { pods?: number }): Resources {
  return {
    cpu: r.cpu === undefined ? 0 : parseCpu(r.cpu),
    memory: r.memory === undefined ? 0 : parseMemory(r.memory),
    pods: r.pods ?? 1,
  };
}

export class NodeBuilder {
  private spec: { -readonly [K in keyof NodeInfo]: NodeInfo[K] };
  constructor(name: string) {
    this.spec = {
      name,
      campus: 'campus-a',
      allocatable: { cpu: parseCpu(32), memory: parseMemory('128Gi'), pods: 110 },
      schedulable: true,
      tainted: false,
    };
  }
  campus(c: string): this {
    this.spec.campus = c;
    return this;
  }
  cpu(q: Quantity): this {
    this.spec.allocatable = { ...this.spec.allocatable, cpu: parseCpu(q) };
    return this;
  }
  memory(q: Quantity): this {
    this.spec.allocatable = { ...this.spec.allocatable, memory: parseMemory(q) };
    return this;
  }
  pods(n: number): this {
    this.spec.allocatable = { ...this.spec.allocatable, pods: n };
    return this;
  }
  cordoned(): this {
    this.spec.schedulable = false;
    return this;
  }
  tainted(): this {
    this.spec.tainted = true;
    return this;
  }
  build(): NodeInfo {
    return { ...this.spec };
  }
}

export const node = (name: string): NodeBuilder => new NodeBuilder(name);

/** `count` nodes named `<prefix>-1…`, in one campus, of one shape. */
export function nodes(
  prefix: string,
  count: number,
  campus: string,
  shape: Requests = {},
): NodeBuilder[] {
  return Array.from({ length: count }, (_, i) => {
    const b = node(`${prefix}-${i + 1}`).campus(campus);
    if (shape.cpu !== undefined) b.cpu(shape.cpu);
    if (shape.memory !== undefined) b.memory(shape.memory);
    return b;
  });
}

/** One builder for placed pods (`on`) and online asks (`ask`). */
export class PodBuilder {
  private readonly name: string;
  private framework: 'online' | 'offline' = 'online';
  private prio: BusinessPriority = 'message';
  private svc: string;
  private q = 'default';
  private jobName: string;
  private jobPriority = 0;
  private done = 0;
  private gangMin = 0;
  private req: Resources = requests({});
  private campusName = 'campus-a';
  private createdAt = 0;
  private leaving = false;
  private nominated: string | undefined;

  constructor(name: string) {
    this.name = name;
    // "web-3" belongs to service (or job) "web" unless told otherwise
    this.svc = name.replace(/-\d+$/, '');
    this.jobName = this.svc;
  }
  online(p: BusinessPriority = 'message'): this {
    this.framework = 'online';
    this.prio = p;
    return this;
  }
  service(s: string): this {
    this.svc = s;
    return this;
  }
  offline(queue = 'default'): this {
    this.framework = 'offline';
    this.q = queue;
    return this;
  }
  job(j: string): this {
    this.jobName = j;
    return this;
  }
  priority(p: number): this {
    this.jobPriority = p;
    return this;
  }
  progress(p: number): this {
    this.done = p;
    return this;
  }
  gang(min: number): this {
    this.gangMin = min;
    return this;
  }
  requests(r: Requests): this {
    this.req = requests(r);
    return this;
  }
  campus(c: string): this {
    this.campusName = c;
    return this;
  }
  created(t: number): this {
    this.createdAt = t;
    return this;
  }
  terminating(): this {
    this.leaving = true;
    return this;
  }
  nominatedOn(n: string): this {
    this.nominated = n;
    return this;
  }
  /** The pod bound to `node`. */
  on(node: string): PlacedPod {
    const base = {
      name: this.name,
      node,
      requests: this.req,
      ...(this.leaving ? { terminating: true } : {}),
    };
    return this.framework === 'online'
      ? { ...base, framework: 'online', service: this.svc, businessPriority: this.prio }
      : {
          ...base,
          framework: 'offline',
          job: this.jobName,
          queue: this.q,
          priority: this.jobPriority,
          progress: this.done,
          gangMin: this.gangMin,
        };
  }
  /** The pod pending, as an online ask. */
  ask(): OnlineAsk {
    return {
      kind: 'online',
      pod: this.name,
      service: this.svc,
      campus: this.campusName,
      businessPriority: this.prio,
      requests: this.req,
      created: this.createdAt,
      ...(this.nominated === undefined ? {} : { nominatedNode: this.nominated }),
    };
  }
}

export const pod = (name: string): PodBuilder => new PodBuilder(name);

export class GangBuilder {
  private readonly job: string;
  private q = 'default';
  private prio = 0;
  private gangMin = 0;
  private count = 1;
  private req: Resources = requests({});
  private createdAt = 0;
  private campusName: string | undefined;
  constructor(job: string) {
    this.job = job;
  }
  queue(q: string): this {
    this.q = q;
    return this;
  }
  priority(p: number): this {
    this.prio = p;
    return this;
  }
  /** `count` pods named `<job>-0…` of one shape. */
  members(count: number, r: Requests = {}): this {
    this.count = count;
    this.req = requests(r);
    return this;
  }
  min(m: number): this {
    this.gangMin = m;
    return this;
  }
  created(t: number): this {
    this.createdAt = t;
    return this;
  }
  campus(c: string): this {
    this.campusName = c;
    return this;
  }
  build(): GangAsk {
    return {
      kind: 'gang',
      job: this.job,
      queue: this.q,
      priority: this.prio,
      minMember: this.gangMin,
      pods: Array.from({ length: this.count }, (_, i) => ({
        name: `${this.job}-${i}`,
        requests: this.req,
      })),
      created: this.createdAt,
      ...(this.campusName === undefined ? {} : { campus: this.campusName }),
    };
  }
}

export const gang = (job: string): GangBuilder => new GangBuilder(job);

const partial = (r: Requests): Partial<Resources> => ({
  ...(r.cpu === undefined ? {} : { cpu: parseCpu(r.cpu) }),
  ...(r.memory === undefined ? {} : { memory: parseMemory(r.memory) }),
});

export class QueueBuilder {
  private spec: { -readonly [K in keyof OfflineQueue]: OfflineQueue[K] };
  constructor(name: string) {
    this.spec = { name };
  }
  parent(p: string): this {
    this.spec.parent = p;
    return this;
  }
  weight(w: number): this {
    this.spec.weight = w;
    return this;
  }
  guaranteed(r: Requests): this {
    this.spec.guaranteed = partial(r);
    return this;
  }
  max(r: Requests): this {
    this.spec.max = partial(r);
    return this;
  }
  build(): OfflineQueue {
    return { ...this.spec };
  }
}

export const queue = (name: string): QueueBuilder => new QueueBuilder(name);

export class CampusBuilder {
  private spec: { -readonly [K in keyof Campus]: Campus[K] };
  constructor(name: string) {
    this.spec = { name, shielded: false };
  }
  ceiling(f: number): this {
    this.spec.onlineCeiling = f;
    return this;
  }
  shielded(on = true): this {
    this.spec.shielded = on;
    return this;
  }
  build(): Campus {
    return { ...this.spec };
  }
}

export const campus = (name: string): CampusBuilder => new CampusBuilder(name);

type Built<T> = T | { build(): T };
const built = <T>(x: Built<T>): T =>
  typeof x === 'object' && x !== null && 'build' in x && typeof x.build === 'function'
    ? x.build()
    : (x as T);

/** A snapshot from builders; campuses default to the campuses the nodes name. */
export function snapshot(parts: {
  campuses?: readonly Built<Campus>[];
  nodes?: readonly Built<NodeInfo>[];
  pods?: readonly PlacedPod[];
  queues?: readonly Built<OfflineQueue>[];
}): Snapshot {
  const ns = (parts.nodes ?? []).map(built);
  const campuses =
    parts.campuses?.map(built) ??
    [...new Set(ns.map((n) => n.campus))].map((name) => ({ name, shielded: false }));
  return {
    campuses,
    nodes: ns,
    pods: parts.pods ?? [],
    queues: (parts.queues ?? [queue('default')]).map(built),
  };
}

export const gangs = (...bs: Built<GangAsk>[]): GangAsk[] => bs.map(built);

/**
 * Carries out decisions as the adapter would: binds become placed pods,
 * victims become terminating, a preempted-for pod keeps its nominated node,
 * and what was not bound stays pending. `settle` then lets terminating pods go.
 */
export function step(
  world: Snapshot,
  asks: readonly Ask[],
  decisions: readonly Decision[],
): { world: Snapshot; pending: Ask[] } {
  const bound = new Map<string, string>();
  const leaving = new Set<string>();
  const nominated = new Map<string, string>();
  for (const d of decisions) {
    if (d.kind === 'bind') bound.set(d.pod, d.node);
    if (d.kind === 'preempt' || d.kind === 'revoke') for (const v of d.victims) leaving.add(v);
    if (d.kind === 'preempt') nominated.set(d.for, d.node);
    if (d.kind === 'unschedulable' && d.nominatedNode !== undefined)
      nominated.set(d.ask, d.nominatedNode);
  }
  const pods: PlacedPod[] = world.pods.map((p) =>
    leaving.has(p.name) ? { ...p, terminating: true } : p,
  );
  const pending: Ask[] = [];
  for (const a of asks) {
    const left =
      a.kind === 'online' ? stepOnline(a, bound, nominated, pods) : stepGang(a, bound, pods);
    if (left) pending.push(left);
  }
  return { world: { ...world, pods }, pending };
}

function stepOnline(
  a: OnlineAsk,
  bound: ReadonlyMap<string, string>,
  nominated: ReadonlyMap<string, string>,
  pods: PlacedPod[],
): Ask | undefined {
  const n = bound.get(a.pod);
  if (n !== undefined) {
    pods.push(onlinePod(a, n));
    return undefined;
  }
  const nom = nominated.get(a.pod);
  return nom === undefined ? a : { ...a, nominatedNode: nom };
}

function stepGang(
  a: GangAsk,
  bound: ReadonlyMap<string, string>,
  pods: PlacedPod[],
): Ask | undefined {
  for (const p of a.pods) {
    const node = bound.get(p.name);
    if (node === undefined) continue;
    pods.push({
      framework: 'offline',
      name: p.name,
      node,
      requests: p.requests,
      job: a.job,
      queue: a.queue,
      priority: a.priority,
      progress: 0,
      gangMin: a.minMember,
    });
  }
  const left = a.pods.filter((p) => !bound.has(p.name));
  return left.length > 0 ? { ...a, pods: left } : undefined;
}

/** Terminating pods finish leaving. */
export const settle = (world: Snapshot): Snapshot => ({
  ...world,
  pods: world.pods.filter((p) => p.terminating !== true),
});

/** Decisions of one kind, narrowed. */
export function only<K extends Decision['kind']>(
  decisions: readonly Decision[],
  kind: K,
): Extract<Decision, { kind: K }>[] {
  return decisions.filter((d): d is Extract<Decision, { kind: K }> => d.kind === kind);
}

/** The node each bound pod went to. */
export const bindings = (decisions: readonly Decision[]): Record<string, string> =>
  Object.fromEntries(only(decisions, 'bind').map((d) => [d.pod, d.node]));

/** A seeded PRNG (mulberry32) for property-style tests: the same seed, the same worlds. */
export function prng(seed: number): {
  next(): number;
  int(lo: number, hi: number): number;
  pick<T>(xs: readonly T[]): T;
} {
  let s = seed >>> 0;
  const next = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (lo: number, hi: number): number => lo + Math.floor(next() * (hi - lo + 1));
  return {
    next,
    int,
    pick: <T>(xs: readonly T[]): T => {
      const x = xs[int(0, xs.length - 1)];
      if (x === undefined) throw new RangeError('pick from an empty list');
      return x;
    },
  };
}
