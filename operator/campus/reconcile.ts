// The campus controller: which nodes a campus selects (NodesSelected),
// whether the others could absorb its online load (CampusSafe, from the
// numbers the scheduler publishes to every Campus's status — never its own
// sums), and the shield — the manual global block of WeChat's three-campus
// design. While a shield holds, the campus's nodes carry
// a NoSchedule taint and every gated pod there has yard.dev/serving False;
// lifting it (or `until` passing) undoes both. The shield lives in the API
// (spec.shield), so it survives any restart, and whichever replica leads
// lifts it when it expires (a requeue at `until`, and a resync otherwise).
import { PatchStrategy } from '@kubernetes/client-node';
import type { V1Node, V1Pod, V1Taint } from '@kubernetes/client-node';
import type { Campus } from '../../crds/index.ts';
import { yardKinds } from '../../crds/index.ts';
import {
  addFinalizer,
  applyStatus,
  isDeleting,
  isNotFound,
  jsonEqual,
  keyOf,
  kinds,
  mergePatch,
  removeFinalizer,
  rfc3339,
  rule,
  watch,
} from '../../runtime/index.ts';
import type {
  Controller,
  Manager,
  ReconcileRequest,
  ReconcileResult,
} from '../../runtime/index.ts';
import { shieldActions, staleAt } from './desired.ts';
import type { NodeView, PodView } from './desired.ts';
import { campusStatus, ownCampusStatus, shieldEvent } from './status.ts';
import { campusFacts, nodeView, podView } from './views.ts';
import { taint, podCondition, finalizer } from '../../crds/names.ts';
import { campusOfNode, shieldState } from '../../crds/index.ts';

export const fieldManager = 'yard-campus-controller';

export interface CampusControllerOptions {
  readonly now?: () => Date;
  /** Workers (default 2). */
  readonly concurrency?: number;
  /**
   * The scheduler's numbers older than this make CampusSafe Unknown (default
   * 2 min: the scheduler republishes every 30 s while it leads).
   */
  readonly staleAfterMs?: number;
}

