// The simulated day of the scheduler benchmark (`npm run bench:scheduler --
// --only day`): a day compressed into minutes on a control plane of its own,
// with Yard's scheduler (scheduler/main.ts) and the operator (operator/main.ts,
// whose OfflineJob and OfflineQueue controllers run the offline work) as real
// processes, and kwok completing offline pods after their run duration.
//
//   - Online: four services per campus (plain Deployments pinned to the
//     campus, schedulerName yard, the operator's business PriorityClasses),
//     scaled every few seconds so that each campus's replicas follow
//     demand(t) = trough + (peak − trough)·(1 − cos 2πt/T)/2, trough = peak/3,
//     peak just under the campus's online ceiling (2/3 of its allocatable).
//     The day starts and ends at the trough and peaks at noon.
//   - Offline: three DRF queues, one kind of job each (gangs of 8 × 4 CPU,
//     gangs of 3 × 2 CPU, single pods of 1 CPU; running 20–80 s); OfflineJobs
//     queued up front to fill the trough, and fed whenever a queue has less
//     than its third of a backlog (a quarter of the cluster's CPU) waiting —
//     its jobs' pods not yet bound, created or not — so there is always
//     offline work waiting in every queue.
//   - Every second: allocated CPU (requests of bound pods neither finished nor
//     terminating, over all nodes' allocatable), online and offline; a node
//     over its allocatable; a campus's online pods over its ceiling.
//   - Every online pod's wait, from the moment the bench's watch sees it
//     created to the moment it sees it bound, and which of them needed an
//     eviction (Yard nominated a node for it: it preempted offline work, or
//     waited for the victims of an earlier preemption to leave).
// Mean allocation with colocation is online + offline; without colocation it
// is the online part of the same run (what the cluster would hold with no
// offline work on it). A benchmark: it never fails on a number.
import { request as httpsRequest } from 'node:https';
import type { RequestOptions } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import { availableParallelism } from 'node:os';
import { KubeConfig } from '@kubernetes/client-node';
import type { V1Deployment, V1Node, V1Pod } from '@kubernetes/client-node';
import type { OfflineJob, OfflineQueue } from '../../crds/index.ts';
import { priorityClasses } from '../../operator/imservice/desired.ts';
import { yardKinds } from '../../crds/index.ts';
import { Informer, isConflict, kinds, nullLogger, RestClient } from '../../runtime/index.ts';
import { podResources } from '../../scheduler/adapter/mapping.ts';
import { milliCpu as parseCpu } from '../../runtime/quantity.ts';
import type { BusinessPriority } from '../../scheduler/core/index.ts';
import { down, startReaper, up } from '../control-plane/cluster.ts';
import { campusNames, ensureYard } from '../harness/yard.ts';
import { OperatorProcess } from './operator-process.ts';
import { cpuSeconds, procStatusBytes } from './proc.ts';
import { bucketDelta, buckets, histogramQuantile, parseMetrics, sum } from './prometheus.ts';
import type { Sample } from './prometheus.ts';
import { mebibytes } from './report.ts';
import type { Row } from './report.ts';
import { label, priorityClassName } from '../../crds/names.ts';

/** A scheduler process the caller starts (scheduler.ts's, so that both parts run Yard alike). */
export interface DayProc {
  readonly pid: number;
  /** Resolves with the metrics port once it serves one. */
  readonly port: Promise<number>;
  stop(): Promise<void>;
}

export interface DayOptions {
  /** The control plane's folder (its own: the day runs on a cluster of its size). */
  readonly dir: string;
  readonly nodesPerCampus: number;
  /** Wall-clock minutes for 24 h. */
  readonly dayMinutes: number;
  /** Seconds between two scalings of the online services. */
  readonly stepSeconds: number;
  /** The peak of online demand, as a fraction of each campus's online ceiling. */
  readonly peakOfCeiling: number;
  readonly signal: AbortSignal;
  readonly progress: (line: string) => void;
  readonly startYard: (kubeconfig: string) => DayProc;
}

export const dayTargets = { meanAllocation: 0.85, onlineWaitMs: 2_000 } as const;

const ns = 'bench-day';
/** Every online replica (memory at 2 GiB a CPU: CPU, not memory, fills the 32-CPU/128-GiB nodes). */
const onlinePod = { cpu: '2', memory: '4Gi', milli: 2000 } as const;
/** Each campus's online replicas are split between its four services like this. */
const services: readonly { name: string; priority: BusinessPriority; share: number }[] = [
  { name: 'message', priority: 'message', share: 0.4 },
  { name: 'groupchat', priority: 'groupchat', share: 0.25 },
  { name: 'moments', priority: 'moments', share: 0.2 },
  { name: 'payment', priority: 'payment', share: 0.15 },
];

interface JobShape {
  readonly queue: string;
  readonly parallelism: number;
  readonly completions: number;
  readonly minAvailable?: number;
  readonly cpu: number;
  /** Run time of each pod: min, and the spread above it (s). */
  readonly run: readonly [number, number];
}

/** The offline work, one kind per queue: ML gangs of 8 × 4 CPU, ETL gangs of 3 (of 6) × 2 CPU, ad-hoc pods of 1 CPU. */
const shapes: readonly JobShape[] = [
  { queue: 'day-ml', parallelism: 8, completions: 16, minAvailable: 8, cpu: 4, run: [40, 40] },
  { queue: 'day-etl', parallelism: 6, completions: 18, minAvailable: 3, cpu: 2, run: [30, 30] },
  { queue: 'day-adhoc', parallelism: 4, completions: 8, cpu: 1, run: [20, 20] },
];
const queues: readonly { name: string; weight: number }[] = [
  { name: 'day-ml', weight: 2 },
  { name: 'day-etl', weight: 1 },
  { name: 'day-adhoc', weight: 1 },
];

