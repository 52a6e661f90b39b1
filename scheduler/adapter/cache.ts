// The scheduler's cache: the core's Ledger kept current from informer events,
// and the scheduling queue. kube-scheduler's cache, for Yard's core:
// - a bound pod is assumed in the ledger (assume replaces, so an update is
//   one call); a finished or deleted one is forgotten, which frees capacity
//   and wakes the unschedulable pods;
// - a bind the core decided is assumed by the core itself before the cycle
//   returns, and stays "in flight" here until the informer shows the pod
//   bound — so a pending copy of it seen meanwhile is not decided twice; a
//   failed bind is forgotten (rolled back) and the pod retried after a pause;
// - nodes, campuses and queues fix the ledger's shape, so a change that
//   matters to the core (a node's capacity, cordon or taint, a shield, a
//   ceiling, a queue's share) marks it stale, and the next cycle rebuilds it
//   from what is cached — O(pods), and rare.
// No I/O: the informers call in, the scheduler loop reads out.
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import type {
  Campus as CampusObject,
  OfflineJob,
  OfflineQueue as QueueObject,
} from '../../crds/index.ts';
import {
  Ledger,
  type Campus,
  type NodeInfo,
  type OfflineQueue,
  type PlacedPod,
} from '../core/index.ts';
import {
  campusInfo,
  nextShieldChange,
  nodeInfo,
  placedPod,
  podKey,
  podRole,
  queueInfo,
  type PodContext,
} from './mapping.ts';
import { SchedulingQueue } from './queue.ts';

/** What changed, for the loop: new pending pods, capacity freed, or the world's shape. */
export type Change = 'pending' | 'freed' | 'world';

export interface CacheOptions {
  readonly schedulerName: string;
  /** Taint keys Yard's pods tolerate. */
  readonly tolerated: ReadonlySet<string>;
  readonly now: () => number;
  readonly job: (key: string) => OfflineJob | undefined;
  readonly onChange?: (change: Change) => void;
}

interface InFlight {
  readonly pod: PlacedPod;
  readonly uid: string | undefined;
  /** When the API accepted the binding. */
  acked: number | undefined;
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

export class SchedulerCache {
  readonly queue = new SchedulingQueue();
  readonly #o: CacheOptions;
  #ledger: Ledger | undefined;
  readonly #rawNodes = new Map<string, V1Node>();
  readonly #nodes = new Map<string, NodeInfo>();
  #rawCampuses: readonly CampusObject[] = [];
  readonly #campuses = new Map<string, Campus>();
  readonly #queues = new Map<string, OfflineQueue>();
  readonly #placed = new Map<string, { readonly raw: V1Pod; readonly pod: PlacedPod }>();
  readonly #inflight = new Map<string, InFlight>();
  readonly #jobSpecs = new Map<string, string>();
  #rebuilds = 0;

  constructor(opts: CacheOptions) {
    this.#o = opts;
  }

  #context(): PodContext {
    return { now: this.#o.now(), job: this.#o.job, schedulerName: this.#o.schedulerName };
  }

  /** How many times the ledger was built. */
  get rebuilds(): number {
    return this.#rebuilds;
  }

  get inFlight(): number {
    return this.#inflight.size;
  }