export function addCampusController(mgr: Manager, opts: CampusControllerOptions = {}): Controller {
  const now = opts.now ?? (() => new Date());
  const campuses = mgr.informers.informerFor<Campus>(yardKinds.Campus);
  const nodes = mgr.informers.informerFor<V1Node>(kinds.Node);
  const pods = mgr.informers.informerFor<V1Pod>(kinds.Pod);
  const events = mgr.eventRecorder('yard.dev/campus-controller');
  const staleAfterMs = opts.staleAfterMs ?? 120_000;
  const allCampuses = (): string[] => campuses.store.list().map((c) => keyOf(c));
  /** A pod matters to the campus of its node only (its shield's serving condition). */
  const campusOfPod = (p: V1Pod): string[] => {
    const node = p.spec?.nodeName ? nodes.store.get(p.spec.nodeName) : undefined;
    const c = node ? campusOfNode(node, campuses.store.list()) : undefined;
    return c === undefined ? [] : [c];
  };

  async function setTaint(
    node: V1Node,
    add: boolean,
    campus: string,
    signal: AbortSignal,
  ): Promise<void> {
    const others = (node.spec?.taints ?? []).filter((t) => t.key !== taint.shielded);
    const taints: V1Taint[] = add
      ? [...others, { key: taint.shielded, value: campus, effect: 'NoSchedule' }]
      : others;
    // conditional on the version we read: a concurrent taint change is never overwritten
    await mergePatch(
      mgr.rest,
      kinds.Node,
      { name: node.metadata?.name ?? '' },
      { spec: { taints } },
      {
        resourceVersion: node.metadata?.resourceVersion ?? '',
        fieldManager,
        signal,
      },
    );
  }

  async function setServing(
    p: { namespace: string; name: string },
    status: 'True' | 'False',
    signal: AbortSignal,
  ) {
    const shielded = status === 'False';
    const body = {
      status: {
        conditions: [
          {
            type: podCondition.serving,
            status,
            lastTransitionTime: rfc3339(now()),
            reason: shielded ? 'CampusShielded' : 'CampusServing',
            message: shielded
              ? 'the campus is shielded: traffic leaves this pod'
              : 'the campus serves traffic',
          },
        ],
      },
    };
    try {
      await mgr.rest.patch(kinds.Pod, p, body, PatchStrategy.StrategicMergePatch, {
        subresource: 'status',
        query: { fieldManager },
        signal,
      });
    } catch (err) {
      if (!isNotFound(err)) throw err; // a pod that left needs nothing
    }
  }

  /** Makes nodes and pods of `campus` match `active`; returns how many writes it took. */
  async function enforce(
    campus: string,
    active: boolean,
    nodeViews: readonly NodeView[],
    podViews: readonly PodView[],
    signal: AbortSignal,
  ): Promise<number> {
    const actions = shieldActions(campus, active, nodeViews, podViews);
    for (const t of actions.taint) {
      const node = nodes.store.get(t.node);
      if (node) await setTaint(node, t.add, campus, signal);
    }
    // bounded fan-out: a campus can hold thousands of pods
    const queue = [...actions.serving];
    await Promise.all(
      Array.from({ length: Math.min(16, queue.length) }, async () => {
        for (let s = queue.shift(); s; s = queue.shift()) await setServing(s, s.status, signal);
      }),
    );
    return actions.taint.length + actions.serving.length;
  }

  async function reconcile(req: ReconcileRequest): Promise<ReconcileResult | void> {
    const campus = campuses.store.get(req.key);
    if (!campus) return;
    const name = req.name;
    const all = campuses.store.list();
    const allNodes = nodes.store.list();
    const nodeViews = allNodes.map((n) => nodeView(n, all));
    const mine = new Set(nodeViews.filter((n) => n.campus === name).map((n) => n.name));
    const podViews = pods.store
      .list()
      .flatMap((p) => (p.spec?.nodeName && mine.has(p.spec.nodeName) ? (podView(p) ?? []) : []));

    if (isDeleting(campus)) {
      // a campus going away must never leave its nodes blocked
      await enforce(name, false, nodeViews, podViews, req.signal);
      await removeFinalizer(mgr.rest, yardKinds.Campus, campus, finalizer.campusShield);
      return;
    }
    const current = await addFinalizer(mgr.rest, yardKinds.Campus, campus, finalizer.campusShield);

    const t = now();
    const facts = campusFacts(all, allNodes, t);
    const self = facts.find((f) => f.name === name);
    if (!self) return;
    const shield = shieldState(current.spec?.shield, t);
    const active = shield.kind === 'active';
    const writes = await enforce(name, active, nodeViews, podViews, req.signal);

    const before = current.status?.shield;
    const event = shieldEvent(before, shield);
    if (event) events.event(current, event);
    if (writes > 0) req.log.info('shield enforced', { campus: name, active, writes });
    const selected = new Set(self.selected);
    const status = campusStatus({
      self,
      all: facts,
      nodesReady: nodeViews.filter((n) => n.ready && selected.has(n.name)).length,
      shield,
      previous: current.status,
      generation: current.metadata.generation ?? 0,
      now: t,
      staleAfterMs,
    });
    // most events change nothing a campus reports: write only a changed status (our fields;
    // the amounts are the scheduler's)
    if (!jsonEqual(status, ownCampusStatus(current.status))) {
      await applyStatus(
        mgr.rest,
        yardKinds.Campus,
        { metadata: { name }, status },
        { fieldManager, signal: req.signal },
      );
    }
    // wake up when the shield is due to lift (whoever leads by then), or when the
    // scheduler's numbers go stale if it stops publishing
    const wake = Math.min(
      active ? shield.until.getTime() + 50 : Infinity,
      (staleAt(facts, staleAfterMs) ?? Infinity) + 50,
    );
    if (Number.isFinite(wake)) return { requeueAfter: Math.max(0, wake - t.getTime()) };
  }

  return mgr.add<Campus>({
    name: 'campus',
    reconcile,
    maxConcurrentReconciles: opts.concurrency ?? 2,
    resyncPeriodMs: 60_000,
    for: { type: yardKinds.Campus },
    watches: [
      // a node can move between campuses, and any campus's published numbers
      // (the scheduler's status writes) change every campus's CampusSafe
      watch<V1Node>({ type: kinds.Node, map: allCampuses }),
      watch<Campus>({ type: yardKinds.Campus, map: allCampuses }),
      // a pod matters only to its node's campus (the shield's serving condition);
      // pods change in bursts (a rollout, an offline wave): one pass per 200 ms
      watch<V1Pod>({ type: kinds.Pod, map: campusOfPod, delayMs: 200 }),
    ],
    rbac: [
      rule(yardKinds.Campus, ['patch']), // the shield finalizer
      rule(yardKinds.Campus, ['patch'], 'status'),
      rule(kinds.Node, ['patch']), // the shielded taint
      rule(kinds.Pod, ['patch'], 'status'), // the Serving condition
    ],
  });
}