export interface DayResult {
  readonly at: string;
  readonly nodes: number;
  readonly cpus: number;
  readonly dayMinutes: number;
  readonly stepSeconds: number;
  readonly allocatableCpu: number;
  /** Online replicas per campus at the trough and the peak (2 CPU each), and the campus ceiling (CPU). */
  readonly demand: { readonly trough: number; readonly peak: number; readonly ceilingCpu: number };
  /** Seconds from the first offline jobs to the start of the day (offline filling the trough). */
  readonly warmupSeconds: number;
  readonly wallSeconds: number;
  readonly samples: number;
  readonly allocation: {
    /** Online + offline, over all allocatable CPU. */
    readonly withColocation: Stats;
    /** The online part of the same run alone. */
    readonly withoutColocation: Stats;
    readonly offline: Stats;
    /** Unallocated CPU while offline pods were waiting, mean, over all allocatable. */
    readonly idleWhileOfflineWaited: number | undefined;
    /** Offline CPU waiting (pending pods' requests), mean, over all allocatable. */
    readonly offlineWaiting: number | undefined;
    /** CPU held by pods being deleted (counted in neither of the above), mean, over all allocatable. */
    readonly terminating: number | undefined;
  };
  readonly online: {
    readonly created: number;
    readonly bound: number;
    /** Deleted by a scale-down before they were bound. */
    readonly deletedUnbound: number;
    readonly pendingAtEnd: number;
    readonly waitP50Ms: number | undefined;
    readonly waitP99Ms: number | undefined;
    readonly waitMaxMs: number | undefined;
    /** Online pods whose placement needed an eviction (Yard nominated a node for them). */
    /** The slowest online pod that needed no eviction. */
    readonly noEvictionWaitMaxMs: number | undefined;
    readonly needingEviction: number;
    readonly evictionWaitP50Ms: number | undefined;
    readonly evictionWaitMaxMs: number | undefined;
    /** Of those, created → nominated (Yard decided to evict) and nominated → bound (the victims left). */
    readonly toNominatedP50Ms: number | undefined;
    readonly toNominatedMaxMs: number | undefined;
    readonly nominatedToBoundP50Ms: number | undefined;
    readonly nominatedToBoundMaxMs: number | undefined;
    /** Online pods evicted (should be none: demand stays under the ceiling). */
    readonly evicted: number;
    /** The slowest online pods: name, wait, and whether it needed an eviction. */
    readonly slowest: readonly { pod: string; waitMs: number; eviction: boolean }[];
  };
  readonly offline: {
    readonly jobsCreated: number;
    readonly jobsSucceeded: number;
    readonly podsSucceeded: number;
    /** Offline pods that were evicted (DisruptionTarget) before they finished. */
    readonly podsEvicted: number;
    /** Offline create→bound, for pods bound during the day. */
    readonly waitP50Ms: number | undefined;
    /** Offline pods from terminating (evicted, mostly) to gone: the finalizer the OfflineJob controller lifts. */
    readonly leaveP50Ms: number | undefined;
    readonly leaveMaxMs: number | undefined;
  };
  readonly scheduler: {
    readonly evictions: Readonly<Record<string, number>>;
    readonly preemptionAttempts: number;
    readonly apiWrites: Readonly<Record<string, number>>;
    readonly cycleP99Ms: number | undefined;
    readonly cpuSeconds: number | undefined;
    readonly peakRssBytes: number | undefined;
  };
  readonly operator: {
    readonly cpuSeconds: number | undefined;
    readonly peakRssBytes: number | undefined;
    /** The OfflineJob controller (4 workers): how long a job waited in its queue, mean and p99. */
    readonly jobQueueWaitMeanMs: number | undefined;
    readonly jobQueueWaitP99Ms: number | undefined;
    /** The p99 fell beyond the histogram's last bound (10 s): it is at least that. */
    readonly jobQueueWaitP99AtLeast: boolean;
    /** One reconcile of a job, mean; the deepest its queue was seen (every 15 s); reconciles failed. */
    readonly jobReconcileMeanMs: number | undefined;
    readonly jobQueueDepthMax: number;
    readonly jobReconcileErrors: number;
  };
  /** Writes the API server answered during the day (2xx), all clients, and the largest kinds. */
  readonly apiServer: {
    readonly writes: number;
    readonly top: readonly { readonly what: string; readonly count: number }[];
  };
  readonly nodesNotReady: number;
  readonly violations: {
    /** One-second samples with a node over its allocatable (terminating pods counted). */
    readonly nodeOverAllocatableSamples: number;
    /** One-second samples with a campus's online requests over its ceiling. */
    readonly campusOverCeilingSamples: number;
    /** Online pods bound outside the campus their nodeSelector names. */
    readonly onlineOutsideCampus: number;
    readonly examples: readonly string[];
  };
  /** Every tenth sample: seconds into the day, demand (replicas), online and offline CPU bound. */
  readonly timeline: readonly (readonly [number, number, number, number])[];
}

export interface Stats {
  readonly mean: number | undefined;
  readonly p50: number | undefined;
  readonly min: number | undefined;
}

// ---- small helpers ----------------------------------------------------------------

const quantile = (xs: readonly number[], q: number): number | undefined => {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};

const max = (xs: readonly number[]): number | undefined =>
  xs.length ? xs.reduce((a, b) => Math.max(a, b), -Infinity) : undefined;

const stats = (xs: readonly number[]): Stats => ({
  mean: xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : undefined,
  p50: quantile(xs, 0.5),
  min: xs.length ? Math.min(...xs) : undefined,
});

/** Notes the first time a key was seen so. */
const once = (m: Map<string, number>, key: string): void => {
  if (!m.has(key)) m.set(key, Date.now());
};
const isOffline = (p: V1Pod): boolean => p.metadata?.labels?.['yard.dev/framework'] === 'offline';
const finished = (p: V1Pod): boolean =>
  p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';
const disrupted = (p: V1Pod): boolean =>
  (p.status?.conditions ?? []).some((c) => c.type === 'DisruptionTarget' && c.status === 'True');
const allocCpu = (n: V1Node): number => parseCpu(n.status?.allocatable?.['cpu'] ?? '0');

/** Replicas a campus runs at `t` (0..1 of the day): trough at midnight, peak at noon. */
export function demandAt(t: number, trough: number, peak: number): number {
  return Math.round(trough + ((peak - trough) * (1 - Math.cos(2 * Math.PI * t))) / 2);
}

/** `total` replicas split over the services by share, largest remainders first. */
export function split(total: number): number[] {
  const raw = services.map((s) => s.share * total);
  const out = raw.map(Math.floor);
  const order = raw.map((r, i) => [r - Math.floor(r), i] as const).sort((a, b) => b[0] - a[0]);
  for (let k = 0, left = total - out.reduce((a, b) => a + b, 0); k < left; k++) {
    const i = order[k % order.length]?.[1] ?? 0;
    out[i] = (out[i] ?? 0) + 1;
  }
  return out;
}

// ---- what the bench watches ------------------------------------------------------------

/** The day's pods as one watch sees them: waits, outcomes, and the books every sample reads. */
class DayWatch {
  /** Online pods: when seen created (unbound), and when seen bound. */
  readonly created = new Map<string, { name: string; at: number }>();
  readonly bound = new Map<string, number>();
  /** Online pods Yard nominated a node for (it evicted for them, or held room): when first seen so. */
  readonly nominated = new Map<string, number>();
  /** Offline pods being deleted (evicted, mostly): when first seen so. */
  readonly offlineLeaving = new Map<string, number>();
  /** Offline pods: from first seen terminating to gone (the victims' side of an online pod's wait). */
  readonly offlineLeaveMs: number[] = [];
  readonly onlineEvicted = new Set<string>();
  readonly offlineEvicted = new Set<string>();
  readonly offlineSucceeded = new Set<string>();
  readonly offlineCreated = new Map<string, number>();
  readonly offlineWaits: number[] = [];
  readonly outside: string[] = [];
  deletedUnbound = 0;
  readonly inf: Informer<V1Pod>;
  readonly #zoneOf: ReadonlyMap<string, string>;

