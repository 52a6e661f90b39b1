// Level 1: the offline queue hierarchy and what each queue uses. Usage is
// charged to a leaf and every ancestor as pods come and go, so a parent's
// share is always the sum of its children's without a walk of the tree.
import type { OfflineQueue, Resources } from './contract.ts';
import { addInto, type MutableResources, vec } from './resources.ts';

export interface QueueNode {
  readonly name: string;
  readonly parent: QueueNode | undefined;
  readonly children: QueueNode[];
  readonly weight: number;
  /** Missing dimensions guarantee nothing. */
  readonly guaranteed: Resources;
  /** Missing dimensions are unlimited. */
  readonly max: Resources;
  /** Requests of the queue's (and its children's) running pods. */
  readonly used: MutableResources;
}

const rootName = '(root)';

export class QueueTree {
  readonly root: QueueNode;
  private readonly byName = new Map<string, QueueNode>();
  /** Queues configured wrongly, with why: jobs in them can never run. */
  private readonly broken = new Map<string, string>();
  /** Usage of pods whose queue is unknown, kept so that nothing is lost. */
  private readonly stray = vec();

  constructor(queues: readonly OfflineQueue[]) {
    this.root = node(rootName, undefined, {});
    const specs = new Map(queues.map((q) => [q.name, q]));
    const resolving = new Set<string>();
    const resolve = (name: string): QueueNode | undefined => {
      const done = this.byName.get(name);
      if (done) return done;
      const spec = specs.get(name);
      if (!spec || this.broken.has(name)) return undefined;
      if (resolving.has(name)) {
        this.broken.set(name, `queue ${name} is its own ancestor (a cycle of parents)`);
        return undefined;
      }
      resolving.add(name);
      let parent: QueueNode | undefined = this.root;
      if (spec.parent !== undefined) {
        parent = resolve(spec.parent);
        if (!parent) {
          if (this.broken.has(name)) return undefined;
          this.broken.set(
            name,
            specs.has(spec.parent)
              ? `queue ${name} hangs under ${spec.parent}, which is broken: ${this.problem(spec.parent) ?? 'unknown'}`
              : `queue ${name} hangs under ${spec.parent}, which does not exist`,
          );
          return undefined;
        }
      }
      resolving.delete(name);
      const q = node(name, parent, spec);
      parent.children.push(q);
      this.byName.set(name, q);
      return q;
    };
    for (const name of [...specs.keys()].sort()) resolve(name);
    sortChildren(this.root);
  }

  get(name: string): QueueNode | undefined {
    return this.byName.get(name);
  }

  all(): QueueNode[] {
    return [...this.byName.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  /** Why a job naming this queue can never run, or undefined when it can. */
  problem(name: string): string | undefined {
    const broken = this.broken.get(name);
    if (broken) return broken;
    const q = this.byName.get(name);
    if (!q) return `queue ${name} does not exist`;
    if (q.children.length > 0)
      return `queue ${name} is a parent queue; jobs must name one of its leaves (${q.children.map((c) => c.name).join(', ')})`;
    return undefined;
  }

  /** Charge (or, with sign −1, refund) a queue and its ancestors. */
  charge(name: string, r: Resources, sign: number): void {
    const q = this.byName.get(name);
    if (!q) {
      addInto(this.stray, r, sign);
      return;
    }
    for (let n: QueueNode | undefined = q; n; n = n.parent) addInto(n.used, r, sign);
  }
}

function node(name: string, parent: QueueNode | undefined, spec: Partial<OfflineQueue>): QueueNode {
  const g = spec.guaranteed ?? {};
  const m = spec.max ?? {};
  return {
    name,
    parent,
    children: [],
    weight: spec.weight !== undefined && spec.weight > 0 ? spec.weight : 1,
    guaranteed: { cpu: g.cpu ?? 0, memory: g.memory ?? 0, pods: g.pods ?? 0 },
    max: {
      cpu: m.cpu ?? Infinity,
      memory: m.memory ?? Infinity,
      pods: m.pods ?? Infinity,
    },
    used: vec(),
  };
}

function sortChildren(q: QueueNode): void {
  q.children.sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const c of q.children) sortChildren(c);
}

/** The queue, or the nearest ancestor, that `extra` more would push past its max. */
export function overMax(q: QueueNode, extra: Resources): QueueNode | undefined {
  for (let n: QueueNode | undefined = q; n; n = n.parent) {
    if (
      n.used.cpu + extra.cpu > n.max.cpu ||
      n.used.memory + extra.memory > n.max.memory ||
      n.used.pods + extra.pods > n.max.pods
    )
      return n;
  }
  return undefined;
}

/** The queue or ancestor whose max is smaller than `r` outright. */
export function maxBelow(q: QueueNode, r: Resources): QueueNode | undefined {
  for (let n: QueueNode | undefined = q; n; n = n.parent) {
    if (r.cpu > n.max.cpu || r.memory > n.max.memory || r.pods > n.max.pods) return n;
  }
  return undefined;
}
