// Kubernetes objects → the core's contract, pure. What a pod asks for, what a
// node offers, which campus, queue and job a pod belongs to. No client, no
// clock (`now` is an argument), so every rule here is a table test
// (mapping.test.ts). Quantities are read through runtime/quantity.ts, the
// one module that reads them for every component.
//
// Objects are the API's JSON as the informers cache them: timestamps are
// strings even where the client-node types say Date.
import type { V1Node, V1Pod, V1Taint } from '@kubernetes/client-node';
import type {
  Campus as CampusObject,
  OfflineJob,
  OfflineQueue as QueueObject,
  ResourceAmounts,
} from '../../crds/index.ts';
import { parseDuration } from '../../runtime/duration.ts';
import { bytes, milliCpu, podRequests, requestsOf } from '../../runtime/quantity.ts';
import {
  businessPriorities,
  type BusinessPriority,
  type Campus,
  type GangAsk,
  type NodeInfo,
  type OfflineQueue,
  type OnlineAsk,
  type PendingPod,
  type PlacedPod,
  type Resources,
  type Snapshot,
} from '../core/index.ts';
import { annotation, label, yardSchedulerName } from '../../crds/names.ts';
import { shieldState, campusOfNode, campusSelector } from '../../crds/index.ts';

/** A pod's key in the core and in the informer cache: `namespace/name`. */
export const podKey = (pod: V1Pod): string =>
  `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;

const ms = (t: Date | string | undefined): number =>
  t === undefined ? NaN : Date.parse(String(t));

// --- resources --------------------------------------------------------------

type Quantities = Readonly<Record<string, string | number>> | undefined;

/**
 * What the pod requests, as kube-scheduler counts it (runtime's
 * podRequests: containers, init containers, the pod overhead); one pod slot.
 */
export function podResources(pod: V1Pod): Resources {
  const r = podRequests(pod);
  return { cpu: r.cpu, memory: r.memory, pods: 1 };
}

/** CPU and memory of a CRD's ResourceAmounts; missing dimensions stay missing. */
export function amounts(r: ResourceAmounts | undefined): Partial<Resources> | undefined {
  if (!r) return undefined;
  return {
    ...(r.cpu === undefined ? {} : { cpu: milliCpu(r.cpu) }),
    ...(r.memory === undefined ? {} : { memory: bytes(r.memory) }),
  };
}

// --- nodes and campuses -----------------------------------------------------

/** Taints Yard's pods tolerate: none of the NoSchedule or NoExecute kind. */
export function blocksNewPods(t: V1Taint, tolerated: ReadonlySet<string> = new Set()): boolean {
  return (t.effect === 'NoSchedule' || t.effect === 'NoExecute') && !tolerated.has(t.key);
}

/**
 * The node as the core sees it, or undefined when it is in no campus (not
 * Yard's). Cordoned or not Ready: not schedulable. A NoSchedule/NoExecute
 * taint (the shield's `yard.dev/shielded` among them): tainted.
 */
export function nodeInfo(
  node: V1Node,
  campuses: readonly CampusObject[],
  tolerated: ReadonlySet<string> = new Set(),
): NodeInfo | undefined {
  const campus = campusOfNode(node, campuses);
  if (campus === undefined) return undefined;
  const alloc = node.status?.allocatable as Quantities;
  const ready = node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
  const { cpu, memory } = requestsOf(alloc);
  return {
    name: node.metadata?.name ?? '',
    campus,
    allocatable: {
      cpu,
      memory,
      pods: alloc?.['pods'] === undefined ? 0 : Math.floor(Number(alloc['pods'])),
    },
    schedulable: node.spec?.unschedulable !== true && ready === true,
    tainted: (node.spec?.taints ?? []).some((t) => blocksNewPods(t, tolerated)),
  };
}

/** The campus as the core sees it: its ceiling, and whether a shield holds at `now`. */
export function campusInfo(c: CampusObject, now: number): Campus {
  const percent = c.spec?.onlineCeilingPercent;
  return {
    name: c.metadata.name ?? '',
    ...(percent === undefined ? {} : { onlineCeiling: percent / 100 }),
    shielded: shieldState(c.spec?.shield, new Date(now)).kind === 'active',
  };
}

/** When the next active shield lifts by itself (the core's view changes then), or undefined. */
export function nextShieldChange(
  campuses: readonly CampusObject[],
  now: number,
): number | undefined {
  let next: number | undefined;
  for (const c of campuses) {
    const s = shieldState(c.spec?.shield, new Date(now));
    if (s.kind === 'active') next = Math.min(next ?? Infinity, s.until.getTime());
  }
  return next;
}

export function queueInfo(q: QueueObject): OfflineQueue {
  const spec = q.spec;
  const guaranteed = amounts(spec?.guaranteed);
  const max = amounts(spec?.max);
  return {
    name: q.metadata.name ?? '',
    ...(spec?.parent === undefined ? {} : { parent: spec.parent }),
    ...(spec?.weight === undefined ? {} : { weight: spec.weight }),
    ...(guaranteed ? { guaranteed } : {}),
    ...(max ? { max } : {}),
  };
}

// --- pods: what they are ------------------------------------------------------

/** The OfflineJob a pod belongs to, `namespace/name`: its owner, else its label. */
export function jobKeyOf(pod: V1Pod): string | undefined {
  const ns = pod.metadata?.namespace ?? '';
  const owner = pod.metadata?.ownerReferences?.find(
    (r) => r.kind === 'OfflineJob' && r.apiVersion.startsWith('yard.dev/'),
  );
  const name = owner?.name ?? pod.metadata?.labels?.[label.offlineJob];
  return name === undefined ? undefined : `${ns}/${name}`;
}

export const isOffline = (pod: V1Pod): boolean =>
  pod.metadata?.labels?.[label.framework] === 'offline' || jobKeyOf(pod) !== undefined;

/**
 * What a pod is to the scheduler:
 * - `placed`: bound and not finished — it holds its node (terminating or not);
 * - `pending`: Yard's to place (its scheduler, no node, not being deleted);
 * - `other`: holds nothing Yard counts (finished, another scheduler's pending
 *   pod, or an unbound pod being deleted).
 */
export type PodRole = 'placed' | 'pending' | 'other';

export function podRole(pod: V1Pod, schedulerName = yardSchedulerName): PodRole {
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') return 'other';
  if (pod.spec?.nodeName) return 'placed';
  if (pod.spec?.schedulerName === schedulerName && !pod.metadata?.deletionTimestamp)
    return 'pending';
  return 'other';
}

const isPriority = (p: string | undefined): p is BusinessPriority =>
  (businessPriorities as readonly string[]).includes(p ?? '');

/**
 * A pod's business priority: its label, else its `yard-<class>` priority
 * class, else the lowest (moments) — an unlabelled pod never outranks a
 * labelled one.
 */
export function businessPriorityOf(pod: V1Pod): BusinessPriority {
  const value = pod.metadata?.labels?.[label.businessPriority];
  if (isPriority(value)) return value;
  const pc = pod.spec?.priorityClassName?.replace(/^yard-/, '');
  return isPriority(pc) ? pc : 'moments';
}

/** The IMService (or, failing that, the app or owner) whose replicas spread together. */
export function serviceOf(pod: V1Pod): string {
  const m = pod.metadata;
  const ns = m?.namespace ?? '';
  const svc =
    m?.labels?.[label.imservice] ??
    m?.labels?.['app'] ??
    m?.ownerReferences?.find((r) => r.controller)?.name ??
    m?.name ??
    '';
  return `${ns}/${svc}`;
}

/** The job's priority, -1000..1000 (the CRD's range), 0 when unknown. */
const jobPriority = (job: OfflineJob | undefined): number => job?.spec.priority ?? 0;

/** The queue an offline pod runs in: its label, else its job's queue, else `default`. */
export function queueOf(pod: V1Pod, job: OfflineJob | undefined): string {
  return pod.metadata?.labels?.[label.queue] ?? job?.spec.queue ?? 'default';
}

/**
 * How far a running offline pod has got, 0..1: the time since it started over
 * the run time it declares. A pod that declares none counts as just started
 * (nothing to lose by preempting it is unknowable; the core then prefers
 * fewer victims).
 */
export function progressOf(pod: V1Pod, now: number): number {
  const declared = pod.metadata?.annotations?.[annotation.runDuration];
  const started = ms(pod.status?.startTime);
  if (declared === undefined || Number.isNaN(started)) return 0;
  let total: number;
  try {
    total = parseDuration(declared);
  } catch {
    return 0;
  }
  if (total <= 0) return 1;
  return Math.min(1, Math.max(0, (now - started) / total));
}

export interface PodContext {
  readonly now: number;
  /** The OfflineJob by key, from the cache. */
  readonly job: (key: string) => OfflineJob | undefined;
  readonly schedulerName?: string;
}

/**
 * A bound pod as the core counts it. Pods of other schedulers are load Yard
 * must live with: they count as online, at the top business priority, so that
 * Yard never picks them as victims.
 */
export function placedPod(pod: V1Pod, ctx: PodContext): PlacedPod | undefined {
  const node = pod.spec?.nodeName;
  if (!node || podRole(pod, ctx.schedulerName) !== 'placed') return undefined;
  const base = {
    name: podKey(pod),
    node,
    requests: podResources(pod),
    ...(pod.metadata?.deletionTimestamp ? { terminating: true } : {}),
  };
  const jobKey = jobKeyOf(pod);
  if (isOffline(pod)) {
    const job = jobKey === undefined ? undefined : ctx.job(jobKey);
    return {
      ...base,
      framework: 'offline',
      job: jobKey ?? podKey(pod),
      queue: queueOf(pod, job),
      priority: jobPriority(job),
      progress: progressOf(pod, ctx.now),
      gangMin: job?.spec.minAvailable ?? 0,
    };
  }
  const ours = pod.spec?.schedulerName === (ctx.schedulerName ?? yardSchedulerName);
  return {
    ...base,
    framework: 'online',
    service: serviceOf(pod),
    businessPriority: ours ? businessPriorityOf(pod) : 'payment',
  };
}

// --- pods: where they may go --------------------------------------------------

/**
 * The campuses an online pod is pinned to, from (first that says) its
 * nodeSelector's zone, the zones of its required node affinity, its
 * `yard.dev/campus` label, or a Campus whose node selector its nodeSelector
 * includes. Undefined: any campus.
 */
export function campusesOfPod(
  pod: V1Pod,
  campuses: readonly CampusObject[],
): readonly string[] | undefined {
  const sel = pod.spec?.nodeSelector ?? {};
  const zone = sel[label.zone];
  if (zone !== undefined) return [zone];
  const affinity = affinityZones(pod);
  if (affinity) return affinity;
  const pinned = pod.metadata?.labels?.[label.campus];
  if (pinned !== undefined) return [pinned];
  const matching = campuses
    .filter((c) => {
      const want = Object.entries(campusSelector(c));
      return want.length > 0 && want.every(([k, v]) => sel[k] === v);
    })
    .map((c) => c.metadata.name ?? '');
  return matching.length > 0 ? matching : undefined;
}

/** Zones every term of the required node affinity allows (terms are ORed), or undefined. */
function affinityZones(pod: V1Pod): string[] | undefined {
  const terms =
    pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution
      ?.nodeSelectorTerms ?? [];
  const zones = new Set<string>();
  for (const t of terms) {
    const e = t.matchExpressions?.find((x) => x.key === label.zone && x.operator === 'In');
    if (!e) return undefined; // a term that allows any zone: the pod is not pinned
    for (const v of e.values ?? []) zones.add(v);
  }
  return zones.size > 0 ? [...zones].sort() : undefined;
}

/**
 * The campus for an online pod that may go to several: the one with the most
 * online room left, after what this batch has already sent there (`taken`),
 * measured as the larger of its CPU and memory fractions left; then name
 * order. The core spreads within a campus; this spreads a batch across them.
 */
export function chooseCampus(
  candidates: readonly string[],
  headroom: (campus: string) => Resources,
  taken: ReadonlyMap<string, Resources>,
  req: Resources,
): string | undefined {
  let best: string | undefined;
  let bestRoom = -Infinity;
  for (const c of [...candidates].sort()) {
    const room = headroom(c);
    const used = taken.get(c);
    const cpu = room.cpu - (used?.cpu ?? 0) - req.cpu;
    const mem = room.memory - (used?.memory ?? 0) - req.memory;
    const score = Math.min(cpu / Math.max(1, req.cpu), mem / Math.max(1, req.memory));
    if (score > bestRoom) {
      best = c;
      bestRoom = score;
    }
  }
  return best;
}

export function onlineAsk(pod: V1Pod, campus: string): OnlineAsk {
  const nominated = pod.status?.nominatedNodeName;
  return {
    kind: 'online',
    pod: podKey(pod),
    service: serviceOf(pod),
    campus,
    businessPriority: businessPriorityOf(pod),
    requests: podResources(pod),
    created: ms(pod.metadata?.creationTimestamp) || 0,
    ...(nominated ? { nominatedNode: nominated } : {}),
  };
}

/** The campus an offline job is pinned to by its pods' zone, if any. */
function jobCampus(pods: readonly V1Pod[]): string | undefined {
  const zones = new Set(pods.map((p) => p.spec?.nodeSelector?.[label.zone]));
  const [only] = [...zones];
  return zones.size === 1 ? only : undefined;
}

/** An OfflineJob's pending pods as one gang ask (gang minimum and priority from the job). */
export function gangAsk(
  jobKey: string,
  job: OfflineJob | undefined,
  pods: readonly V1Pod[],
): GangAsk {
  const first = pods[0];
  const members: PendingPod[] = pods.map((p) => ({ name: podKey(p), requests: podResources(p) }));
  const campus = jobCampus(pods);
  const created = ms(job?.metadata.creationTimestamp ?? first?.metadata?.creationTimestamp);
  return {
    kind: 'gang',
    job: jobKey,
    queue: first ? queueOf(first, job) : (job?.spec.queue ?? 'default'),
    priority: jobPriority(job),
    minMember: job?.spec.minAvailable ?? 0,
    pods: members,
    created: created || 0,
    ...(campus === undefined ? {} : { campus }),
  };
}

// --- the whole picture ------------------------------------------------------------

export interface World {
  readonly nodes: readonly V1Node[];
  readonly campuses: readonly CampusObject[];
  readonly queues: readonly QueueObject[];
  readonly pods: readonly V1Pod[];
}

/** A snapshot of everything bound, for a one-off cycle (status, metrics, tests). */
export function snapshotOf(
  world: World,
  ctx: PodContext,
  tolerated?: ReadonlySet<string>,
): Snapshot {
  return {
    campuses: world.campuses.map((c) => campusInfo(c, ctx.now)),
    nodes: world.nodes.flatMap((n) => nodeInfo(n, world.campuses, tolerated) ?? []),
    pods: world.pods.flatMap((p) => placedPod(p, ctx) ?? []),
    queues: world.queues.map(queueInfo),
  };
}