  constructor(rest: RestClient, zoneOf: ReadonlyMap<string, string>) {
    this.#zoneOf = zoneOf;
    this.inf = new Informer<V1Pod>({ rest, type: kinds.Pod, namespace: ns, log: nullLogger });
    this.inf.addHandler({
      onAdd: (p, initial) => this.#see(p, initial),
      onUpdate: (_, p) => this.#see(p, false),
      onDelete: (p) => this.#gone(p),
    });
  }

  #see(p: V1Pod, initial: boolean): void {
    if (isOffline(p)) this.#seeOffline(p, initial);
    else this.#seeOnline(p, initial);
  }

  #seeOffline(p: V1Pod, initial: boolean): void {
    const m = p.metadata ?? {};
    const uid = m.uid ?? '';
    this.#placed(this.offlineCreated, uid, p.spec?.nodeName, initial);
    if (p.status?.phase === 'Succeeded') this.offlineSucceeded.add(uid);
    else if (disrupted(p)) this.offlineEvicted.add(uid);
    if (m.deletionTimestamp) once(this.offlineLeaving, uid);
  }

  /** An offline pod's create→bound, from the first time it is seen unbound. */
  #placed(
    created: Map<string, number>,
    uid: string,
    node: string | undefined,
    initial: boolean,
  ): void {
    const c = created.get(uid);
    if (!node) {
      if (!initial) once(created, uid);
    } else if (c !== undefined) {
      this.offlineWaits.push(Date.now() - c);
      created.delete(uid);
    }
  }

  #seeOnline(p: V1Pod, initial: boolean): void {
    const { uid = '', name = '' } = p.metadata ?? {};
    const node = p.spec?.nodeName;
    if (!initial && !node && !this.created.has(uid))
      this.created.set(uid, { name, at: Date.now() });
    if (p.status?.nominatedNodeName) once(this.nominated, uid);
    if (disrupted(p)) this.onlineEvicted.add(uid);
    if (node && !this.bound.has(uid)) this.#bound(p, uid, node);
  }

  #bound(p: V1Pod, uid: string, node: string): void {
    this.bound.set(uid, Date.now());
    const want = p.spec?.nodeSelector?.[label.zone];
    const zone = this.#zoneOf.get(node);
    if (want && zone !== want)
      this.outside.push(`${p.metadata?.name} on ${node} in ${zone}, not ${want}`);
  }

  #gone(p: V1Pod): void {
    this.#see(p, false);
    const uid = p.metadata?.uid ?? '';
    const leaving = this.offlineLeaving.get(uid);
    if (leaving !== undefined) this.offlineLeaveMs.push(Date.now() - leaving);
    if (isOffline(p)) this.offlineCreated.delete(uid);
    else if (this.created.has(uid) && !this.bound.has(uid)) {
      this.created.delete(uid);
      this.deletedUnbound++;
    }
  }

  /** Online waits: [pod, wait ms, needed an eviction]. */
  waits(): [string, number, boolean][] {
    return [...this.created].flatMap(([uid, c]) => {
      const b = this.bound.get(uid);
      return b === undefined ? [] : [[c.name, b - c.at, this.nominated.has(uid)]];
    });
  }

  /** The waits of online pods that needed an eviction, in two: created→nominated, nominated→bound. */
  evictionLegs(): { toNominated: number[]; toBound: number[] } {
    const toNominated: number[] = [];
    const toBound: number[] = [];
    for (const [uid, n] of this.nominated) {
      const c = this.created.get(uid);
      const b = this.bound.get(uid);
      if (c === undefined || b === undefined) continue;
      toNominated.push(n - c.at);
      toBound.push(b - n);
    }
    return { toNominated, toBound };
  }

  pendingOnline(): number {
    return [...this.created.keys()].filter((uid) => !this.bound.has(uid)).length;
  }
}

interface NodeBook {
  readonly name: string;
  readonly zone: string;
  readonly alloc: number;
}

interface Tick {
  readonly online: number;
  readonly offline: number;
  /** Bound pods being deleted (evicted offline pods whose finalizer is not lifted yet, mostly). */
  readonly terminating: number;
  readonly offlinePending: number;
  readonly overNode: string | undefined;
  readonly overCeiling: string | undefined;
}

const add = (m: Map<string, number>, k: string, v: number): void => {
  m.set(k, (m.get(k) ?? 0) + v);
};

/** CPU (milli) by what it does: bound online or offline, terminating, offline waiting. */
class Books {
  online = 0;
  offline = 0;
  terminating = 0;
  offlinePending = 0;
  readonly onNode = new Map<string, number>();
  readonly onlineByZone = new Map<string, number>();

  count(p: V1Pod, zoneOf: ReadonlyMap<string, string>): void {
    const cpu = podResources(p).cpu;
    const node = p.spec?.nodeName;
    const leaving = Boolean(p.metadata?.deletionTimestamp);
    if (!node) {
      if (isOffline(p) && !leaving) this.offlinePending += cpu;
      return;
    }
    add(this.onNode, node, cpu); // terminating pods still hold their node
    if (leaving) this.terminating += cpu;
    else if (isOffline(p)) this.offline += cpu;
    else {
      this.online += cpu;
      add(this.onlineByZone, zoneOf.get(node) ?? '', cpu);
    }
  }
}

/** One sample of the books, and its violations. */
function sample(pods: readonly V1Pod[], nodes: readonly NodeBook[], ceiling: number): Tick {
  const b = new Books();
  const zoneOf = new Map(nodes.map((n) => [n.name, n.zone]));
  for (const p of pods) if (!finished(p)) b.count(p, zoneOf);
  const over = nodes.find((n) => (b.onNode.get(n.name) ?? 0) > n.alloc);
  const zoneOver = [...b.onlineByZone].find(([, cpu]) => cpu > ceiling + 1e-6);
  return {
    online: b.online,
    offline: b.offline,
    terminating: b.terminating,
    offlinePending: b.offlinePending,
    overNode: over && `${over.name} holds ${(b.onNode.get(over.name) ?? 0) / 1000} CPU`,
    overCeiling: zoneOver && `${zoneOver[0]}: online ${zoneOver[1] / 1000} CPU over its ceiling`,
  };
}

