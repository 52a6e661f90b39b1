// Level 1: the books. Per node, per campus, per queue, per job and per service,
// what is allocatable and what bound (or assumed) pods request. Built once from
// a snapshot, then kept current by assume / forget / markLeaving, each O(1)
// (plus the queue's depth), so no decision ever rebuilds a sum. Frameworks see
// it only through the Offer of the contract.
import type {
  Campus,
  Framework,
  NodeInfo,
  Offer,
  PlacedPod,
  Resources,
  Snapshot,
} from './contract.ts';
import { QueueTree } from './queues.ts';
import { addInto, type MutableResources, positive, scale, sub, vec } from './resources.ts';

export interface CampusBook {
  readonly name: string;
  readonly shielded: boolean;
  /** The ceiling configured (or defaulted), as a fraction. */
  readonly configuredCeiling: number;
  /** The ceiling in force: raised while other campuses are shielded. */
  readonly ceiling: number;
  /** Node indices, in name order. */
  readonly nodes: number[];
  readonly alloc: MutableResources;
  /** Per dimension, the largest allocatable of any node here. */
  readonly largest: MutableResources;
  readonly onlineCap: MutableResources;
  /** Requests of online pods here, terminating and nominated ones included. */
  readonly online: MutableResources;
  readonly offline: MutableResources;
  /** Of which terminating: they hold their nodes until they are gone. */
  readonly leavingOnline: MutableResources;
  readonly leavingOffline: MutableResources;
  /** Set by the master each cycle: all that offline may hold here. */
  offlineGrant: MutableResources;
  /** Set by the master: room held for the online load of shielded campuses. */
  reserve: MutableResources;
  /** Where the next capped preemption search starts (see preemption.ts). */
  preemptFrom: number;
}

export interface Entry {
  readonly pod: PlacedPod;
  readonly node: number;
  readonly campus: CampusBook;
  leaving: boolean;
}

export interface JobBook {
  readonly name: string;
  readonly queue: string;
  priority: number;
  /** The gang minimum; 0 or 1 for no gang. */
  min: number;
  /** Pods running and not leaving. */
  readonly running: Set<string>;
  /** Requests of those pods. */
  readonly used: MutableResources;
  /** Pods of the job in the books, leaving ones included. */
  total: number;
}

/** The default ceiling, (N−1)/N; one campus alone has nowhere to fail over to, so it may use all. */
export const defaultCeiling = (campuses: number): number =>
  campuses <= 1 ? 1 : (campuses - 1) / campuses;

/**
 * The ceiling in force. The headroom a campus keeps exists for the load of a
 * lost one: with k of N shielded, each other campus takes N/(N−k) times its
 * load, so its ceiling rises by the same factor (2/3 → 1 with one of three).
 */
export function effectiveCeiling(configured: number, campuses: number, shielded: number): number {
  if (shielded <= 0 || shielded >= campuses) return configured;
  return Math.min(1, (configured * campuses) / (campuses - shielded));
}

export class Ledger implements Offer {
  readonly nodes: readonly NodeInfo[];
  readonly campuses: readonly CampusBook[];
  readonly queues: QueueTree;
  private readonly nodeIndex = new Map<string, number>();
  private readonly campusByName = new Map<string, CampusBook>();
  private readonly nodeCampus: CampusBook[];
  private readonly open: Uint8Array;
  private readonly allocCpu: Float64Array;
  private readonly allocMem: Float64Array;
  private readonly allocPods: Float64Array;
  private readonly usedCpu: Float64Array;
  private readonly usedMem: Float64Array;
  private readonly usedPods: Float64Array;
  private readonly leavingCpu: Float64Array;
  private readonly leavingMem: Float64Array;
  private readonly leavingPods: Float64Array;
  private readonly onNode: Set<Entry>[];
  private readonly entries = new Map<string, Entry>();
  private readonly replicaCounts = new Map<string, Int32Array>();
  private readonly jobs = new Map<string, JobBook>();
  private readonly openCampusNames: readonly string[];

