// The scheduling queue: Yard's pending pods, in three sets as kube-scheduler
// keeps them — active (to be decided next cycle), unschedulable (decided
// "not now"; they wait for the cluster to change, not for a timer) and
// back-off (a bind that failed; retried at a time). A pod taken by `pop` is
// in none of them until the cycle parks it or it is bound.
//
// An OfflineJob's pods are one gang: taking any of them takes all its pending
// pods, so a gang is always asked for whole. Online pods are taken before any
// gang, as the core orders them within a cycle: across cycles too, offline
// never fills a campus ahead of online work that was already waiting (which
// would then have to preempt its way back in). An informer's first list, for
// one, comes in key order, not creation order.
import type { V1Pod } from '@kubernetes/client-node';
import { isOffline, jobKeyOf, podKey } from './mapping.ts';

export class SchedulingQueue {
  readonly #pods = new Map<string, V1Pod>();
  /** Active online pods, insertion-ordered (the core orders within a cycle). */
  readonly #online = new Set<string>();
  /** Active offline pods, taken once no online pod is left. */
  readonly #offline = new Set<string>();
  readonly #unschedulable = new Set<string>();
  readonly #backoff = new Map<string, number>();
  readonly #byJob = new Map<string, Set<string>>();
  readonly #jobOf = new Map<string, string>();

  get size(): number {
    return this.#pods.size;
  }

  counts(): { active: number; unschedulable: number; backoff: number } {
    return {
      active: this.#online.size + this.#offline.size,
      unschedulable: this.#unschedulable.size,
      backoff: this.#backoff.size,
    };
  }

  /** The pending pods of OfflineJobs, taken or not. */
  *offlinePending(): IterableIterator<V1Pod> {
    for (const key of this.#jobOf.keys()) {
      const p = this.#pods.get(key);
      if (p) yield p;
    }
  }

  get(key: string): V1Pod | undefined {
    return this.#pods.get(key);
  }

  has(key: string): boolean {
    return this.#pods.has(key);
  }

  hasActive(): boolean {
    return this.#online.size + this.#offline.size > 0;
  }

  #activate(key: string): void {
    (this.#jobOf.has(key) ? this.#offline : this.#online).add(key);
  }

  #deactivate(key: string): void {
    this.#online.delete(key);
    this.#offline.delete(key);
  }

  #isActive(key: string): boolean {
    return this.#online.has(key) || this.#offline.has(key);
  }

  /** Adds or refreshes a pending pod; a new one is active. True when it was new. */
  upsert(pod: V1Pod): boolean {
    const key = podKey(pod);
    const known = this.#pods.has(key);
    this.#pods.set(key, pod);
    if (known) return false;
    const job = isOffline(pod) ? (jobKeyOf(pod) ?? key) : undefined;
    if (job !== undefined) {
      this.#jobOf.set(key, job);
      let set = this.#byJob.get(job);
      if (!set) this.#byJob.set(job, (set = new Set()));
      set.add(key);
      // a new member changes what the gang can do: its waiting pods come along
      this.activateJob(job);
    }
    this.#activate(key);
    return true;
  }

  remove(key: string): void {
    if (!this.#pods.delete(key)) return;
    this.#deactivate(key);
    this.#unschedulable.delete(key);
    this.#backoff.delete(key);
    const job = this.#jobOf.get(key);
    if (job === undefined) return;
    this.#jobOf.delete(key);
    const set = this.#byJob.get(job);
    set?.delete(key);
    if (set?.size === 0) this.#byJob.delete(job);
  }

  /** Every unschedulable pod becomes active: capacity was freed or the world changed. */
  activateAll(): number {
    const n = this.#unschedulable.size;
    for (const k of this.#unschedulable) this.#activate(k);
    this.#unschedulable.clear();
    return n;
  }

  /** Every pending pod not backing off becomes active (after a cycle that failed half-way). */
  reactivate(): void {
    for (const k of this.#pods.keys()) {
      if (this.#backoff.has(k)) continue;
      this.#unschedulable.delete(k);
      this.#activate(k);
    }
  }

  /** The job's waiting pods become active (its spec changed, or a member arrived). */
  activateJob(job: string): void {
    for (const k of this.#byJob.get(job) ?? []) {
      if (this.#unschedulable.delete(k)) this.#activate(k);
    }
  }

  /** Back-off pods whose time has come become active; returns the next time one will. */
  promote(now: number): number | undefined {
    let next: number | undefined;
    for (const [k, at] of this.#backoff) {
      if (at <= now) {
        this.#backoff.delete(k);
        this.#activate(k);
      } else next = Math.min(next ?? Infinity, at);
    }
    return next;
  }

  /**
   * Takes up to `max` active pods, online ones first (a gang counts whole, so
   * a cycle may take a few more): online pods, and the pending pods of every
   * job touched.
   */
  pop(max: number): { online: V1Pod[]; gangs: Map<string, V1Pod[]> } {
    const online: V1Pod[] = [];
    const gangs = new Map<string, V1Pod[]>();
    let taken = 0;
    for (const key of this.#online) {
      if (taken >= max) break;
      this.#online.delete(key);
      const pod = this.#pods.get(key);
      if (!pod) continue;
      online.push(pod);
      taken++;
    }
    for (const key of this.#offline) {
      if (taken >= max) break;
      const job = this.#jobOf.get(key) ?? key;
      const members: V1Pod[] = [];
      for (const k of this.#byJob.get(job) ?? [key]) {
        const p = this.#pods.get(k);
        this.#deactivate(k);
        this.#unschedulable.delete(k);
        this.#backoff.delete(k);
        if (p) members.push(p);
      }
      gangs.set(job, members);
      taken += members.length;
    }
    return { online, gangs };
  }

  /** After a cycle: the pod waits for the cluster to change. */
  park(key: string): void {
    if (this.#pods.has(key) && !this.#isActive(key)) this.#unschedulable.add(key);
  }

  /** The pod is tried again at `at` (a bind failed). */
  backoff(key: string, at: number): void {
    if (!this.#pods.has(key)) return;
    this.#deactivate(key);
    this.#unschedulable.delete(key);
    this.#backoff.set(key, at);
  }
}