/** Per job (its name): pods succeeded, and pods bound that neither finished nor are leaving. */
function jobProgress(pods: readonly V1Pod[]): Map<string, { succeeded: number; bound: number }> {
  const seen = new Map<string, { succeeded: number; bound: number }>();
  for (const p of pods) {
    const job = p.metadata?.labels?.['yard.dev/offline-job'];
    if (!job) continue;
    const e = seen.get(job) ?? { succeeded: 0, bound: 0 };
    if (p.status?.phase === 'Succeeded') e.succeeded++;
    else if (p.spec?.nodeName && !finished(p) && !p.metadata?.deletionTimestamp) e.bound++;
    seen.set(job, e);
  }
  return seen;
}

// ---- objects --------------------------------------------------------------------------

function deployment(svc: (typeof services)[number], campus: string, replicas: number) {
  const name = `${svc.name}-${campus.replace('campus-', '')}`;
  const labels = {
    app: name,
    'yard.dev/imservice': name,
    'yard.dev/business-priority': svc.priority,
  };
  const d: V1Deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: ns },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels },
        spec: {
          schedulerName: 'yard',
          priorityClassName: priorityClassName(svc.priority),
          terminationGracePeriodSeconds: 0,
          nodeSelector: { [label.zone]: campus },
          containers: [
            {
              name: 'logic',
              image: `registry.local/yard/${svc.name}:1`,
              resources: { requests: { cpu: onlinePod.cpu, memory: onlinePod.memory } },
            },
          ],
        },
      },
    },
  };
  return d;
}

function offlineJob(j: number, s: JobShape): { job: OfflineJob; cpu: number } {
  const run = s.run[0] + ((j * 7919) % (s.run[1] + 1));
  const job: OfflineJob = {
    apiVersion: 'yard.dev/v1alpha1',
    kind: 'OfflineJob',
    metadata: { name: `job-${String(j).padStart(5, '0')}`, namespace: ns },
    spec: {
      queue: s.queue,
      parallelism: s.parallelism,
      completions: s.completions,
      ...(s.minAvailable === undefined ? {} : { minAvailable: s.minAvailable }),
      priority: j % 4,
      runDuration: `${run}s`,
      template: {
        spec: {
          terminationGracePeriodSeconds: 0,
          containers: [
            {
              name: 'task',
              image: 'registry.local/yard/batch:1',
              resources: { requests: { cpu: String(s.cpu), memory: `${s.cpu * 2}Gi` } },
            },
          ],
        },
      },
    },
  };
  return { job, cpu: s.cpu * 1000 * s.parallelism };
}

async function createIgnoringConflict(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (err) {
    if (!isConflict(err)) throw err;
  }
}

// ---- the day --------------------------------------------------------------------------

/** Brings up its own control plane, runs the day, tears everything down (even on error). */
export async function runDay(o: DayOptions): Promise<DayResult> {
  let started = false;
  try {
    const state = await up({
      dir: o.dir,
      name: 'yard-bench-scheduler-day',
      nodesPerCampus: o.nodesPerCampus,
      signal: o.signal,
      progress: (l) => o.progress(`day: control plane: ${l}`),
    });
    started = true;
    startReaper(o.dir);
    return await new Day(o, state.kubeconfig).run();
  } finally {
    if (started) await down(o.dir);
  }
}

class Day {
  readonly o: DayOptions;
  readonly kubeconfig: string;
  readonly rest: RestClient;
  readonly kc = new KubeConfig();
  nodes: NodeBook[] = [];
  jobsCreated = 0;
  operator: OperatorProcess | undefined;
  watch: DayWatch | undefined;
  jobQueueDepthMax = 0;
  /** The jobs queued and not seen done: what the feeder counts as waiting. */
  readonly unfinished = new Map<string, JobShape>();

  constructor(o: DayOptions, kubeconfig: string) {
    this.o = o;
    this.kubeconfig = kubeconfig;
    this.kc.loadFromFile(kubeconfig);
    this.rest = new RestClient(this.kc, { timeoutMs: 60_000, userAgent: 'yard-bench-day' });
  }

  get allocatable(): number {
    return this.nodes.reduce((n, x) => n + x.alloc, 0);
  }

  async run(): Promise<DayResult> {
    const o = this.o;
    await ensureYard(this.kc);
    await this.setup();
    const perCampus = this.allocatable / campusNames.length;
    const ceiling = (perCampus * (campusNames.length - 1)) / campusNames.length;
    const peak = Math.floor((ceiling * o.peakOfCeiling) / onlinePod.milli);
    const trough = Math.round(peak / 3);
    const watch = new DayWatch(this.rest, new Map(this.nodes.map((n) => [n.name, n.zone])));
    this.watch = watch;
    watch.inf.start();
    await watch.inf.waitForSync({ timeoutMs: 120_000 });
    const flaps = new NodeWatch(this.rest);
    await flaps.start();
    const yard = o.startYard(this.kubeconfig);
    const operator = OperatorProcess.start({
      kubeconfig: this.kubeconfig,
      identity: 'bench-day-operator',
      leaseNamespace: 'default',
      // info: its "serving /metrics" line gives its port
      logLevel: 'info',
    });
    this.operator = operator;
    try {
      for (const c of campusNames)
        for (const [i, n] of split(trough).entries()) {
          const svc = services[i];
          if (svc) await this.rest.create(kinds.Deployment, deployment(svc, c, n));
        }
      o.progress(
        `day: ${this.nodes.length} nodes (${this.allocatable / 1000} CPU); online ${trough}→${peak} replicas of 2 CPU a campus (ceiling ${(ceiling / 1000).toFixed(0)} CPU); ${o.dayMinutes} min for 24 h`,
      );
      const t0 = Date.now();
      const warmupSeconds = await this.warmUp(watch, perCampus - trough * onlinePod.milli);
      const before = parseMetrics(await metricsOf(yard));
      const apiBefore = parseMetrics(await apiserverMetrics(this.kc));
      const opBefore = parseMetrics(await operatorMetrics(operator));
      const day = await this.theDay(watch, trough, peak, ceiling);
      const after = parseMetrics(await metricsOf(yard));
      const apiAfter = parseMetrics(await apiserverMetrics(this.kc));
      const opAfter = parseMetrics(await operatorMetrics(operator));
      const jobs = await this.rest.list<OfflineJob>(yardKinds.OfflineJob, { namespace: ns });
      return this.result({
        watch,
        day,
        before,
        after,
        apiWrites: apiWrites(apiBefore, apiAfter),
        opBefore,
        opAfter,
        trough,
        peak,
        ceiling,
        warmupSeconds,
        wallSeconds: (Date.now() - t0) / 1000,
        jobsSucceeded: jobs.items.filter((j) => j.status?.phase === 'Succeeded').length,
        yard,
        operator,
        nodesNotReady: flaps.notReady.size,
      });
    } finally {
      await yard.stop();
      await operator.stop();
      await watch.inf.stop();
      await flaps.stop();
    }
  }