  constructor(snapshot: Snapshot) {
    const specs = [...snapshot.campuses].sort((a, b) => (a.name < b.name ? -1 : 1));
    const shieldedCount = specs.filter((c) => c.shielded).length;
    this.campuses = specs.map((c) => this.book(c, specs.length, shieldedCount));
    for (const c of this.campuses) this.campusByName.set(c.name, c);
    this.openCampusNames = this.campuses.filter((c) => !c.shielded).map((c) => c.name);

    this.nodes = snapshot.nodes
      .filter((n) => this.campusByName.has(n.campus))
      .sort((a, b) => (a.name < b.name ? -1 : 1));
    const n = this.nodes.length;
    this.open = new Uint8Array(n);
    this.allocCpu = new Float64Array(n);
    this.allocMem = new Float64Array(n);
    this.allocPods = new Float64Array(n);
    this.usedCpu = new Float64Array(n);
    this.usedMem = new Float64Array(n);
    this.usedPods = new Float64Array(n);
    this.leavingCpu = new Float64Array(n);
    this.leavingMem = new Float64Array(n);
    this.leavingPods = new Float64Array(n);
    this.onNode = [];
    this.nodeCampus = [];
    this.nodes.forEach((node, i) => {
      const c = this.campusByName.get(node.campus);
      if (!c) return; // filtered above
      this.nodeIndex.set(node.name, i);
      this.nodeCampus.push(c);
      this.onNode.push(new Set());
      c.nodes.push(i);
      this.open[i] = node.schedulable && !node.tainted ? 1 : 0;
      this.allocCpu[i] = node.allocatable.cpu;
      this.allocMem[i] = node.allocatable.memory;
      this.allocPods[i] = node.allocatable.pods;
      addInto(c.alloc, node.allocatable);
      c.largest.cpu = Math.max(c.largest.cpu, node.allocatable.cpu);
      c.largest.memory = Math.max(c.largest.memory, node.allocatable.memory);
      c.largest.pods = Math.max(c.largest.pods, node.allocatable.pods);
    });
    for (const c of this.campuses) Object.assign(c.onlineCap, scale(c.alloc, c.ceiling));

    this.queues = new QueueTree(snapshot.queues);
    // pods on nodes that are not Yard's (or gone) hold nothing Yard grants
    for (const p of snapshot.pods) if (this.nodeIndex.has(p.node)) this.assume(p);
  }

  private book(c: Campus, count: number, shieldedCount: number): CampusBook {
    const configured = c.onlineCeiling ?? defaultCeiling(count);
    return {
      name: c.name,
      shielded: c.shielded,
      configuredCeiling: configured,
      ceiling: c.shielded ? configured : effectiveCeiling(configured, count, shieldedCount),
      nodes: [],
      alloc: vec(),
      largest: vec(),
      onlineCap: vec(),
      online: vec(),
      offline: vec(),
      leavingOnline: vec(),
      leavingOffline: vec(),
      offlineGrant: vec(),
      reserve: vec(),
      preemptFrom: 0,
    };
  }

  // --- the books --------------------------------------------------------------

  campus(name: string): CampusBook | undefined {
    return this.campusByName.get(name);
  }

  campusOf(node: number): CampusBook {
    const c = this.nodeCampus[node];
    if (!c) throw new RangeError(`no node ${node}`);
    return c;
  }

  indexOf(node: string): number | undefined {
    return this.nodeIndex.get(node);
  }

  entry(pod: string): Entry | undefined {
    return this.entries.get(pod);
  }

  /** The pods on a node, leaving ones included. */
  podsOn(node: number): ReadonlySet<Entry> {
    return this.onNode[node] ?? noEntries;
  }

  job(name: string): JobBook | undefined {
    return this.jobs.get(name);
  }

  /** Every job with pods on the books. */
  allJobs(): IterableIterator<JobBook> {
    return this.jobs.values();
  }

  isOpen(node: number): boolean {
    return this.open[node] === 1;
  }

  /** Allocatable less every request on the node (negative while room is held for a nominated pod). */
  free(node: number): MutableResources {
    return vec(
      (this.allocCpu[node] ?? 0) - (this.usedCpu[node] ?? 0),
      (this.allocMem[node] ?? 0) - (this.usedMem[node] ?? 0),
      (this.allocPods[node] ?? 0) - (this.usedPods[node] ?? 0),
    );
  }

  /** What terminating pods on the node will give back. */
  leaving(node: number): MutableResources {
    return vec(this.leavingCpu[node] ?? 0, this.leavingMem[node] ?? 0, this.leavingPods[node] ?? 0);
  }

  /** The node is big enough for `req` when empty (open or not). */
  couldHold(node: number, req: Resources): boolean {
    return (
      req.cpu <= (this.allocCpu[node] ?? 0) &&
      req.memory <= (this.allocMem[node] ?? 0) &&
      req.pods <= (this.allocPods[node] ?? 0)
    );
  }

  /** Marks a pod terminating: it keeps its node but counts for no share, spread or gang. */
  markLeaving(pod: string): void {
    const e = this.entries.get(pod);
    if (!e || e.leaving) return;
    e.leaving = true;
    this.leave(e, 1);
    this.count(e, -1);
  }

  /** Undoes markLeaving, for a tentative choice that was given up. */
  unmarkLeaving(pod: string): void {
    const e = this.entries.get(pod);
    if (!e?.leaving) return;
    e.leaving = false;
    this.leave(e, -1);
    this.count(e, 1);
  }

  private leave(e: Entry, sign: number): void {
    const r = e.pod.requests;
    this.leavingCpu[e.node] = (this.leavingCpu[e.node] ?? 0) + sign * r.cpu;
    this.leavingMem[e.node] = (this.leavingMem[e.node] ?? 0) + sign * r.memory;
    this.leavingPods[e.node] = (this.leavingPods[e.node] ?? 0) + sign * r.pods;
    addInto(
      e.pod.framework === 'online' ? e.campus.leavingOnline : e.campus.leavingOffline,
      r,
      sign,
    );
  }