  /** The ledger, rebuilt first if the world's shape changed. */
  ledger(): Ledger {
    if (this.#ledger) return this.#ledger;
    const pods = [...this.#placed.values()].map((p) => p.pod);
    for (const f of this.#inflight.values()) pods.push(f.pod);
    this.#ledger = new Ledger({
      campuses: [...this.#campuses.values()],
      nodes: [...this.#nodes.values()],
      pods,
      queues: [...this.#queues.values()],
    });
    this.#rebuilds++;
    // a new shape can change any "not now": decide every pending pod again
    this.queue.activateAll();
    return this.#ledger;
  }

  /** The ledger is stale; the next cycle rebuilds it (and runs, even with no pod pending). */
  #stale(): void {
    this.#ledger = undefined;
    this.#o.onChange?.('world');
  }

  get stale(): boolean {
    return this.#ledger === undefined;
  }

  /**
   * Drops the ledger and decides every pending pod again: the next cycle
   * builds the books afresh from what is cached (after a cycle that failed).
   */
  invalidate(): void {
    this.#ledger = undefined;
    this.queue.reactivate();
  }

  // --- nodes, campuses, queues, jobs ----------------------------------------------

  setNode(node: V1Node): void {
    const name = node.metadata?.name ?? '';
    this.#rawNodes.set(name, node);
    this.#refreshNode(name, node);
  }

  deleteNode(name: string): void {
    this.#rawNodes.delete(name);
    if (this.#nodes.delete(name)) this.#stale();
  }

  #refreshNode(name: string, node: V1Node): boolean {
    const info = nodeInfo(node, this.#rawCampuses, this.#o.tolerated);
    const old = this.#nodes.get(name);
    if (same(info, old)) return false;
    if (info) this.#nodes.set(name, info);
    else this.#nodes.delete(name);
    this.#stale();
    return true;
  }

  /** Any Campus event: the whole list (node membership may move with a selector). */
  setCampuses(campuses: readonly CampusObject[]): void {
    this.#rawCampuses = campuses;
    this.refreshTime();
    for (const [name, node] of this.#rawNodes) this.#refreshNode(name, node);
  }

  /** Shields lift at their `until`: the core's view of campuses is a function of time. */
  refreshTime(): void {
    const now = this.#o.now();
    const infos = new Map(
      this.#rawCampuses.map((c) => [c.metadata.name ?? '', campusInfo(c, now)]),
    );
    if (same([...infos], [...this.#campuses])) return;
    this.#campuses.clear();
    for (const [k, v] of infos) this.#campuses.set(k, v);
    this.#stale();
  }

  /** When the campuses' view changes next by time alone (a shield's `until`). */
  nextTimeChange(): number | undefined {
    return nextShieldChange(this.#rawCampuses, this.#o.now());
  }

  setQueue(q: QueueObject): void {
    const info = queueInfo(q);
    if (same(info, this.#queues.get(info.name))) return;
    this.#queues.set(info.name, info);
    this.#stale();
  }

  deleteQueue(name: string): void {
    if (this.#queues.delete(name)) this.#stale();
  }

  /** A job's gang minimum, priority or queue changed: its pods are counted and asked anew. */
  setJob(job: OfflineJob): void {
    const key = `${job.metadata.namespace ?? ''}/${job.metadata.name ?? ''}`;
    const spec = JSON.stringify([job.spec.minAvailable, job.spec.priority, job.spec.queue]);
    const before = this.#jobSpecs.get(key);
    if (before === spec) return;
    this.#jobSpecs.set(key, spec);
    this.queue.activateJob(key);
    let changed = false;
    const ctx = this.#context();
    for (const [k, p] of this.#placed) {
      if (p.pod.framework !== 'offline' || p.pod.job !== key) continue;
      const again = placedPod(p.raw, ctx);
      if (again) this.#placed.set(k, { raw: p.raw, pod: again });
      changed = true;
    }
    // the ledger's job books keep the first priority they saw: build them again
    if (changed) this.#stale();
  }

  deleteJob(key: string): void {
    this.#jobSpecs.delete(key);
  }

  // --- pods ---------------------------------------------------------------------

  setPod(pod: V1Pod): void {
    const key = podKey(pod);
    switch (podRole(pod, this.#o.schedulerName)) {
      case 'placed': {
        this.queue.remove(key);
        this.#inflight.delete(key); // observed: the binding landed
        const p = placedPod(pod, this.#context());
        if (!p) return;
        this.#placed.set(key, { raw: pod, pod: p });
        this.#assume(p);
        return;
      }
      case 'pending': {
        const f = this.#inflight.get(key);
        if (f && f.uid === pod.metadata?.uid) return; // our bind is on its way
        if (f) this.#drop(key); // a new pod under an old name
        if (this.queue.upsert(pod)) this.#o.onChange?.('pending');
        return;
      }
      case 'other':
        this.deletePod(key);
    }
  }

  deletePod(key: string): void {
    this.queue.remove(key);
    const held = this.#placed.delete(key) || this.#inflight.delete(key);
    const room = this.#ledger?.entry(key) !== undefined; // a nominated pod's held room
    this.#ledger?.forget(key);
    if (held || room) this.#o.onChange?.('freed');
  }

  #drop(key: string): void {
    this.#inflight.delete(key);
    this.#ledger?.forget(key);
  }

  #assume(p: PlacedPod): void {
    const l = this.#ledger;
    if (!l) return;
    if (l.indexOf(p.node) === undefined) l.forget(p.name);
    else l.assume(p);
  }

  /** A pod the core decided to bind: already assumed in the ledger, now in flight. */
  binding(key: string, node: string): void {
    const pod = this.queue.get(key);
    const e = this.#ledger?.entry(key);
    this.queue.remove(key);
    if (!pod || !e) return;
    this.#inflight.set(key, { pod: { ...e.pod, node }, uid: pod.metadata?.uid, acked: undefined });
  }

  /** The API accepted the binding; the informer will show it. */
  bindLanded(key: string): void {
    const f = this.#inflight.get(key);
    if (f) f.acked = this.#o.now();
  }

  /**
   * A bind failed: roll the assumption back, unless the informer has seen the
   * pod bound meanwhile (someone else bound it: that binding stands). The pod
   * is tried again at `retryAt`.
   */
  bindFailed(key: string, current: V1Pod | undefined, retryAt: number): void {
    if (!this.#inflight.delete(key)) return;
    const placed = this.#placed.get(key);
    if (placed) this.#assume(placed.pod);
    else this.#ledger?.forget(key);
    if (current && podRole(current, this.#o.schedulerName) === 'pending') {
      this.queue.upsert(current);
      this.queue.backoff(key, retryAt);
    }
    this.#o.onChange?.('freed');
  }

  /** An eviction failed (a disruption budget, say): the victim stays, and counts again. */
  evictionFailed(key: string): void {
    // no wake-up: the next cycle that runs anyway tries again, not a tight loop of refusals
    const p = this.#placed.get(key);
    if (p) this.#assume(p.pod);
  }

  /**
   * Binds the API accepted long ago that the informer never showed bound (a
   * lost event is repaired by a relist; this bounds how long the books trust
   * one). They leave the in-flight set; the relist brings the truth.
   */
  expireInFlight(ackedBefore: number): string[] {
    const out: string[] = [];
    for (const [k, f] of this.#inflight) {
      if (f.acked !== undefined && f.acked < ackedBefore) {
        this.#inflight.delete(k);
        out.push(k);
      }
    }
    return out;
  }

  isPlaced(key: string): boolean {
    return this.#placed.has(key);
  }
}