  async setup(): Promise<void> {
    const nodes = (await this.rest.list<V1Node>(kinds.Node)).items;
    this.nodes = nodes
      .map((n) => ({
        name: n.metadata?.name ?? '',
        zone: n.metadata?.labels?.[label.zone] ?? '',
        alloc: allocCpu(n),
      }))
      .filter((n) => (campusNames as readonly string[]).includes(n.zone));
    await this.rest.create(kinds.Namespace, {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: ns },
    });
    for (const pc of priorityClasses())
      await createIgnoringConflict(this.rest.create(kinds.PriorityClass, pc));
    for (const q of queues)
      await this.rest.create<OfflineQueue>(yardKinds.OfflineQueue, {
        apiVersion: 'yard.dev/v1alpha1',
        kind: 'OfflineQueue',
        metadata: { name: q.name },
        spec: { weight: q.weight },
      });
    // the ServiceAccount admission wants the namespace's default ServiceAccount
    for (let i = 0; i < 100 && !this.o.signal.aborted; i++) {
      try {
        await this.rest.request('GET', `/api/v1/namespaces/${ns}/serviceaccounts/default`);
        return;
      } catch {
        await sleep(100);
      }
    }
  }

  /**
   * Offline CPU waiting, by queue: each unfinished job's pods it should run
   * now (parallelism, or what is left of its completions) less those bound —
   * pending pods, and pods its controller has yet to create.
   */
  waiting(pods: readonly V1Pod[]): Map<string, number> {
    const seen = jobProgress(pods);
    const out = new Map<string, number>();
    for (const [name, shape] of this.unfinished) {
      const e = seen.get(name) ?? { succeeded: 0, bound: 0 };
      const left = shape.completions - e.succeeded;
      if (left <= 0) this.unfinished.delete(name);
      else {
        const want = Math.min(shape.parallelism, left);
        add(out, shape.queue, Math.max(0, want - e.bound) * shape.cpu * 1000);
      }
    }
    return out;
  }

  /** Creates jobs until each queue has its share of `want` CPU waiting; at most `limit` jobs a queue. */
  async feed(want: number, limit: number): Promise<void> {
    const waiting = this.waiting(this.watch?.inf.store.list() ?? []);
    for (const shape of shapes) {
      let w = waiting.get(shape.queue) ?? 0;
      for (let k = 0; k < limit && w < want / shapes.length; k++) {
        if (this.o.signal.aborted) return;
        const { job, cpu } = offlineJob(this.jobsCreated++, shape);
        await this.rest.create<OfflineJob>(yardKinds.OfflineJob, job);
        this.unfinished.set(job.metadata.name ?? '', shape);
        w += cpu;
      }
    }
  }

  /** A quarter of the cluster's CPU in offline work waiting, beyond what offline runs. */
  get backlog(): number {
    return this.allocatable / 4;
  }

  /** Queues the offline work up front and waits (≤ 3 min) until it fills the trough. */
  async warmUp(watch: DayWatch, offlineRoomPerCampus: number): Promise<number> {
    const t = Date.now();
    const room = offlineRoomPerCampus * campusNames.length;
    await this.feed(room + this.backlog, 1_000);
    this.o.progress(`day: ${this.jobsCreated} offline jobs queued up front`);
    let last = 0;
    while (Date.now() - t < 180_000 && !this.o.signal.aborted) {
      await sleep(1_000);
      const s = sample(watch.inf.store.list(), this.nodes, Infinity);
      const alloc = (s.online + s.offline) / this.allocatable;
      if (Date.now() - last > 10_000) {
        last = Date.now();
        this.o.progress(`day: warming up, ${(alloc * 100).toFixed(0)}% of CPU allocated`);
      }
      if (alloc >= 0.9 || (s.offline >= room * 0.9 && Date.now() - t > 20_000)) break;
      await this.feed(this.backlog, 10);
    }
    return (Date.now() - t) / 1000;
  }

  async theDay(
    watch: DayWatch,
    trough: number,
    peak: number,
    ceiling: number,
  ): Promise<DaySamples> {
    const o = this.o;
    const dayMs = o.dayMinutes * 60_000;
    const out: DaySamples = { ticks: [], timeline: [], overNode: [], overCeiling: [] };
    const replicas = new Map<string, number>();
    const t0 = Date.now();
    let nextStep = t0;
    let nextFeed = t0;
    let nextPrint = t0 + 15_000;
    let demand = trough;
    // bounded: one iteration a second for the day's length
    for (let i = 0; i <= dayMs / 1000 + 5 && !o.signal.aborted; i++) {
      const now = Date.now();
      const t = (now - t0) / dayMs;
      if (t >= 1) break;
      if (now >= nextStep) {
        nextStep += o.stepSeconds * 1000;
        demand = demandAt(t, trough, peak);
        await this.scale(demand, replicas);
      }
      const s = sample(watch.inf.store.list(), this.nodes, ceiling);
      out.ticks.push({ ...s, demand });
      if (s.overNode) out.overNode.push(s.overNode);
      if (s.overCeiling) out.overCeiling.push(s.overCeiling);
      if (i % 10 === 0)
        out.timeline.push([Math.round((now - t0) / 1000), demand, s.online, s.offline]);
      if (now >= nextFeed) {
        nextFeed += 2_000;
        await this.feed(this.backlog, 10);
      }
      if (now >= nextPrint) {
        nextPrint += 15_000;
        this.noteJobQueueDepth();
        o.progress(
          `day: ${(t * 24).toFixed(1)} h, online ${demand} replicas a campus, ` +
            `CPU ${pct(s.online + s.offline, this.allocatable)} allocated ` +
            `(online ${pct(s.online, this.allocatable)}, offline ${pct(s.offline, this.allocatable)}), ` +
            `${watch.pendingOnline()} online pending, ${this.jobsCreated} jobs`,
        );
      }
      await sleep(Math.max(0, t0 + (i + 1) * 1000 - Date.now()));
    }
    return out;
  }

  /** Notes the OfflineJob controller's queue depth (without holding up the loop). */
  noteJobQueueDepth(): void {
    if (!this.operator) return;
    void operatorMetrics(this.operator).then((t) => {
      const depth = sum(parseMetrics(t), 'workqueue_depth', { name: 'offlinejob' });
      this.jobQueueDepthMax = Math.max(this.jobQueueDepthMax, depth);
    });
  }

  /** Sets each Deployment's replicas to its share of `demand` (changed ones only). */
  async scale(demand: number, replicas: Map<string, number>): Promise<void> {
    const writes: Promise<unknown>[] = [];
    for (const c of campusNames)
      for (const [i, n] of split(demand).entries()) {
        const svc = services[i];
        if (!svc) continue;
        const name = deployment(svc, c, n).metadata?.name ?? '';
        if (replicas.get(name) === n) continue;
        replicas.set(name, n);
        writes.push(
          this.rest.patch(
            kinds.Deployment,
            { namespace: ns, name },
            { spec: { replicas: n } },
            'application/merge-patch+json',
          ),
        );
      }
    const failed = (await Promise.allSettled(writes)).filter((r) => r.status === 'rejected');
    if (failed.length > 0) {
      this.o.progress(`day: ${failed.length} scale writes failed; trying them again next step`);
      replicas.clear();
    }
  }

  result(r: {
    watch: DayWatch;
    day: DaySamples;
    before: Sample[];
    after: Sample[];
    apiWrites: DayResult['apiServer'];
    opBefore: Sample[];
    opAfter: Sample[];
    trough: number;
    peak: number;
    ceiling: number;
    warmupSeconds: number;
    wallSeconds: number;
    jobsSucceeded: number;
    yard: DayProc;
    operator: OperatorProcess;
    nodesNotReady: number;
  }): DayResult {
    const { watch, day } = r;
    const alloc = this.allocatable;
    const frac = (f: (t: DayTick) => number) => day.ticks.map((t) => f(t) / alloc);
    const waiting = day.ticks.filter((t) => t.offlinePending > 0);
    const waits = watch.waits();
    const evictionWaits = waits.filter((w) => w[2]).map((w) => w[1]);
    const legs = watch.evictionLegs();
    const delta = (name: string, labels: Record<string, string> = {}) =>
      sum(r.after, name, labels) - sum(r.before, name, labels);
    const cycle = bucketDelta(
      buckets(r.after, 'yard_scheduling_cycle_duration_seconds'),
      buckets(r.before, 'yard_scheduling_cycle_duration_seconds'),
    );
    const cycleP99 = histogramQuantile(0.99, cycle);
    return {
      at: new Date().toISOString(),
      nodes: this.nodes.length,
      cpus: availableParallelism(),
      dayMinutes: this.o.dayMinutes,
      stepSeconds: this.o.stepSeconds,
      allocatableCpu: alloc / 1000,
      demand: { trough: r.trough, peak: r.peak, ceilingCpu: r.ceiling / 1000 },
      warmupSeconds: r.warmupSeconds,
      wallSeconds: r.wallSeconds,
      samples: day.ticks.length,
      allocation: {
        withColocation: stats(frac((t) => t.online + t.offline)),
        withoutColocation: stats(frac((t) => t.online)),
        offline: stats(frac((t) => t.offline)),
        idleWhileOfflineWaited: stats(waiting.map((t) => (alloc - t.online - t.offline) / alloc))
          .mean,
        offlineWaiting: stats(frac((t) => t.offlinePending)).mean,
        terminating: stats(frac((t) => t.terminating)).mean,
      },
      online: {
        created: watch.created.size,
        bound: waits.length,
        deletedUnbound: watch.deletedUnbound,
        pendingAtEnd: watch.pendingOnline(),
        waitP50Ms: quantile(
          waits.map((w) => w[1]),
          0.5,
        ),
        waitP99Ms: quantile(
          waits.map((w) => w[1]),
          0.99,
        ),
        waitMaxMs: waits.length ? Math.max(...waits.map((w) => w[1])) : undefined,
        noEvictionWaitMaxMs: max(waits.filter((w) => !w[2]).map((w) => w[1])),
        needingEviction: evictionWaits.length,
        evictionWaitP50Ms: quantile(evictionWaits, 0.5),
        evictionWaitMaxMs: evictionWaits.length ? Math.max(...evictionWaits) : undefined,
        toNominatedP50Ms: quantile(legs.toNominated, 0.5),
        toNominatedMaxMs: max(legs.toNominated),
        nominatedToBoundP50Ms: quantile(legs.toBound, 0.5),
        nominatedToBoundMaxMs: max(legs.toBound),
        evicted: watch.onlineEvicted.size,
        slowest: [...waits]
          .sort((a, b) => b[1] - a[1])
          .slice(0, 5)
          .map(([pod, waitMs, eviction]) => ({ pod, waitMs, eviction })),
      },
      offline: {
        jobsCreated: this.jobsCreated,
        jobsSucceeded: r.jobsSucceeded,
        podsSucceeded: watch.offlineSucceeded.size,
        podsEvicted: watch.offlineEvicted.size,
        waitP50Ms: quantile(watch.offlineWaits, 0.5),
        leaveP50Ms: quantile(watch.offlineLeaveMs, 0.5),
        leaveMaxMs: max(watch.offlineLeaveMs),
      },
      scheduler: {
        evictions: {
          preemption: delta('yard_evictions_total', { reason: 'preemption' }),
          revocation: delta('yard_evictions_total', { reason: 'revocation' }),
        },
        preemptionAttempts: delta('scheduler_preemption_attempts_total'),
        apiWrites: Object.fromEntries(
          ['binding', 'eviction', 'status', 'event'].map((k) => [
            k,
            delta('yard_api_writes_total', { kind: k }),
          ]),
        ),
        cycleP99Ms: cycleP99 === undefined ? undefined : cycleP99 * 1000,
        cpuSeconds: cpuSeconds(r.yard.pid),
        peakRssBytes: procStatusBytes(r.yard.pid, 'VmHWM'),
      },
      operator: {
        cpuSeconds: cpuSeconds(r.operator.pid),
        peakRssBytes: r.operator.peakRssBytes(),
        ...jobControllerStats(r.opBefore, r.opAfter),
        jobQueueDepthMax: this.jobQueueDepthMax,
      },
      apiServer: r.apiWrites,
      nodesNotReady: r.nodesNotReady,
      violations: {
        nodeOverAllocatableSamples: day.overNode.length,
        campusOverCeilingSamples: day.overCeiling.length,
        onlineOutsideCampus: watch.outside.length,
        examples: [...day.overNode, ...day.overCeiling, ...watch.outside].slice(0, 5),
      },
      timeline: day.timeline.map(([s, d, on, off]) => [s, d, on / 1000, off / 1000] as const),
    };
  }
}