  /** Spread counts, gang counts and queue shares: what only running pods count for. */
  private count(e: Entry, sign: number): void {
    const p = e.pod;
    if (p.framework === 'online') {
      let counts = this.replicaCounts.get(p.service);
      if (!counts) {
        counts = new Int32Array(this.nodes.length);
        this.replicaCounts.set(p.service, counts);
      }
      counts[e.node] = (counts[e.node] ?? 0) + sign;
      return;
    }
    const job = this.jobs.get(p.job);
    if (job) {
      if (sign > 0) job.running.add(p.name);
      else job.running.delete(p.name);
      addInto(job.used, p.requests, sign);
    }
    this.queues.charge(p.queue, p.requests, sign);
  }

  // --- the Offer --------------------------------------------------------------

  openCampuses(): readonly string[] {
    return this.openCampusNames;
  }

  campusNodes(campus: string): readonly number[] {
    return this.campusByName.get(campus)?.nodes ?? [];
  }

  nodeName(node: number): string {
    const n = this.nodes[node];
    if (!n) throw new RangeError(`no node ${node}`);
    return n.name;
  }

  fits(node: number, req: Resources): boolean {
    return (
      this.open[node] === 1 &&
      (this.usedCpu[node] ?? 0) + req.cpu <= (this.allocCpu[node] ?? 0) &&
      (this.usedMem[node] ?? 0) + req.memory <= (this.allocMem[node] ?? 0) &&
      (this.usedPods[node] ?? 0) + req.pods <= (this.allocPods[node] ?? 0)
    );
  }

  allocatedAfter(node: number, req: Resources): number {
    const ac = this.allocCpu[node] ?? 0;
    const am = this.allocMem[node] ?? 0;
    const c = ac > 0 ? ((this.usedCpu[node] ?? 0) + req.cpu) / ac : 0;
    const m = am > 0 ? ((this.usedMem[node] ?? 0) + req.memory) / am : 0;
    return ac > 0 && am > 0 ? (c + m) / 2 : c + m;
  }

  replicas(service: string, node: number): number {
    return this.replicaCounts.get(service)?.[node] ?? 0;
  }

  withinGrant(campus: string, framework: Framework, req: Resources): boolean {
    const c = this.campusByName.get(campus);
    if (!c) return false;
    return framework === 'online'
      ? within(c.online, req, c.onlineCap)
      : within(c.offline, req, c.offlineGrant);
  }

  headroom(campus: string, framework: Framework): Resources {
    const c = this.campusByName.get(campus);
    if (!c) return vec();
    return positive(
      framework === 'online' ? sub(c.onlineCap, c.online) : sub(c.offlineGrant, c.offline),
    );
  }

  assume(pod: PlacedPod): void {
    const node = this.nodeIndex.get(pod.node);
    if (node === undefined) throw new Error(`node ${pod.node} is not in any campus Yard knows`);
    if (this.entries.has(pod.name)) this.forget(pod.name);
    const campus = this.campusOf(node);
    const e: Entry = { pod, node, campus, leaving: pod.terminating === true };
    this.entries.set(pod.name, e);
    this.onNode[node]?.add(e);
    this.use(e, 1);
    if (pod.framework === 'offline') {
      let job = this.jobs.get(pod.job);
      if (!job) {
        job = {
          name: pod.job,
          queue: pod.queue,
          priority: pod.priority,
          min: 0,
          running: new Set(),
          used: vec(),
          total: 0,
        };
        this.jobs.set(pod.job, job);
      }
      job.min = Math.max(job.min, pod.gangMin);
      job.total++;
    }
    if (e.leaving) this.leave(e, 1);
    else this.count(e, 1);
  }

  forget(pod: string): void {
    const e = this.entries.get(pod);
    if (!e) return;
    if (e.leaving) this.leave(e, -1);
    else this.count(e, -1);
    this.use(e, -1);
    this.entries.delete(pod);
    this.onNode[e.node]?.delete(e);
    if (e.pod.framework === 'offline') {
      const job = this.jobs.get(e.pod.job);
      if (job && --job.total === 0) this.jobs.delete(job.name);
    }
  }

  private use(e: Entry, sign: number): void {
    const r = e.pod.requests;
    this.usedCpu[e.node] = (this.usedCpu[e.node] ?? 0) + sign * r.cpu;
    this.usedMem[e.node] = (this.usedMem[e.node] ?? 0) + sign * r.memory;
    this.usedPods[e.node] = (this.usedPods[e.node] ?? 0) + sign * r.pods;
    addInto(e.pod.framework === 'online' ? e.campus.online : e.campus.offline, r, sign);
  }
}

const noEntries: ReadonlySet<Entry> = new Set();

const within = (used: Resources, req: Resources, cap: Resources): boolean =>
  used.cpu + req.cpu <= cap.cpu &&
  used.memory + req.memory <= cap.memory &&
  used.pods + req.pods <= cap.pods;
