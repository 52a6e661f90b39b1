// The IMService controller: one Deployment per campus that owns nodes
// (pinned to it, sized by ⌈capacity/(N−1)⌉ over those N), a Service where one
// can route (see serviceRoutable), and a campus-by-campus rollout of template
// changes. Level-based: every reconcile derives the whole desired state from
// the IMService, the Campus objects, the nodes and the Deployments it owns.
// Events say what it did: a Deployment created or resized, a campus rolled
// out or dropped, the rollout complete, the Service removed, and (Warning) a
// campus the spec names that does not exist or one that has no nodes.
import type { V1Deployment, V1Node, V1PodTemplateSpec, V1Service } from '@kubernetes/client-node';
import type { Campus, IMService, IMServiceStatus } from '../../crds/index.ts';
import { yardKinds } from '../../crds/index.ts';
import {
  anyOf,
  apply,
  applyIfChanged,
  applyStatus,
  deletionTimestampChanged,
  generationChanged,
  isNotFound,
  jsonEqual,
  keyOf,
  kinds,
  labelsChanged,
  objectKey,
  ownerKey,
  rule,
  watch,
} from '../../runtime/index.ts';
import type {
  Controller,
  Manager,
  ReconcileRequest,
  ReconcileResult,
} from '../../runtime/index.ts';
import { parseDuration } from '../../runtime/duration.ts';
import {
  desiredDeployment,
  desiredService,
  priorityClasses,
  serviceRoutable,
  templateHash,
} from './desired.ts';
import type { CampusPlacement, IMServiceView } from './desired.ts';
import { campusesCondition, campusSpread } from './placement.ts';
import { nextRolloutStep, rolloutOrder } from './rollout.ts';
import type { RolloutStep } from './rollout.ts';
import { perCampusReplicas } from './sizing.ts';
import { campusCounts, imserviceStatus } from './status.ts';
import { label, annotation } from '../../crds/names.ts';
import { campusOfNode, campusSelector, shieldState } from '../../crds/index.ts';

export const fieldManager = 'yard-imservice-controller';

/**
 * Called before a campus takes a new template: true when the image is on
 * that campus's nodes (the image-distribution issue plugs in here); false
 * makes the rollout wait and ask again.
 */
export type ImageReadyHook = (
  svc: IMService,
  campus: string,
  template: V1PodTemplateSpec,
) => Promise<boolean>;

export interface IMServiceControllerOptions {
  readonly now?: () => Date;
  readonly imageReady?: ImageReadyHook;
  readonly concurrency?: number;
}

/** A Deployment has rolled out: the controller saw its spec, and every replica is updated and available. */
function rolledOut(d: V1Deployment, shielded: boolean): boolean {
  const want = d.spec?.replicas ?? 0;
  const s = d.status;
  if (!s || (s.observedGeneration ?? 0) < (d.metadata?.generation ?? 0)) return false;
  // a shielded campus's pods are not Ready by design: updated is all it can show
  return (s.updatedReplicas ?? 0) >= want && (shielded || (s.availableReplicas ?? 0) >= want);
}

/** When a Deployment last finished rolling out (its Progressing condition). */
function completedAt(d: V1Deployment): number | undefined {
  const c = d.status?.conditions?.find(
    (x) => x.type === 'Progressing' && x.reason === 'NewReplicaSetAvailable',
  );
  const t = c?.lastUpdateTime ?? c?.lastTransitionTime;
  return t ? new Date(t).getTime() : undefined;
}

function view(svc: IMService): IMServiceView {
  return {
    name: svc.metadata.name ?? '',
    namespace: svc.metadata.namespace ?? '',
    uid: svc.metadata.uid ?? '',
    tier: svc.spec.tier,
    businessPriority: svc.spec.businessPriority,
    capacity: svc.spec.capacity,
    schedulerName: svc.spec.schedulerName ?? 'yard',
    template: svc.spec.template,
    maxUnavailablePerCampus: svc.spec.rollout?.maxUnavailablePerCampus,
  };
}

/** The Deployment a campus keeps while it waits for its turn: its current template, the new size. */
function keep(existing: V1Deployment, replicas: number): V1Deployment {
  const meta = existing.metadata ?? {};
  const spec = existing.spec ?? { selector: {}, template: {} };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: meta.name ?? '',
      namespace: meta.namespace ?? '',
      labels: meta.labels ?? {},
      annotations: { [annotation.templateHash]: meta.annotations?.[annotation.templateHash] ?? '' },
      ownerReferences: meta.ownerReferences ?? [],
    },
    spec: {
      replicas,
      selector: spec.selector,
      ...(spec.strategy ? { strategy: spec.strategy } : {}),
      template: spec.template,
    },
  };
}