interface DayTick extends Tick {
  readonly demand: number;
}

interface DaySamples {
  readonly ticks: DayTick[];
  readonly timeline: (readonly [number, number, number, number])[];
  readonly overNode: string[];
  readonly overCeiling: string[];
}

const pct = (part: number, whole: number): string =>
  whole > 0 ? `${((part / whole) * 100).toFixed(0)}%` : 'n/a';

async function metricsOf(p: DayProc): Promise<string> {
  const port = await Promise.race([p.port, sleep(10_000).then(() => 0)]);
  if (!port) return '';
  try {
    return await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  } catch {
    return '';
  }
}

/** The operator's /metrics, or '' when it does not answer. */
async function operatorMetrics(op: OperatorProcess): Promise<string> {
  try {
    return await op.metrics();
  } catch {
    return '';
  }
}

/** The OfflineJob controller between two scrapes of the operator. */
function jobControllerStats(before: readonly Sample[], after: readonly Sample[]) {
  const d = (name: string, labels: Record<string, string>): number =>
    sum(after, name, labels) - sum(before, name, labels);
  const q = { name: 'offlinejob' };
  const c = { controller: 'offlinejob' };
  const mean = (s: string, n: string, l: Record<string, string>): number | undefined =>
    d(n, l) > 0 ? (d(s, l) / d(n, l)) * 1000 : undefined;
  const waits = bucketDelta(
    buckets(after, 'workqueue_queue_duration_seconds', q),
    buckets(before, 'workqueue_queue_duration_seconds', q),
  );
  const p99 = histogramQuantile(0.99, waits);
  const finite = waits.filter((b) => Number.isFinite(b.le));
  const top = finite.at(-1);
  return {
    jobQueueWaitMeanMs: mean(
      'workqueue_queue_duration_seconds_sum',
      'workqueue_queue_duration_seconds_count',
      q,
    ),
    jobQueueWaitP99Ms: p99 === undefined ? undefined : p99 * 1000,
    jobQueueWaitP99AtLeast:
      top !== undefined && (waits.at(-1)?.count ?? 0) * 0.99 > top.count && p99 === top.le,
    jobReconcileMeanMs: mean(
      'controller_runtime_reconcile_time_seconds_sum',
      'controller_runtime_reconcile_time_seconds_count',
      c,
    ),
    jobReconcileErrors: d('controller_runtime_reconcile_errors_total', c),
  };
}

