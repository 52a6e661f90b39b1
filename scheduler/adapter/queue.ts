// The scheduling queue: Yard's pending pods, in three sets as kube-scheduler
// keeps them — active (to be decided next cycle), unschedulable (decided
// "not now"; they wait for the cluster to change, not for a timer) and
// back-off (a bind that failed; retried at a time). A pod taken by `pop` is
// in none of them until the cycle parks it or it is bound.
//
// An OfflineJob's pods are one gang: taking any of them takes all its pending
// pods, so a gang is always asked for whole.
import type { V1Pod } from '@kubernetes/client-node';
import { isOffline, jobKeyOf, podKey } from './mapping.ts';

export class SchedulingQueue {
  readonly #pods = new Map<string, V1Pod>();
  /** Insertion-ordered: first in, first decided (the core orders within a cycle). */
  readonly #active = new Set<string>();
  readonly #unschedulable = new Set<string>();
  readonly #backoff = new Map<string, number>();
  readonly #byJob = new Map<string, Set<string>>();
  readonly #jobOf = new Map<string, string>();

  get size(): number {
    return this.#pods.size;
  }

  counts(): { active: number; unschedulable: number; backoff: number } {
    return {
      active: this.#active.size,
      unschedulable: this.#unschedulable.size,
      backoff: this.#backoff.size,
    };
  }

  get(key: string): V1Pod | undefined {
    return this.#pods.get(key);
  }

  has(key: string): boolean {
    return this.#pods.has(key);
  }

  hasActive(): boolean {
    return this.#active.size > 0;
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
    this.#active.add(key);
    return true;
  }

  remove(key: string): void {
    if (!this.#pods.delete(key)) return;
    this.#active.delete(key);
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
    for (const k of this.#unschedulable) this.#active.add(k);
    this.#unschedulable.clear();
    return n;
  }

  /** The job's waiting pods become active (its spec changed, or a member arrived). */
  activateJob(job: string): void {
    for (const k of this.#byJob.get(job) ?? []) {
      if (this.#unschedulable.delete(k)) this.#active.add(k);
    }
  }

  /** Back-off pods whose time has come become active; returns the next time one will. */
  promote(now: number): number | undefined {
    let next: number | undefined;
    for (const [k, at] of this.#backoff) {
      if (at <= now) {
        this.#backoff.delete(k);
        this.#active.add(k);
      } else next = Math.min(next ?? Infinity, at);
    }
    return next;
  }

  /**
   * Takes up to `max` active pods (a gang counts whole, so a cycle may take
   * a few more): online pods, and the pending pods of every job touched.
   */
  pop(max: number): { online: V1Pod[]; gangs: Map<string, V1Pod[]> } {
    const online: V1Pod[] = [];
    const gangs = new Map<string, V1Pod[]>();
    let taken = 0;
    for (const key of this.#active) {
      if (taken >= max) break;
      const pod = this.#pods.get(key);
      this.#active.delete(key);
      if (!pod) continue;
      const job = this.#jobOf.get(key);
      if (job === undefined) {
        online.push(pod);
        taken++;
        continue;
      }
      const members: V1Pod[] = [];
      for (const k of this.#byJob.get(job) ?? []) {
        const p = this.#pods.get(k);
        if (!p) continue;
        this.#active.delete(k);
        this.#unschedulable.delete(k);
        this.#backoff.delete(k);
        members.push(p);
      }
      gangs.set(job, members);
      taken += members.length;
    }
    return { online, gangs };
  }

  /** After a cycle: the pod waits for the cluster to change. */
  park(key: string): void {
    if (this.#pods.has(key) && !this.#active.has(key)) this.#unschedulable.add(key);
  }

  /** The pod is tried again at `at` (a bind failed). */
  backoff(key: string, at: number): void {
    if (!this.#pods.has(key)) return;
    this.#active.delete(key);
    this.#unschedulable.delete(key);
    this.#backoff.set(key, at);
  }
}
