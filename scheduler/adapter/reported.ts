// What the scheduler last wrote to each pending pod (its nomination, its
// unschedulable reason, when, and whether it said "never"), ahead of the
// informer cache: so that a pod is not told the same thing twice while the
// cache has not caught up with our own write (actions.ts decides from this).
import type { V1Pod } from '@kubernetes/client-node';
import type { PodStatusView } from './actions.ts';

export interface Written {
  readonly nominated?: string;
  readonly message?: string;
  readonly at?: number;
  readonly never?: boolean;
}

export class Reported {
  readonly #written = new Map<string, Written>();

  /** What the pod's status says as far as Yard knows: our last write, else the pod. */
  statusOf(key: string, pod: V1Pod | undefined): PodStatusView {
    const w = this.#written.get(key);
    const cond = pod?.status?.conditions?.find((c) => c.type === 'PodScheduled');
    return {
      nominatedNode: w?.nominated ?? (pod?.status?.nominatedNodeName || undefined),
      unschedulableMessage: w?.message ?? (cond?.status === 'False' ? cond.message : undefined),
      reportedAt: w?.at,
      never: w?.never,
    };
  }

  remember(key: string, w: Written): void {
    this.#written.set(key, { ...this.#written.get(key), ...w });
  }

  /** The pod is bound or gone: nothing to remember. */
  forget(key: string): void {
    this.#written.delete(key);
  }
}