/** The API server's own /metrics (its request counters), or '' when it does not answer. */
async function apiserverMetrics(kc: KubeConfig): Promise<string> {
  const server = kc.getCurrentCluster()?.server;
  if (!server) return '';
  const opts: RequestOptions = { method: 'GET', path: '/metrics', timeout: 30_000 };
  try {
    await kc.applyToHTTPSOptions(opts);
    const url = new URL(server);
    return await new Promise<string>((resolve, reject) => {
      const req = httpsRequest({ ...opts, host: url.hostname, port: url.port }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve(res.statusCode === 200 ? body : ''));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.on('timeout', () => req.destroy(new Error('timed out')));
      req.end();
    });
  } catch {
    return '';
  }
}

const writeVerbs = new Set(['POST', 'PUT', 'PATCH', 'DELETE', 'APPLY']);

/** Successful writes between two scrapes of the API server, by resource and verb. */
function apiWrites(before: readonly Sample[], after: readonly Sample[]): DayResult['apiServer'] {
  const count = (xs: readonly Sample[]): Map<string, number> => {
    const m = new Map<string, number>();
    for (const x of xs) {
      const l = x.labels;
      if (x.name !== 'apiserver_request_total' || !writeVerbs.has(l['verb'] ?? '')) continue;
      if (!(l['code'] ?? '').startsWith('2')) continue;
      const what = `${l['verb']} ${l['resource']}${l['subresource'] ? `/${l['subresource']}` : ''}`;
      m.set(what, (m.get(what) ?? 0) + x.value);
    }
    return m;
  };
  const b = count(before);
  const d = [...count(after)].map(([what, n]) => ({ what, count: n - (b.get(what) ?? 0) }));
  d.sort((x, y) => y.count - x.count);
  return { writes: d.reduce((n, x) => n + x.count, 0), top: d.slice(0, 6) };
}

/**
 * Nodes that were NotReady, tainted or cordoned at some moment of a phase:
 * kwok, starved of CPU, can miss a node lease renewal and the node lifecycle
 * controller then marks the node. A scheduler rightly avoids such nodes, so
 * where they end up emptier than others is no spread violation.
 */
export class NodeWatch {
  readonly notReady = new Set<string>();
  readonly #inf: Informer<V1Node>;
  constructor(rest: RestClient) {
    this.#inf = new Informer<V1Node>({ rest, type: kinds.Node, log: nullLogger });
    const see = (n: V1Node): void => {
      const ready = n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
      const tainted = (n.spec?.taints ?? []).some((t) => t.effect !== 'PreferNoSchedule');
      if (!ready || tainted || n.spec?.unschedulable) this.notReady.add(n.metadata?.name ?? '');
    };
    this.#inf.addHandler({ onAdd: see, onUpdate: (_, n) => see(n) });
  }
  async start(): Promise<void> {
    this.#inf.start();
    await this.#inf.waitForSync({ timeoutMs: 120_000 });
  }
  stop(): Promise<void> {
    return this.#inf.stop();
  }
}

// ---- the report -----------------------------------------------------------------------

const percent = (x: number | undefined): string =>
  x === undefined ? 'n/a' : `${(x * 100).toFixed(1)}%`;
const ms = (x: number | undefined): string => (x === undefined ? 'n/a' : `${x.toFixed(0)} ms`);

const p99Text = (op: DayResult['operator']): string =>
  `${op.jobQueueWaitP99AtLeast ? '≥ ' : ''}${ms(op.jobQueueWaitP99Ms)}`;

