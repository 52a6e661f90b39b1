// Helpers of the scheduler's integration tests: the scheduler in this process
// (like e2e/harness's runOperator), and the cluster-wide facts the tests wait
// on and check — where pods are, what Events say, whether nodes are free.
import type { CoreV1Api, KubeConfig, V1Pod } from '@kubernetes/client-node';
import type { Campus, OfflineQueue } from '../../crds/index.ts';
import { yardKinds } from '../../crds/index.ts';
import { isNotFound, kinds, mergePatch, nullLogger, RestClient } from '../../runtime/index.ts';
import type { KubeEvent } from '../../runtime/index.ts';
import { done, notYet, waitFor } from './wait.ts';
import { podRequests } from '../../runtime/quantity.ts';
import { YardScheduler } from '../../scheduler/adapter/scheduler.ts';
import type { SchedulerOptions } from '../../scheduler/adapter/scheduler.ts';

export interface RunningScheduler {
  readonly scheduler: YardScheduler;
  readonly done: Promise<void>;
  stop(): Promise<void>;
}

/** Yard's scheduler in this process: no leader election, no probe port, no signals. */
export function runScheduler(
  kc: KubeConfig,
  over: Partial<SchedulerOptions> = {},
): RunningScheduler {
  const scheduler = new YardScheduler({
    kubeConfig: kc,
    leaderElection: false,
    probePort: false,
    handleSignals: false,
    log: process.env['YARD_TEST_LOGS'] ? undefined : nullLogger,
    shutdownTimeoutMs: 5_000,
    ...over,
  } as SchedulerOptions);
  const running = scheduler.start();
  return { scheduler, done: running, stop: () => scheduler.stop() };
}

/** Pods of a namespace, by name. */
export async function podsOf(
  core: CoreV1Api,
  ns: string,
  labelSelector?: string,
): Promise<V1Pod[]> {
  return (
    await core.listNamespacedPod({ namespace: ns, ...(labelSelector ? { labelSelector } : {}) })
  ).items;
}

export const nodeOf = (p: V1Pod): string | undefined => p.spec?.nodeName ?? undefined;

/** Waits until every pod of `ns` (matching `labelSelector`) is bound; returns them. */
export function allBound(
  core: CoreV1Api,
  ns: string,
  count: number,
  labelSelector?: string,
  timeoutMs = 30_000,
): Promise<V1Pod[]> {
  return waitFor(
    `${count} pods bound in ${ns}${labelSelector ? ` (${labelSelector})` : ''}`,
    async () => {
      const pods = await podsOf(core, ns, labelSelector);
      const bound = pods.filter((p) => nodeOf(p) && !p.metadata?.deletionTimestamp);
      return bound.length >= count
        ? done(bound)
        : notYet(`${bound.length} of ${pods.length} bound; want ${count}`);
    },
    { timeoutMs },
  );
}

/** events.k8s.io Events about pods in `ns`, newest last. */
export async function eventsIn(kc: KubeConfig, ns: string): Promise<KubeEvent[]> {
  const rest = new RestClient(kc);
  return (await rest.list<KubeEvent>(kinds.Event, { namespace: ns })).items;
}

/**
 * Waits until no pod of another namespace holds a node, and no node is left
 * cordoned or shield-tainted: earlier test files delete their namespaces
 * without waiting, and the capacity tests here count on free, open nodes.
 */
export function quietNodes(core: CoreV1Api, except: readonly string[] = []): Promise<true> {
  return waitFor(
    'nodes free of other tests’ pods, uncordoned and untainted',
    async () => {
      const pods = (await core.listPodForAllNamespaces()).items.filter(
        (p) =>
          nodeOf(p) &&
          !except.includes(p.metadata?.namespace ?? '') &&
          p.status?.phase !== 'Succeeded' &&
          p.status?.phase !== 'Failed',
      );
      const closed = (await core.listNode()).items.filter(
        (n) =>
          n.spec?.unschedulable || n.spec?.taints?.some((t) => t.effect !== 'PreferNoSchedule'),
      );
      return pods.length === 0 && closed.length === 0
        ? done(true)
        : notYet({
            pods: pods.slice(0, 5).map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`),
            closedNodes: closed.map((n) => n.metadata?.name),
          });
    },
    { timeoutMs: 60_000, intervalMs: 500 },
  );
}

/** Creates an OfflineQueue (cluster-scoped: give it a name unique to the test). */
export async function createQueue(
  kc: KubeConfig,
  name: string,
  spec: OfflineQueue['spec'] = {},
): Promise<void> {
  await new RestClient(kc).create<OfflineQueue>(yardKinds.OfflineQueue, {
    apiVersion: 'yard.dev/v1alpha1',
    kind: 'OfflineQueue',
    metadata: { name },
    ...(spec ? { spec } : {}),
  });
}

export async function deleteQueue(kc: KubeConfig, name: string): Promise<void> {
  try {
    await new RestClient(kc).delete(yardKinds.OfflineQueue, undefined, name);
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}

/** Sets (or, with null, lifts) a campus's shield. */
export async function setShield(
  kc: KubeConfig,
  campus: string,
  seconds: number | null,
): Promise<void> {
  const shield =
    seconds === null
      ? null
      : {
          reason: 'scheduler test',
          until: new Date(Date.now() + seconds * 1000).toISOString().replace(/\.\d+Z$/, 'Z'),
          by: 'scheduler-test',
        };
  await mergePatch<Campus>(
    new RestClient(kc),
    yardKinds.Campus,
    { name: campus },
    { spec: { shield } },
  );
}

/** CPU requested per node (in CPUs), from pods bound and not finished. */
export function cpuByNode(pods: readonly V1Pod[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const p of pods) {
    const n = nodeOf(p);
    if (!n || p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed') continue;
    out.set(n, (out.get(n) ?? 0) + podRequests(p).cpu / 1000);
  }
  return out;
}

/** Pods that hold node capacity: bound, not finished. */
const holding = (p: V1Pod): boolean =>
  Boolean(nodeOf(p)) && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed';

/**
 * What the pods bound to `nodes` really request (pod overhead included), as
 * read from the API: online (every pod not of an OfflineJob) and offline.
 * What the scheduler's published numbers are checked against.
 */
export async function requestedOn(
  core: CoreV1Api,
  nodes: ReadonlySet<string>,
): Promise<{ online: { cpu: number; memory: number }; offline: { cpu: number; memory: number } }> {
  const online = { cpu: 0, memory: 0 };
  const offline = { cpu: 0, memory: 0 };
  for (const p of (await core.listPodForAllNamespaces()).items) {
    if (!holding(p) || !nodes.has(nodeOf(p) ?? '')) continue;
    const r = podRequests(p);
    const into = p.metadata?.labels?.['yard.dev/offline-job'] !== undefined ? offline : online;
    into.cpu += r.cpu;
    into.memory += r.memory;
  }
  return { online, offline };
}