/** The rollout was under way and is complete now (not: the first status of a new service). */
function rolloutFinished(before: IMServiceStatus | undefined, next: IMServiceStatus): boolean {
  const phase = before?.rollout?.phase;
  return phase !== undefined && phase !== 'Complete' && next.rollout?.phase === 'Complete';
}

export function addIMServiceController(
  mgr: Manager,
  opts: IMServiceControllerOptions = {},
): Controller {
  const now = opts.now ?? (() => new Date());
  const imageReady = opts.imageReady ?? (() => Promise.resolve(true));
  const services = mgr.informers.informerFor<IMService>(yardKinds.IMService);
  const campuses = mgr.informers.informerFor<Campus>(yardKinds.Campus);
  // which campus owns which node decides where a service runs (placement.ts)
  const nodes = mgr.informers.informerFor<V1Node>(kinds.Node);
  const deployments = mgr.informers.informerFor<V1Deployment>(kinds.Deployment, {
    labelSelector: label.imservice,
  });
  // only to skip applying a Service that is already as wanted
  const servicesCache = mgr.informers.informerFor<V1Service>(kinds.Service, {
    labelSelector: label.imservice,
  });
  const events = mgr.eventRecorder('yard.dev/imservice-controller');

  // one attempt at a time for every worker; forgotten on failure so the next reconcile retries
  let priorityClassesApplied: Promise<void> | undefined;
  function ensurePriorityClasses(signal: AbortSignal): Promise<void> {
    priorityClassesApplied ??= (async () => {
      for (const pc of priorityClasses()) {
        await apply(mgr.rest, kinds.PriorityClass, pc, { fieldManager, signal });
      }
    })().catch((err: unknown) => {
      priorityClassesApplied = undefined;
      throw err;
    });
    return priorityClassesApplied;
  }

  /** Which campus may take the new template now, and how long a pause between campuses has left. */
  async function planRollout(
    svc: IMService,
    order: readonly string[],
    byCampus: ReadonlyMap<string, V1Deployment>,
    shielded: ReadonlySet<string>,
    target: string,
    t: Date,
  ): Promise<{ step: RolloutStep; requeueAfter: number | undefined }> {
    const states = order.map((c) => {
      const d = byCampus.get(c);
      return {
        campus: c,
        hash: d?.metadata?.annotations?.[annotation.templateHash],
        available: d ? rolledOut(d, shielded.has(c)) : false,
      };
    });
    // only the next campus in order is asked whether its image is there
    const next = states.find((s) => s.hash !== undefined && s.hash !== target);
    const predistribute = svc.spec.rollout?.imagePredistribution ?? true;
    const nextReady =
      next !== undefined &&
      (!predistribute || (await imageReady(svc, next.campus, svc.spec.template)));
    const step = nextRolloutStep(states, target, (c) => c === next?.campus && nextReady);
    const pause = svc.spec.rollout?.pauseBetweenCampuses;
    const pauseMs = pause ? parseDuration(pause) : 0;
    if (step.kind !== 'update' || pauseMs <= 0) return { step, requeueAfter: undefined };
    // the campus before this one must have been done for `pause`
    const i = order.indexOf(step.campus);
    const prev = i > 0 ? byCampus.get(order[i - 1] ?? '') : undefined;
    const doneAt = prev ? completedAt(prev) : undefined;
    if (doneAt === undefined || t.getTime() - doneAt >= pauseMs)
      return { step, requeueAfter: undefined };
    return {
      step: { kind: 'wait-available', campus: step.campus },
      requeueAfter: pauseMs - (t.getTime() - doneAt) + 50,
    };
  }

  /** Applies every campus's Deployment (the rollout decides each one's template) and drops campuses that left. */
  async function applyDeployments(
    svc: IMService,
    v: IMServiceView,
    placements: readonly CampusPlacement[],
    byCampus: ReadonlyMap<string, V1Deployment>,
    perCampus: number,
    target: string,
    step: RolloutStep,
    notCounted: ReadonlyMap<string, string>,
    signal: AbortSignal,
  ): Promise<void> {
    const updating = step.kind === 'update' ? step.campus : undefined;
    // the campuses' Deployments are independent: apply them at once
    await Promise.all(
      placements.map(async (p) => {
        const existing = byCampus.get(p.name);
        const desired =
          existing &&
          existing.metadata?.annotations?.[annotation.templateHash] !== target &&
          updating !== p.name
            ? keep(existing, perCampus)
            : desiredDeployment(v, p, perCampus, v.template, target);
        // reconciles follow every status change of the Deployments: most change nothing
        await applyIfChanged(mgr.rest, kinds.Deployment, desired, existing, {
          fieldManager,
          signal,
        });
        const name = desired.metadata?.name ?? '';
        const was = existing?.spec?.replicas;
        if (!existing) {
          events.event(svc, {
            type: 'Normal',
            reason: 'CampusAdded',
            action: 'Create',
            note: `created Deployment ${name}: ${perCampus} replicas in ${p.name}`,
          });
        } else if (was !== perCampus) {
          events.event(svc, {
            type: 'Normal',
            reason: 'CampusResized',
            action: 'Scale',
            note: `${p.name}: ${was ?? 0} → ${perCampus} replicas (capacity ${v.capacity} over ${placements.length} campuses)`,
          });
        }
      }),
    );
    if (updating) {
      events.event(svc, {
        type: 'Normal',
        reason: 'CampusRollout',
        action: 'Update',
        note: `rolling out template ${target} to ${updating}`,
      });
    }
    await dropCampusesThatLeft(svc, placements, byCampus, notCounted);
  }

  /** A campus that left (deleted, dropped from spec.campuses, or without nodes) loses its Deployment. */
  async function dropCampusesThatLeft(
    svc: IMService,
    placements: readonly CampusPlacement[],
    byCampus: ReadonlyMap<string, V1Deployment>,
    notCounted: ReadonlyMap<string, string>,
  ): Promise<void> {
    const placed = new Set(placements.map((p) => p.name));
    for (const [campus, d] of byCampus) {
      if (placed.has(campus)) continue;
      try {
        await mgr.rest.delete(kinds.Deployment, d.metadata?.namespace, d.metadata?.name ?? '');
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      events.event(svc, {
        type: 'Normal',
        reason: 'CampusRemoved',
        action: 'Delete',
        note: `deleted Deployment ${d.metadata?.name ?? ''}: ${campus} ${notCounted.get(campus) ?? 'is no longer a campus of this service'}`,
      });
    }
  }

  /** The Service where it can route; none (and an old one removed) where it cannot. */
  async function applyService(
    svc: IMService,
    v: IMServiceView,
    podCidrs: readonly string[],
    signal: AbortSignal,
  ) {
    const existing = servicesCache.store.get(objectKey(v.namespace, v.name));
    if (serviceRoutable(v.template, podCidrs)) {
      const created = !existing;
      const applied = await applyIfChanged(mgr.rest, kinds.Service, desiredService(v), existing, {
        fieldManager,
        signal,
      });
      if (applied && created) {
        events.event(svc, {
          type: 'Normal',
          reason: 'ServiceCreated',
          action: 'Create',
          note: `created Service ${v.name}`,
        });
      }
      return;
    }
    if (!existing || ownerKey(existing, yardKinds.IMService) !== keyOf(svc)) return;
    try {
      await mgr.rest.delete(kinds.Service, v.namespace, v.name);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    events.event(svc, {
      type: 'Normal',
      reason: 'ServiceRemoved',
      action: 'Delete',
      note: `removed Service ${v.name}: its pods run on loopback addresses, which a Service cannot route to; callers find the pods by watching them`,
    });
  }

  /** Events for what changed in the status: a campus problem appeared, a rollout finished. */
  function reportTransitions(svc: IMService, next: IMServiceStatus): void {
    const was = svc.status?.conditions?.find((c) => c.type === 'CampusesResolved');
    const now = next.conditions?.find((c) => c.type === 'CampusesResolved');
    if (now?.status === 'False' && (was?.status !== 'False' || was.message !== now.message)) {
      events.event(svc, {
        type: 'Warning',
        reason: now.reason,
        action: 'Place',
        note: now.message,
      });
    }
    if (rolloutFinished(svc.status, next)) {
      events.event(svc, {
        type: 'Normal',
        reason: 'RolloutComplete',
        action: 'Rollout',
        note: `every campus runs template ${next.rollout?.revision ?? ''}`,
      });
    }
  }

  async function reconcile(req: ReconcileRequest): Promise<ReconcileResult | void> {
    const svc = services.store.get(req.key);
    if (!svc || svc.metadata.deletionTimestamp) return; // owned objects go by garbage collection
    await ensurePriorityClasses(req.signal);
    const v = view(svc);
    const t = now();
    const allCampuses = campuses.store.list().filter((c) => !c.metadata.deletionTimestamp);
    const spread = campusSpread({
      campuses: allCampuses,
      nodes: nodes.store.list(),
      wanted: svc.spec.campuses,
      campusOrder: svc.spec.rollout?.campusOrder,
    });
    const byName = new Map(allCampuses.map((c) => [keyOf(c), c]));
    const placements: CampusPlacement[] = spread.counted.flatMap((name) => {
      const c = byName.get(name);
      return c ? [{ name, nodeSelector: campusSelector(c) }] : [];
    });
    const shielded = new Set(
      allCampuses
        .filter((c) => shieldState(c.spec?.shield, t).kind === 'active')
        .map((c) => keyOf(c)),
    );
    const perCampus = perCampusReplicas(v.capacity, placements.length);
    const target = templateHash(v.template);
    const owned = deployments.store
      .list()
      .filter(
        (d) =>
          d.metadata?.namespace === v.namespace && ownerKey(d, yardKinds.IMService) === req.key,
      );
    const byCampus = new Map(owned.map((d) => [d.metadata?.labels?.[label.campus] ?? '', d]));
    const order = rolloutOrder(
      placements.map((p) => p.name),
      svc.spec.rollout?.campusOrder,
    );

    const { step, requeueAfter } = await planRollout(svc, order, byCampus, shielded, target, t);
    const notCounted = new Map(
      spread.notCounted.map((n) => [n.campus, `${n.why} of its own`] as const),
    );
    await applyDeployments(
      svc,
      v,
      placements,
      byCampus,
      perCampus,
      target,
      step,
      notCounted,
      req.signal,
    );
    const counted = new Set(spread.counted);
    const podCidrs = nodes.store
      .list()
      .filter((n) => counted.has(campusOfNode(n, allCampuses) ?? ''))
      .flatMap((n) => n.spec?.podCIDRs ?? (n.spec?.podCIDR ? [n.spec.podCIDR] : []));
    await applyService(svc, v, podCidrs, req.signal);

    const status = imserviceStatus({
      capacity: v.capacity,
      counts: campusCounts(order, byCampus, perCampus, target),
      step,
      pausing: requeueAfter !== undefined,
      target,
      shielded,
      previous: svc.status?.conditions,
      generation: svc.metadata.generation ?? 0,
      now: t,
      campuses: campusesCondition(spread, { capacity: v.capacity, perCampus }),
    });
    reportTransitions(svc, status);
    // an unchanged world gives an equal status (conditions keep their times): write nothing then
    if (!jsonEqual(status, svc.status)) {
      await applyStatus(
        mgr.rest,
        yardKinds.IMService,
        { metadata: { name: v.name, namespace: v.namespace }, status },
        { fieldManager, signal: req.signal },
      );
    }
    if (requeueAfter !== undefined) return { requeueAfter };
    if (step.kind === 'wait-image') return { requeueAfter: 2000 };
  }

  return mgr.add<IMService>({
    name: 'imservice',
    reconcile,
    // reconciles wait on the API server, not on CPU
    maxConcurrentReconciles: opts.concurrency ?? 16,
    for: { type: yardKinds.IMService },
    owns: [
      { type: kinds.Deployment, scope: { labelSelector: label.imservice } },
      // a hand edit of the Service is undone (Services have no status to storm on)
      { type: kinds.Service, scope: { labelSelector: label.imservice } },
    ],
    watches: [
      // the per-campus split follows the Campus objects: a campus added,
      // removed or shielded changes every service's desired state
      watch<Campus>({
        type: yardKinds.Campus,
        map: () => services.store.list().map((s) => keyOf(s)),
        // not on the campus controller's status writes
        predicates: [anyOf(generationChanged, deletionTimestampChanged)],
      }),
      // a node added, removed or relabelled can give a campus its first node
      // or take its last; not on status heartbeats. Bursts (a campus of nodes
      // created) become one reconcile per service.
      watch<V1Node>({
        type: kinds.Node,
        map: () => services.store.list().map((s) => keyOf(s)),
        predicates: [labelsChanged],
        delayMs: 1000,
      }),
    ],
    rbac: [
      // server-side apply is a PATCH, also when it creates
      rule(kinds.PriorityClass, ['patch']),
      rule(kinds.Deployment, ['patch', 'delete']),
      rule(kinds.Service, ['patch', 'delete']),
      rule(yardKinds.IMService, ['patch'], 'status'),
    ],
  });
}