/** The day's rows: the issue's two targets first, then what explains them. */
export function dayRows(d: DayResult): Row[] {
  const a = d.allocation;
  const on = d.online;
  const worstOnOffline = on.evictionWaitMaxMs;
  return [
    {
      what: 'day: mean allocated CPU, with colocation (online + offline)',
      value: percent(a.withColocation.mean),
      target: `≥ ${dayTargets.meanAllocation * 100}%`,
      met:
        a.withColocation.mean === undefined
          ? undefined
          : a.withColocation.mean >= dayTargets.meanAllocation,
    },
    {
      what: 'day: the same, p50 / min',
      value: `${percent(a.withColocation.p50)} / ${percent(a.withColocation.min)}`,
    },
    {
      what: 'day: mean allocated CPU without colocation (the online part of the same run)',
      value: `${percent(a.withoutColocation.mean)} (p50 ${percent(a.withoutColocation.p50)}, min ${percent(a.withoutColocation.min)})`,
    },
    {
      what: `day: worst wait of an online pod whose placement needed an eviction (${on.needingEviction} pods)`,
      value: ms(worstOnOffline),
      target: `≤ ${dayTargets.onlineWaitMs} ms`,
      met: worstOnOffline === undefined ? undefined : worstOnOffline <= dayTargets.onlineWaitMs,
    },
    {
      what: `day: wait of any online pod (${on.bound} bound), p50 / p99 / max (max of those with no eviction)`,
      value: `${ms(on.waitP50Ms)} / ${ms(on.waitP99Ms)} / ${ms(on.waitMaxMs)} (${ms(on.noEvictionWaitMaxMs)})`,
      target: `max ≤ ${dayTargets.onlineWaitMs} ms`,
      met: on.waitMaxMs === undefined ? undefined : on.waitMaxMs <= dayTargets.onlineWaitMs,
    },
    {
      what: '  of which created → eviction decided (p50 / max), and → bound once the victims left',
      value: `${ms(on.toNominatedP50Ms)} / ${ms(on.toNominatedMaxMs)}, ${ms(on.nominatedToBoundP50Ms)} / ${ms(on.nominatedToBoundMaxMs)}`,
    },
    {
      what: 'day: an evicted offline pod from terminating to gone (p50 / max)',
      value: `${ms(d.offline.leaveP50Ms)} / ${ms(d.offline.leaveMaxMs)}`,
    },
    {
      what: 'day: online pods still pending at the end / evicted',
      value: `${on.pendingAtEnd} / ${on.evicted}`,
    },
    {
      what: 'day: CPU unallocated while offline work waited / held by terminating pods / offline CPU waiting (means)',
      value: `${percent(a.idleWhileOfflineWaited)} / ${percent(a.terminating)} / ${percent(a.offlineWaiting)}`,
    },
    {
      what: 'day: offline pods completed / evicted; jobs done of queued',
      value: `${d.offline.podsSucceeded} / ${d.offline.podsEvicted}; ${d.offline.jobsSucceeded} of ${d.offline.jobsCreated}`,
    },
    {
      what: 'day: Yard evictions (preemption / revocation), preemption attempts',
      value: `${d.scheduler.evictions['preemption'] ?? 0} / ${d.scheduler.evictions['revocation'] ?? 0}, ${d.scheduler.preemptionAttempts}`,
    },
    {
      what: 'day: Yard API writes (binding / eviction / status / event)',
      value: ['binding', 'eviction', 'status', 'event']
        .map((k) => String(d.scheduler.apiWrites[k] ?? 0))
        .join(' / '),
    },
    {
      what: 'day: API server writes (all clients), and the largest kinds',
      value: `${d.apiServer.writes}: ${d.apiServer.top.map((t) => `${t.what} ${t.count}`).join(', ')}`,
    },
    {
      what: 'day: OfflineJob controller: queue wait mean / p99, reconcile mean, deepest queue, failed reconciles',
      value: `${ms(d.operator.jobQueueWaitMeanMs)} / ${p99Text(d.operator)}, ${ms(d.operator.jobReconcileMeanMs)}, ${d.operator.jobQueueDepthMax}, ${d.operator.jobReconcileErrors}`,
    },
    {
      what: 'day: Yard cycle p99, CPU s, peak RSS; operator CPU s, peak RSS',
      value: `${ms(d.scheduler.cycleP99Ms)}, ${d.scheduler.cpuSeconds?.toFixed(0) ?? 'n/a'} s, ${mebibytes(d.scheduler.peakRssBytes)}; ${d.operator.cpuSeconds?.toFixed(0) ?? 'n/a'} s, ${mebibytes(d.operator.peakRssBytes)}`,
    },
    {
      what: 'day: violations (samples with a node over allocatable / a campus over its online ceiling; online pods outside their campus)',
      value: `${d.violations.nodeOverAllocatableSamples} / ${d.violations.campusOverCeilingSamples}; ${d.violations.onlineOutsideCampus}`,
      target: '0',
      met:
        d.violations.nodeOverAllocatableSamples +
          d.violations.campusOverCeilingSamples +
          d.violations.onlineOutsideCampus ===
        0,
    },
  ];
}

/** One line on the day's setting, printed above its rows. */
export function dayHeading(d: DayResult): string {
  return (
    `Simulated day: ${d.nodes} simulated nodes (${d.allocatableCpu} CPU) in ${campusNames.length} campuses, ` +
    `24 h in ${d.dayMinutes} min (step ${d.stepSeconds} s, ${d.samples} one-second samples, warm-up ${d.warmupSeconds.toFixed(0)} s), ` +
    `online ${d.demand.trough}→${d.demand.peak} replicas of 2 CPU a campus (ceiling ${d.demand.ceilingCpu.toFixed(0)} CPU), ${d.cpus} CPUs`
  );
}

/** What the numbers say limits Yard in the day. */
export function dayLimits(d: DayResult): string {
  const a = d.allocation;
  const on = d.online;
  const op = d.operator;
  const w = d.scheduler.apiWrites;
  const reports = (w['status'] ?? 0) + (w['event'] ?? 0);
  const share = d.apiServer.writes > 0 ? reports / d.apiServer.writes : undefined;
  return [
    `allocation: offline work takes mean allocated CPU from ${percent(a.withoutColocation.mean)} (online alone) to ${percent(a.withColocation.mean)}; ` +
      `while offline work waited, ${percent(a.idleWhileOfflineWaited)} of the CPU was still unallocated on average ` +
      `(${percent(a.terminating)} held by evicted pods still terminating; the rest room between a pod's end and its replacement's bind, ` +
      `the OfflineJob controller creating replacements late, or holes smaller than a waiting gang).`,
    `Online waits: Yard decides fast (created → eviction decided ≤ ${ms(on.toNominatedMaxMs)} for the ${on.needingEviction} pods that needed one) ` +
      `but binds such a pod only once room is free, up to ${ms(on.nominatedToBoundMaxMs)} later: its victims hold their node while terminating, ` +
      `until the OfflineJob controller has counted them and lifted their tracking finalizer (terminating → gone p50 ${ms(d.offline.leaveP50Ms)}, max ${ms(d.offline.leaveMaxMs)}), ` +
      `and that controller (4 workers, ${ms(op.jobReconcileMeanMs)} a reconcile) had jobs waiting ${ms(op.jobQueueWaitMeanMs)} in its queue on average (p99 ${p99Text(op)}, up to ${op.jobQueueDepthMax} deep). ` +
      `Both sit on an API server where Yard's own reports on waiting pods (PodScheduled status and Events, ${reports} writes) were ${percent(share)} of all writes; ` +
      `online pods that needed no eviction waited up to ${ms(on.noEvictionWaitMaxMs)} (p50 of all ${ms(on.waitP50Ms)}).`,
  ].join('\n');
}
