// Level 1: hierarchical, weighted dominant resource fairness (Ghodsi et al.,
// NSDI 2011) over the offline queues, by progressive filling. Each step
// descends from the root to a leaf, at every level taking the neediest child
// that still has work:
//   1. children below their guarantee first, the furthest below first
//      (used / guaranteed, over the guaranteed dimensions);
//   2. then the smallest dominant share (of the offline pool) per unit of
//      weight;
//   3. then name order, so that a tie always breaks the same way.
// A parent's usage is its children's sum (the tree keeps it), so a parent's
// share is divided among its children by their weights. Maximums are checked
// by the caller against the unit it is about to place.
import type { Resources } from './contract.ts';
import type { QueueNode, QueueTree } from './queues.ts';
import { dominantShare } from './resources.ts';

/** How far a queue is through its guarantee; Infinity when it has none. */
export function guaranteeRatio(q: QueueNode): number {
  let ratio = -Infinity;
  for (const d of ['cpu', 'memory', 'pods'] as const) {
    if (q.guaranteed[d] > 0) ratio = Math.max(ratio, q.used[d] / q.guaranteed[d]);
  }
  return ratio === -Infinity ? Infinity : ratio;
}

/** Negative when `a` should get the next unit before `b`. */
export function compareNeed(a: QueueNode, b: QueueNode, pool: Resources): number {
  const ga = guaranteeRatio(a);
  const gb = guaranteeRatio(b);
  const underA = ga < 1;
  const underB = gb < 1;
  if (underA !== underB) return underA ? -1 : 1;
  if (underA && ga !== gb) return ga - gb;
  const sa = dominantShare(a.used, pool) / a.weight;
  const sb = dominantShare(b.used, pool) / b.weight;
  if (sa !== sb) return sa - sb;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/**
 * One round of progressive filling over the items (jobs) waiting in leaf
 * queues. `next()` names the head item of the neediest leaf; the caller
 * places it (which charges the queue through the ledger) and calls `done()`
 * when that item has nothing more to place this round.
 */
export class DrfRound<T> {
  private readonly waiting = new Map<QueueNode, { items: readonly T[]; at: number }>();
  /** Leaves with items left, per subtree. */
  private readonly active = new Map<QueueNode, number>();
  private readonly tree: QueueTree;
  private readonly pool: Resources;

  constructor(tree: QueueTree, pool: Resources, items: ReadonlyMap<QueueNode, readonly T[]>) {
    this.tree = tree;
    this.pool = pool;
    for (const [leaf, list] of items) {
      if (list.length === 0) continue;
      this.waiting.set(leaf, { items: list, at: 0 });
      for (let n: QueueNode | undefined = leaf; n; n = n.parent)
        this.active.set(n, (this.active.get(n) ?? 0) + 1);
    }
  }

  next(): { leaf: QueueNode; item: T } | undefined {
    let q = this.tree.root;
    if (!this.active.get(q)) return undefined;
    while (q.children.length > 0) {
      let best: QueueNode | undefined;
      for (const c of q.children) {
        if (!this.active.get(c)) continue;
        if (!best || compareNeed(c, best, this.pool) < 0) best = c;
      }
      if (!best) return undefined;
      q = best;
    }
    const w = this.waiting.get(q);
    const item = w?.items[w.at];
    return item === undefined ? undefined : { leaf: q, item };
  }

  /** The leaf's head item is finished for this round. */
  done(leaf: QueueNode): void {
    const w = this.waiting.get(leaf);
    if (!w) return;
    w.at++;
    if (w.at < w.items.length) return;
    this.waiting.delete(leaf);
    for (let n: QueueNode | undefined = leaf; n; n = n.parent)
      this.active.set(n, (this.active.get(n) ?? 1) - 1);
  }
}

/**
 * The dominant share each queue is entitled to: its parent's, divided among
 * siblings by weight, then raised to its guarantee and capped at its max.
 * For status and metrics; scheduling itself follows `compareNeed`.
 */
export function fairShares(tree: QueueTree, pool: Resources): Map<string, number> {
  const out = new Map<string, number>();
  const walk = (q: QueueNode, share: number): void => {
    const total = q.children.reduce((s, c) => s + c.weight, 0);
    for (const c of q.children) {
      const floor = Math.min(1, dominantShare(c.guaranteed, pool));
      const ceiling =
        Number.isFinite(c.max.cpu) && Number.isFinite(c.max.memory)
          ? Math.min(1, dominantShare(c.max, pool))
          : 1;
      const s = Math.min(ceiling, Math.max(floor, (share * c.weight) / total));
      out.set(c.name, s);
      walk(c, s);
    }
  };
  walk(tree.root, 1);
  return out;
}
