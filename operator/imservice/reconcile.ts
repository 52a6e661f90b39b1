// The IMService controller: one Deployment per campus (pinned to it, sized by
// ⌈capacity/(N−1)⌉), a Service, and a campus-by-campus rollout of template
// changes. Level-based: every reconcile derives the whole desired state from
// the IMService, the Campus objects and the Deployments it owns.
import type { V1Deployment, V1PodTemplateSpec } from '@kubernetes/client-node';
import type { Campus, IMService, IMServiceStatus } from '../../crds/index.ts';
import { campusSelector } from '../campus/views.ts';
import { shieldState } from '../campus/desired.ts';
import { yardKinds } from '../kinds.ts';
import {
  anyOf,
  apply,
  applyStatus,
  deletionTimestampChanged,
  generationChanged,
  isNotFound,
  keyOf,
  kinds,
  ownerKey,
  setCondition,
} from '../runtime/index.ts';
import type {
  Condition,
  Controller,
  Manager,
  ReconcileRequest,
  ReconcileResult,
} from '../runtime/index.ts';
import { parseDuration } from '../cli/duration.ts';
import {
  desiredDeployment,
  desiredService,
  labels,
  priorityClasses,
  templateHash,
  templateHashAnnotation,
} from './desired.ts';
import type { CampusPlacement, IMServiceView } from './desired.ts';
import { nextRolloutStep, rolloutOrder } from './rollout.ts';
import type { RolloutStep } from './rollout.ts';
import { perCampusReplicas, survivesLossOfAnyCampus } from './sizing.ts';
import type { CampusCount } from './sizing.ts';

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
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: existing.metadata?.name ?? '',
      namespace: existing.metadata?.namespace ?? '',
      labels: existing.metadata?.labels ?? {},
      annotations: {
        [templateHashAnnotation]: existing.metadata?.annotations?.[templateHashAnnotation] ?? '',
      },
      ownerReferences: existing.metadata?.ownerReferences ?? [],
    },
    spec: {
      replicas,
      selector: existing.spec?.selector ?? {},
      ...(existing.spec?.strategy ? { strategy: existing.spec.strategy } : {}),
      template: existing.spec?.template ?? {},
    },
  };
}

