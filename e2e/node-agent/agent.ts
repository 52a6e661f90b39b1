// The node agent: a kubelet for the pods of the project's own images on kwok's
// simulated nodes. One agent serves every simulated node of a cluster (or
// those a label selector picks), as kwok itself does: one watch of the
// opted-in pods, one of the nodes, one of the Campus objects.
//
// It is a controller on runtime: informers of Nodes, Campuses and the pods
// labelled yard.dev/runtime=process, and a level-based reconcile per pod
// (this file) that starts its processes (pod-run.ts, container.ts, with what
// launch.ts and pod-address.ts give them), stops them when the pod is gone,
// and writes what it owns (status-writer.ts). Process events (an exit, a
// readiness flip) queue the pod again. A campus blackhole is
// Campus.spec.blackhole, which network.ts watches and this file enforces on
// the processes (SIGSTOP) until it lifts by itself.
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import { yardKinds } from '../../crds/kinds.ts';
import type { Campus } from '../../crds/generated/types.ts';
import { label, labelValue } from '../../crds/names.ts';
import { realClock, rfc3339 } from '../../runtime/clock.ts';
import type { Clock } from '../../runtime/clock.ts';
import { Controller } from '../../runtime/controller.ts';
import { isNotFound } from '../../runtime/errors.ts';
import { EventRecorder, restEventSink } from '../../runtime/events.ts';
import { Informer } from '../../runtime/informer.ts';
import { nullLogger } from '../../runtime/logger.ts';
import { collectProcessMetrics, RuntimeMetrics } from '../../runtime/metrics.ts';
import type { Logger } from '../../runtime/logger.ts';
import { keyOf } from '../../runtime/object.ts';
import { kinds, resourceId } from '../../runtime/resource.ts';
import { RestClient } from '../../runtime/rest.ts';
import { blackholedPods } from './blackhole.ts';
import { ContainerRun } from './container.ts';
import { findImage, imageTable } from './images.ts';
import type { ImageEntry } from './images.ts';
import { launcher } from './launch.ts';
import { BlackholeWatch } from './network.ts';
import type { BlackholeState } from './network.ts';
import { podAddresses } from './pod-address.ts';
import { PodRun } from './pod-run.ts';
import type { PodReport } from './pod-run.ts';
import { ProcessList } from './proc.ts';
import { probeSpec } from './readiness.ts';
import { defaultRestartBackoff, restartPolicyOf } from './restart.ts';
import type { RestartBackoff } from './restart.ts';
import { hostIpOf, isSimulatedNode, selection } from './select.ts';
import { podRef, StatusWriter } from './status-writer.ts';
import type { ContainerStatus, NodeObject, PodObject } from './types.ts';

export type { BlackholeState } from './network.ts';

export interface NodeAgentOptions {
  readonly kubeConfig: KubeConfig;
  /** Serve only the simulated nodes this label selector picks (default: all of them). */
  readonly nodeSelector?: string;
  /** Logs, pod folders and data (default: a temporary folder, removed by `stop`). */
  readonly dir?: string;
  /** The image → command table (default: images.ts). */
  readonly images?: readonly ImageEntry[];
  readonly backoff?: RestartBackoff;
  /** Ceiling of a pod's termination grace period (default 30 s). */
  readonly maxGraceMs?: number;
  /** Grace of each process when the agent itself stops (default 5 s). */
  readonly stopGraceMs?: number;
  /** Give each process a kubeconfig with its service account's token in KUBECONFIG (default true). */
  readonly serviceAccountTokens?: boolean;
  /** Pods reconciled at once (default 8). */
  readonly workers?: number;
  /** When blackholes hold and lift (default the real one). */
  readonly clock?: Clock;
  /** Re-evaluate the blackholes this often, besides the timer at each expiry (default 5 s). */
  readonly blackholeRecheckMs?: number;
  readonly log?: Logger;
  /** Where its metrics go (default: a new registry with the process metrics, served at /metrics of the control API). */
  readonly registry?: Registry;
}

export interface NodeAgent {
  /** Where logs (`pods/<ns>_<name>_<uid>/<container>.log`) and data live. */
  readonly dir: string;
  /** The controller-runtime and client-go metrics of its reconciles and API calls. */
  readonly registry: Registry;
  /**
   * The campus blackholes (Campus.spec.blackhole) the agent enforces now and
   * the nodes they put out of reach: their processes are frozen (SIGSTOP),
   * so requests to them time out, and their pods' status is kept as it was,
   * as a kubelet cut off from the API would: callers must notice on their own.
   */
  blackholes(): BlackholeState;
  pods(): PodReport[];
  /** Stops every process it started (SIGTERM, then SIGKILL) and its watches. */
  stop(): Promise<void>;
}

/** Restarts already counted for a container the agent takes over (after an agent restart). */
function priorRestarts(s: ContainerStatus | undefined): number {
  if (!s) return 0;
  const ranBefore = s.state?.running ?? s.state?.terminated ?? s.lastState?.terminated;
  return s.restartCount + (ranBefore ? 1 : 0);
}

