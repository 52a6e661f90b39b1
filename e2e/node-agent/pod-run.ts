// One pod the agent runs: its address, its folder, its containers.
import { rm } from 'node:fs/promises';
import type { ContainerRun } from './container.ts';
import type { PodObject, PodView } from './types.ts';

/** What `pods()` and the control API report of one pod. */
export interface PodReport {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly node: string;
  readonly podIP: string;
  readonly frozen: boolean;
  readonly containers: readonly {
    readonly name: string;
    readonly pid: number | undefined;
    readonly state: 'waiting' | 'running' | 'terminated';
    readonly reason: string | undefined;
    readonly restartCount: number;
    readonly ready: boolean;
  }[];
}

export interface PodRunInit {
  readonly pod: PodObject;
  readonly node: string;
  readonly podIP: string;
  readonly hostIP: string;
  readonly startTime: string;
  readonly dir: string;
}

export class PodRun {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly node: string;
  readonly podIP: string;
  readonly hostIP: string;
  readonly startTime: string;
  readonly dir: string;
  /** The pod as last seen: its grace period counts when it vanishes. */
  pod: PodObject;
  #containers: readonly ContainerRun[] = [];
  #frozen = false;

  constructor(init: PodRunInit) {
    this.pod = init.pod;
    this.namespace = init.pod.metadata?.namespace ?? '';
    this.name = init.pod.metadata?.name ?? '';
    this.uid = init.pod.metadata?.uid ?? '';
    this.node = init.node;
    this.podIP = init.podIP;
    this.hostIP = init.hostIP;
    this.startTime = init.startTime;
    this.dir = init.dir;
  }

  /** Starts the containers (once). */
  start(containers: readonly ContainerRun[], frozen: boolean): void {
    this.#containers = containers;
    for (const c of containers) c.setFrozen(frozen);
    this.#frozen = frozen;
    for (const c of containers) c.start();
  }

  get containers(): readonly ContainerRun[] {
    return this.#containers;
  }

  get frozen(): boolean {
    return this.#frozen;
  }

  setFrozen(frozen: boolean): void {
    this.#frozen = frozen;
    for (const c of this.#containers) c.setFrozen(frozen);
  }

  view(): PodView {
    return {
      podIP: this.podIP,
      hostIP: this.hostIP,
      startTime: this.startTime,
      containers: this.#containers.map((c) => c.view()),
    };
  }

  report(): PodReport {
    return {
      namespace: this.namespace,
      name: this.name,
      uid: this.uid,
      node: this.node,
      podIP: this.podIP,
      frozen: this.#frozen,
      containers: this.#containers.map((c) => {
        const v = c.view();
        const state = v.state.running ? 'running' : v.state.terminated ? 'terminated' : 'waiting';
        return {
          name: c.name,
          pid: c.pid,
          state,
          reason: v.state.waiting?.reason ?? v.state.terminated?.reason,
          restartCount: v.restartCount,
          ready: v.ready,
        };
      }),
    };
  }

  /** The grace period of a stop, from the pod as last seen (the kubelet's minimum is 2 s). */
  graceMs(capMs: number): number {
    const s =
      this.pod.metadata?.deletionGracePeriodSeconds ??
      this.pod.spec?.terminationGracePeriodSeconds ??
      30;
    return Math.min(capMs, Math.max(2, s) * 1000);
  }

  /**
   * Stops every container; removes the pod's folder when the pod is gone (an
   * agent that stops keeps it, as a kubelet restart keeps a pod's emptyDir).
   */
  async stop(graceMs: number, removeFolder: boolean): Promise<void> {
    await Promise.all(this.#containers.map((c) => c.stop(graceMs)));
    if (removeFolder) await rm(this.dir, { recursive: true, force: true });
  }
}