export function addIMServiceController(
  mgr: Manager,
  opts: IMServiceControllerOptions = {},
): Controller {
  const now = opts.now ?? (() => new Date());
  const imageReady = opts.imageReady ?? (() => Promise.resolve(true));
  const services = mgr.informers.informerFor<IMService>(yardKinds.IMService);
  const campuses = mgr.informers.informerFor<Campus>(yardKinds.Campus);
  const deployments = mgr.informers.informerFor<V1Deployment>(kinds.Deployment, {
    labelSelector: labels.imservice,
  });
  const events = mgr.eventRecorder('yard.dev/imservice-controller');
  let priorityClassesApplied = false;

  async function reconcile(req: ReconcileRequest): Promise<ReconcileResult | void> {
    const svc = services.store.get(req.key);
    if (!svc || svc.metadata.deletionTimestamp) return; // owned objects go by garbage collection
    if (!priorityClassesApplied) {
      for (const pc of priorityClasses()) {
        await apply(mgr.rest, kinds.PriorityClass, pc, { fieldManager, signal: req.signal });
      }
      priorityClassesApplied = true;
    }
    const v = view(svc);
    const t = now();
    const allCampuses = campuses.store.list().filter((c) => !c.metadata.deletionTimestamp);
    const wanted = svc.spec.campuses ? new Set(svc.spec.campuses) : undefined;
    const mine = allCampuses.filter((c) => !wanted || wanted.has(keyOf(c)));
    const placements: CampusPlacement[] = mine.map((c) => ({
      name: keyOf(c),
      nodeSelector: campusSelector(c),
    }));
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
    const byCampus = new Map(owned.map((d) => [d.metadata?.labels?.[labels.campus] ?? '', d]));

    // the rollout: which campus may take the new template now
    const order = rolloutOrder(
      placements.map((p) => p.name),
      svc.spec.rollout?.campusOrder,
    );
    const states = order.map((c) => {
      const d = byCampus.get(c);
      return {
        campus: c,
        hash: d?.metadata?.annotations?.[templateHashAnnotation],
        available: d ? rolledOut(d, shielded.has(c)) : false,
      };
    });
    const predistribute = svc.spec.rollout?.imagePredistribution ?? true;
    const ready = new Map<string, boolean>();
    for (const s of states) {
      if (s.hash !== undefined && s.hash !== target) {
        ready.set(s.campus, !predistribute || (await imageReady(svc, s.campus, v.template)));
        break; // only the next campus in order is asked
      }
    }
    let step: RolloutStep = nextRolloutStep(states, target, (c) => ready.get(c) ?? false);
    let requeueAfter: number | undefined;
    const pauseMs = svc.spec.rollout?.pauseBetweenCampuses
      ? parseDuration(svc.spec.rollout.pauseBetweenCampuses)
      : 0;
    if (step.kind === 'update' && pauseMs > 0) {
      // the campus before this one must have been done for `pause`
      const i = order.indexOf(step.campus);
      const prev = i > 0 ? byCampus.get(order[i - 1] ?? '') : undefined;
      const doneAt = prev ? completedAt(prev) : undefined;
      if (doneAt !== undefined && t.getTime() - doneAt < pauseMs) {
        requeueAfter = pauseMs - (t.getTime() - doneAt) + 50;
        step = { kind: 'wait-available', campus: step.campus };
      }
    }

    for (const p of placements) {
      const existing = byCampus.get(p.name);
      const takesTarget =
        !existing ||
        existing.metadata?.annotations?.[templateHashAnnotation] === target ||
        (step.kind === 'update' && step.campus === p.name);
      const desired =
        takesTarget || !existing
          ? desiredDeployment(v, p, perCampus, v.template, target)
          : keep(existing, perCampus);
      await apply(mgr.rest, kinds.Deployment, desired, { fieldManager, signal: req.signal });
      if (step.kind === 'update' && step.campus === p.name) {
        events.event(svc, {
          type: 'Normal',
          reason: 'CampusRollout',
          action: 'Update',
          note: `rolling out template ${target} to ${p.name}`,
        });
      }
    }
    // a campus that left (deleted, or dropped from spec.campuses) loses its Deployment
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
        note: `${campus} is no longer a campus of this service`,
      });
    }
    await apply(mgr.rest, kinds.Service, desiredService(v), { fieldManager, signal: req.signal });

    // status, from what the Deployments report
    const counts: CampusCount[] = placements.map((p) => {
      const d = byCampus.get(p.name);
      const s = d?.status;
      return {
        campus: p.name,
        desired: perCampus,
        ready: s?.readyReplicas ?? 0,
        updated:
          d?.metadata?.annotations?.[templateHashAnnotation] === target
            ? (s?.updatedReplicas ?? 0)
            : 0,
        available: s?.availableReplicas ?? 0,
      };
    });
    const sum = (f: (c: CampusCount) => number): number => counts.reduce((n, c) => n + f(c), 0);
    const available = sum((c) => c.available);
    const generation = svc.metadata.generation ?? 0;
    const cond = (
      conds: Condition[],
      type: string,
      ok: boolean,
      reason: string,
      message: string,
    ): Condition[] =>
      setCondition(
        conds,
        { type, status: ok ? 'True' : 'False', reason, message, observedGeneration: generation },
        t,
      );
    let conditions = (svc.status?.conditions ?? []) as Condition[];
    conditions = cond(
      conditions,
      'Available',
      available >= v.capacity,
      available >= v.capacity ? 'CapacityAvailable' : 'BelowCapacity',
      `${available} of ${v.capacity} needed replicas available (${counts.map((c) => `${c.campus} ${c.available}/${c.desired}`).join(', ') || 'no campus'})`,
    );
    const rolling = step.kind !== 'done' || counts.some((c) => c.updated < c.desired);
    const progressingReason =
      step.kind === 'wait-image'
        ? 'WaitingForImage'
        : step.kind === 'done'
          ? rolling
            ? 'Scaling'
            : 'RolloutComplete'
          : 'RollingOutCampus';
    conditions = cond(
      conditions,
      'Progressing',
      rolling,
      progressingReason,
      step.kind === 'done'
        ? rolling
          ? 'waiting for every campus to reach its desired replicas'
          : `every campus runs template ${target}`
        : step.kind === 'wait-image'
          ? `waiting for the image to reach ${step.campus} before rolling it out there`
          : `rolling out template ${target}: at ${step.campus}`,
    );
    const loss = survivesLossOfAnyCampus(v.capacity, counts);
    conditions = cond(
      conditions,
      'CampusSafe',
      loss.safe,
      loss.safe ? 'SurvivesCampusLoss' : 'CampusLossWouldDropBelowCapacity',
      loss.worst
        ? `losing ${loss.worst.campus} would leave ${loss.worst.remaining} of ${v.capacity} needed replicas`
        : 'no campus to run on',
    );
    const short = counts.filter((c) => !shielded.has(c.campus) && c.available < c.desired);
    conditions = cond(
      conditions,
      'Degraded',
      short.length > 0,
      short.length > 0 ? 'CampusBelowDesired' : 'AllCampusesAtDesired',
      short.length > 0
        ? `below desired in ${short.map((c) => `${c.campus} (${c.available}/${c.desired})`).join(', ')}`
        : 'every unshielded campus runs its desired replicas',
    );
    const phase =
      step.kind === 'done'
        ? 'Complete'
        : step.kind === 'wait-image'
          ? 'Distributing'
          : requeueAfter !== undefined
            ? 'Pausing'
            : 'Updating';
    const status: IMServiceStatus = {
      observedGeneration: generation,
      replicas: perCampus * placements.length,
      readyReplicas: sum((c) => c.ready),
      updatedReplicas: sum((c) => c.updated),
      availableReplicas: available,
      campuses: counts.map((c) => ({
        name: c.campus,
        desired: c.desired,
        ready: c.ready,
        updated: c.updated,
        available: c.available,
      })),
      rollout: {
        revision: target,
        phase,
        ...(step.kind !== 'done' ? { currentCampus: step.campus } : {}),
      },
      conditions: conditions as NonNullable<IMServiceStatus['conditions']>,
    };
    await applyStatus(
      mgr.rest,
      yardKinds.IMService,
      { metadata: { name: v.name, namespace: v.namespace }, status } as IMService,
      {
        fieldManager,
        signal: req.signal,
      },
    );
    if (requeueAfter !== undefined) return { requeueAfter };
    if (step.kind === 'wait-image') return { requeueAfter: 2000 };
  }

  return mgr.add<IMService>({
    name: 'imservice',
    reconcile,
    maxConcurrentReconciles: opts.concurrency ?? 4,
    for: { type: yardKinds.IMService },
    owns: [{ type: kinds.Deployment, scope: { labelSelector: labels.imservice } }],
    watches: [
      // the per-campus split follows the Campus objects: a campus added,
      // removed or shielded changes every service's desired state
      {
        type: yardKinds.Campus,
        map: () => services.store.list().map((s) => keyOf(s)),
        // not on the campus controller's status writes
        predicates: [anyOf(generationChanged, deletionTimestampChanged)],
      },
    ] as never,
  });
}