/** A pod's folder under `pods/`; it outlives an agent restart (an etcd member's data). */
const podFolder = (p: PodObject): string =>
  `${p.metadata?.namespace ?? ''}_${p.metadata?.name ?? ''}_${(p.metadata?.uid ?? '').slice(0, 8)}`;

/** Folders of pods that went while no agent ran. */
async function removeStaleFolders(root: string, keep: ReadonlySet<string>): Promise<void> {
  for (const e of await readdir(root).catch(() => [] as string[])) {
    if (!keep.has(e)) await rm(join(root, e), { recursive: true, force: true });
  }
}

/** The agent enforces Campus.spec.blackhole: without the CRD it would enforce nothing, silently. */
async function requireCampusKind(rest: RestClient): Promise<void> {
  try {
    await rest.list(yardKinds.Campus, { limit: 1, timeoutMs: 30_000 });
  } catch (err) {
    if (!isNotFound(err)) return; // the informers' sync reports an API that does not answer
    throw new Error(
      'node agent: the Campus CRD (campuses.yard.dev) is not installed, and the agent enforces Campus.spec.blackhole; install the CRDs first: kubectl apply --server-side -f crds/generated/',
      { cause: err },
    );
  }
}

export async function startNodeAgent(opts: NodeAgentOptions): Promise<NodeAgent> {
  const log = opts.log ?? nullLogger;
  const images = opts.images ?? imageTable;
  const backoff = opts.backoff ?? defaultRestartBackoff;
  const maxGraceMs = opts.maxGraceMs ?? 30_000;
  const stopGraceMs = opts.stopGraceMs ?? 5_000;
  const clock = opts.clock ?? realClock;
  let registry = opts.registry;
  if (!registry) {
    registry = new Registry();
    collectProcessMetrics(registry);
  }
  const metrics = new RuntimeMetrics(registry, () => clock.now());
  const rest = new RestClient(opts.kubeConfig, {
    userAgent: 'yard-node-agent',
    clock,
    metrics: metrics.restClient(),
  });
  await requireCampusKind(rest);
  const ownsDir = opts.dir === undefined;
  const dir = opts.dir ?? (await mkdtemp(join(tmpdir(), 'yard-node-agent-')));
  await mkdir(join(dir, 'pods'), { recursive: true });
  const procs = new ProcessList(join(dir, 'processes.json'));
  procs.startReaper();

  const nodes = new Informer<NodeObject>({
    rest,
    type: kinds.Node,
    labelSelector: opts.nodeSelector,
    log,
    metrics: metrics.informer(resourceId(kinds.Node)),
  });
  const pods = new Informer<PodObject>({
    rest,
    type: kinds.Pod,
    labelSelector: `${label.runtime}=${labelValue.process}`,
    indexers: { node: (p) => [p.spec?.nodeName ?? ''] },
    log,
    metrics: metrics.informer(resourceId(kinds.Pod)),
  });
  const campuses = new Informer<Campus>({
    rest,
    type: yardKinds.Campus,
    log,
    metrics: metrics.informer(resourceId(yardKinds.Campus)),
  });
  const informers = [nodes, pods, campuses];

  const events = new EventRecorder({
    sink: restEventSink(rest),
    reportingController: 'yard.dev/node-agent',
    reportingInstance: `node-agent-${hostname()}-${process.pid}`,
    log,
  });
  const status = new StatusWriter({ rest, events, clock, log });
  const prepare = launcher({
    rest,
    kubeConfig: opts.kubeConfig,
    images,
    tokens: opts.serviceAccountTokens ?? true,
  });
  const runs = new Map<string, PodRun>();
  const addresses = podAddresses(rest, () => runs.values());
  const retiring = new Set<Promise<void>>();
  let stopping: Promise<void> | undefined;

  const controller = new Controller({
    name: 'node-agent',
    maxConcurrentReconciles: opts.workers ?? 8,
    resyncPeriodMs: 60_000,
    drainTimeoutMs: 10_000,
    log,
    metrics,
    reconcile: async ({ key, signal }) => {
      const pod = pods.store.get(key);
      const node = pod?.spec?.nodeName ? nodes.store.get(pod.spec.nodeName) : undefined;
      const chosen = pod !== undefined && selection(pod, node).run;
      const existing = runs.get(key);
      if (existing && (!chosen || pod.metadata?.uid !== existing.uid)) retire(key, existing);
      if (!chosen || !node || stopping) return undefined;
      const run = runs.get(key) ?? (await createRun(key, pod, node));
      if (!(run instanceof PodRun)) {
        await status.noAddress(pod, run.reason, signal);
        return { requeueAfter: 10_000 };
      }
      run.pod = pod;
      // a blackholed node's kubelet cannot reach the API: nothing of its own is written
      if (!run.frozen) await status.write(pod, run, signal);
      // the blackhole's enforcer says so, though: the pod's yard.dev/reachable
      await status.reachability(pod, blackhole.blockOf(run.node), signal);
      return undefined;
    },
  });
  controller
    .watchPrimary(pods, [])
    .watchMapped(nodes, (n) => pods.store.byIndex('node', n.metadata?.name ?? '').map(keyOf), []);

  const blackhole = new BlackholeWatch({
    campuses,
    nodes,
    clock,
    recheckMs: opts.blackholeRecheckMs ?? 5_000,
    log,
    changed: applyFreeze,
  });
  const isFrozen = (node: string): boolean => blackhole.blockOf(node) !== undefined;

  /** Freezes or thaws the runs on nodes whose blackhole changed, and queues them to report it. */
  function applyFreeze(changed: ReadonlySet<string>): void {
    const held = blackholedPods(
      [...runs].map(([key, r]) => ({ key, node: r.node })),
      blackhole.blocked,
    );
    for (const [key, run] of runs) {
      if (!changed.has(run.node)) continue;
      const frozen = held.has(key);
      if (frozen !== run.frozen) {
        run.setFrozen(frozen);
        log.info(frozen ? 'pod frozen' : 'pod thawed', { pod: key, node: run.node });
      }
      controller.enqueue(key); // its reachability, and on a thaw what was held back
    }
  }

  function retire(key: string, run: PodRun): void {
    runs.delete(key);
    addresses.release(run.node, run.podIP);
    const grace = run.graceMs(maxGraceMs);
    log.info('stopping pod', { pod: key, node: run.node, podIP: run.podIP, graceMs: grace });
    const done: Promise<void> = run
      .stop(grace, true)
      .catch((err: unknown) => log.error('stopping pod failed', { pod: key, err }))
      .finally(() => retiring.delete(done));
    retiring.add(done);
  }

  async function createRun(
    key: string,
    pod: PodObject,
    node: NodeObject,
  ): Promise<PodRun | { reason: string }> {
    const nodeName = node.metadata?.name ?? '';
    const podIP = await addresses.allocate(pod, node);
    if (typeof podIP !== 'string') return podIP;
    const run = new PodRun({
      pod,
      node: nodeName,
      podIP,
      hostIP: hostIpOf(node),
      startTime: pod.status?.startTime ?? rfc3339(clock.now()),
      dir: join(dir, 'pods', podFolder(pod)),
    });
    runs.set(key, run);
    log.info('starting pod', { pod: key, node: nodeName, podIP });
    await mkdir(run.dir, { recursive: true });
    const policy = restartPolicyOf(pod.spec?.restartPolicy);
    const observed = pod.status?.containerStatuses ?? [];
    const containers = (pod.spec?.containers ?? []).map(
      (c) =>
        new ContainerRun({
          name: c.name,
          image: c.image ?? '',
          pod: key,
          policy,
          backoff,
          probe: probeSpec(c, findImage(c.image, images), podIP),
          restartCount: priorRestarts(observed.find((s) => s.name === c.name)),
          hooks: {
            changed: () => controller.enqueue(key),
            frozen: () => isFrozen(nodeName),
            prepare: () => prepare(pods.store.get(key) ?? run.pod, run, c, node),
            started: (pid) => procs.add(pid),
            ended: (pid) => procs.delete(pid),
            event: (type, reason, action, note) =>
              events.event(podRef(run.pod), { type, reason, action, note }),
            log: log.child({ pod: key }),
          },
        }),
    );
    if (runs.get(key) === run && !stopping) run.start(containers, isFrozen(nodeName));
    return run;
  }

  for (const i of informers) i.start();
  const abort = new AbortController();
  let controllerDone: Promise<void> = Promise.resolve();
  try {
    for (const i of informers) await i.waitForSync({ timeoutMs: 60_000 });
    // before the first pod starts: a restarted agent blocks what the API says is blocked
    blackhole.start();
    controllerDone = controller.start(abort.signal);
  } catch (err) {
    blackhole.stop();
    await Promise.all([...informers.map((i) => i.stop()), events.close()]);
    procs.close();
    if (ownsDir) await rm(dir, { recursive: true, force: true });
    throw new Error('node agent: the API did not answer', { cause: err });
  }
  await removeStaleFolders(join(dir, 'pods'), new Set(pods.store.list().map(podFolder)));
  log.info('node agent started', {
    dir,
    nodes: nodes.store.list().filter(isSimulatedNode).length,
    blackholes: blackhole.state(),
  });

  return {
    dir,
    registry,
    blackholes: () => blackhole.state(),
    pods: () => [...runs.values()].map((r) => r.report()),
    stop() {
      stopping ??= (async () => {
        abort.abort();
        await controllerDone;
        // no more freezing; each stop below sends SIGCONT after SIGTERM so a frozen process ends too
        blackhole.stop();
        await Promise.all(informers.map((i) => i.stop()));
        const all = [...runs.values()];
        runs.clear();
        await Promise.all([
          ...all.map((r) => r.stop(Math.min(stopGraceMs, r.graceMs(maxGraceMs)), false)),
          ...retiring,
        ]);
        await events.close();
        procs.close();
        if (ownsDir) await rm(dir, { recursive: true, force: true });
        log.info('node agent stopped');
      })();
      return stopping;
    },
  };
}
