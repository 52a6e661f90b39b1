// The node agent: a kubelet for the pods of the project's own images on kwok's
// simulated nodes. One agent serves every simulated node of a cluster (or
// those a label selector picks), as kwok itself does: one watch of the opted-in
// pods, one of the nodes, and a campus blackhole is a single call.
//
// It is a controller on runtime: informers of Nodes and of the pods
// labelled yard.dev/runtime=process, and a level-based reconcile per pod that
// starts its processes (pod-run.ts, container.ts), stops them when the pod is
// gone, and writes the status it owns (status.ts) as a strategic-merge patch of
// the status subresource. Process events (an exit, a readiness flip) queue
// the pod again.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { PatchStrategy } from '@kubernetes/client-node';
import type { KubeConfig } from '@kubernetes/client-node';
import { rfc3339 } from '../../runtime/clock.ts';
import { Controller } from '../../runtime/controller.ts';
import { isNotFound } from '../../runtime/errors.ts';
import { EventRecorder, restEventSink } from '../../runtime/events.ts';
import { Informer } from '../../runtime/informer.ts';
import { nullLogger } from '../../runtime/logger.ts';
import type { Logger } from '../../runtime/logger.ts';
import { keyOf } from '../../runtime/object.ts';
import type { KubeObject } from '../../runtime/object.ts';
import { kinds } from '../../runtime/resource.ts';
import { RestClient } from '../../runtime/rest.ts';
import { findBinaries } from '../control-plane/binaries.ts';
import { ContainerRun } from './container.ts';
import type { Prepared } from './container.ts';
import { expand, references, resolveEnv } from './env.ts';
import type { EnvSources } from './env.ts';
import { findImage, imageTable, launchProblem, portOf } from './images.ts';
import type { ImageEntry } from './images.ts';
import { allocateIp, hostRange, ipToInt, isStaticAddress } from './ip.ts';
import { PodRun } from './pod-run.ts';
import type { PodReport } from './pod-run.ts';
import { ProcessList } from './proc.ts';
import { probeSpec } from './readiness.ts';
import { defaultRestartBackoff, restartPolicyOf } from './restart.ts';
import type { RestartBackoff } from './restart.ts';
import { hostIpOf, isSimulatedNode, podCidrOf, selection } from './select.ts';
import { desiredStatus, needsWrite } from './status.ts';
import type { Container, ContainerStatus, NodeObject, PodObject } from './types.ts';
import { label, labelValue, annotation } from '../../crds/names.ts';

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
  readonly log?: Logger;
}

export type BlackholeTarget = { readonly node: string } | { readonly campus: string };

export interface BlackholeState {
  readonly targets: readonly BlackholeTarget[];
  /** Every node frozen now, by any target. */
  readonly nodes: readonly string[];
}

export interface NodeAgent {
  /** Where logs (`pods/<ns>_<name>_<uid>/<container>.log`) and data live. */
  readonly dir: string;
  /**
   * Makes a node or a campus unreachable: its processes are frozen (SIGSTOP),
   * so requests to them time out. The agent keeps their pods' status as it
   * was, as a kubelet cut off from the API would: callers must notice on
   * their own. Throws when no simulated node matches.
   */
  blackhole(target: BlackholeTarget): BlackholeState;
  /** Lifts one blackhole, or all of them. */
  thaw(target?: BlackholeTarget): BlackholeState;
  blackholes(): BlackholeState;
  pods(): PodReport[];
  /** Stops every process it started (SIGTERM, then SIGKILL) and its watches. */
  stop(): Promise<void>;
}

const sameTarget = (a: BlackholeTarget, b: BlackholeTarget): boolean =>
  'node' in a ? 'node' in b && a.node === b.node : 'campus' in b && a.campus === b.campus;

/** What a pod's process inherits from the agent: enough to run, nothing of the agent's config. */
function hostEnv(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of ['PATH', 'HOME', 'TMPDIR', 'LANG', 'TZ']) {
    const v = process.env[k];
    if (v !== undefined) out[k] = v;
  }
  return out;
}

function podIPsOf(p: PodObject): string[] {
  const ips = (p.status?.podIPs ?? []).map((x) => x.ip);
  if (p.status?.podIP) ips.push(p.status.podIP);
  return ips;
}

/** The address a pod already has in the node's range: the agent restarted, the pod keeps it. */
function keptAddress(pod: PodObject, cidr: string): string | undefined {
  const range = hostRange(cidr);
  const ip = pod.status?.podIP;
  const n = ipToInt(ip ?? '');
  if (ip && isStaticAddress(ip) && pod.metadata?.annotations?.[annotation.podIp] === ip) return ip;
  return range && n !== undefined && n >= range.first && n <= range.last ? ip : undefined;
}

const noEntry = { reason: 'ErrImagePull', message: 'no command for this image' } as const;

/** What the agent cannot do for any container of the pod. */
function podProblem(pod: PodObject): { reason: string; message: string } | undefined {
  return (pod.spec?.initContainers ?? []).length > 0
    ? {
        reason: 'CreateContainerConfigError',
        message: 'the node agent does not run init containers',
      }
    : undefined;
}

/** Restarts already counted for a container the agent takes over (after an agent restart). */
function priorRestarts(s: ContainerStatus | undefined): number {
  if (!s) return 0;
  const ranBefore = s.state?.running ?? s.state?.terminated ?? s.lastState?.terminated;
  return s.restartCount + (ranBefore ? 1 : 0);
}

/** Events regard the pod as the API knows it (list items carry no kind). */
const podRef = (p: PodObject): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: p.metadata ?? {},
});

/** A pod's folder under `pods/`; it outlives an agent restart (an etcd member's data). */
const podFolder = (p: PodObject): string =>
  `${p.metadata?.namespace ?? ''}_${p.metadata?.name ?? ''}_${(p.metadata?.uid ?? '').slice(0, 8)}`;

/** Folders of pods that went while no agent ran. */
async function removeStaleFolders(root: string, keep: ReadonlySet<string>): Promise<void> {
  for (const e of await readdir(root).catch(() => [] as string[])) {
    if (!keep.has(e)) await rm(join(root, e), { recursive: true, force: true });
  }
}

export async function startNodeAgent(opts: NodeAgentOptions): Promise<NodeAgent> {
  const log = opts.log ?? nullLogger;
  const images = opts.images ?? imageTable;
  const backoff = opts.backoff ?? defaultRestartBackoff;
  const maxGraceMs = opts.maxGraceMs ?? 30_000;
  const stopGraceMs = opts.stopGraceMs ?? 5_000;
  const tokens = opts.serviceAccountTokens ?? true;
  const ownsDir = opts.dir === undefined;
  const dir = opts.dir ?? (await mkdtemp(join(tmpdir(), 'yard-node-agent-')));
  await mkdir(join(dir, 'pods'), { recursive: true });
  const procs = new ProcessList(join(dir, 'processes.json'));
  procs.startReaper();

  const rest = new RestClient(opts.kubeConfig, { userAgent: 'yard-node-agent' });
  const nodes = new Informer<NodeObject>({
    rest,
    type: kinds.Node,
    labelSelector: opts.nodeSelector,
    log,
  });
  const pods = new Informer<PodObject>({
    rest,
    type: kinds.Pod,
    labelSelector: `${label.runtime}=${labelValue.process}`,
    indexers: { node: (p) => [p.spec?.nodeName ?? ''] },
    log,
  });

  const events = new EventRecorder({
    sink: restEventSink(rest),
    reportingController: 'yard.dev/node-agent',
    reportingInstance: `node-agent-${hostname()}-${process.pid}`,
    log,
  });
  const runs = new Map<string, PodRun>();
  const retiring = new Set<Promise<void>>();
  /** Addresses the agent freed per node, oldest first (ip.ts reuses them last). */
  const released = new Map<string, string[]>();
  let targets: BlackholeTarget[] = [];
  let etcd: Promise<string | undefined> | undefined;
  let stopping: Promise<void> | undefined;

  const zoneOf = (node: string): string | undefined =>
    nodes.store.get(node)?.metadata?.labels?.[label.zone];
  const isFrozen = (node: string): boolean =>
    targets.some((t) => ('node' in t ? t.node === node : zoneOf(node) === t.campus));

  const controller = new Controller({
    name: 'node-agent',
    maxConcurrentReconciles: opts.workers ?? 8,
    resyncPeriodMs: 60_000,
    drainTimeoutMs: 10_000,
    log,
    reconcile: async ({ key, signal }) => {
      const pod = pods.store.get(key);
      const node = pod?.spec?.nodeName ? nodes.store.get(pod.spec.nodeName) : undefined;
      const chosen = pod !== undefined && selection(pod, node).run;
      const existing = runs.get(key);
      if (existing && (!chosen || pod.metadata?.uid !== existing.uid)) retire(key, existing);
      if (!chosen || !node || stopping) return undefined;
      const run = runs.get(key) ?? (await createRun(key, pod, node));
      if (!(run instanceof PodRun)) {
        await reportNoAddress(pod, run.reason, signal);
        return { requeueAfter: 10_000 };
      }
      run.pod = pod;
      // a blackholed node's kubelet cannot reach the API: nothing is written
      if (!run.frozen) await writeStatus(pod, run, signal);
      return undefined;
    },
  });
  controller
    .watchPrimary(pods, [])
    .watchMapped(nodes, (n) => pods.store.byIndex('node', n.metadata?.name ?? '').map(keyOf), []);

  function retire(key: string, run: PodRun): void {
    runs.delete(key);
    const list = released.get(run.node) ?? [];
    released.set(run.node, [...list.filter((ip) => ip !== run.podIP), run.podIP]);
    const grace = run.graceMs(maxGraceMs);
    log.info('stopping pod', { pod: key, node: run.node, podIP: run.podIP, graceMs: grace });
    const done: Promise<void> = run
      .stop(grace, true)
      .catch((err: unknown) => log.error('stopping pod failed', { pod: key, err }))
      .finally(() => retiring.delete(done));
    retiring.add(done);
  }

  async function podAddress(
    pod: PodObject,
    node: NodeObject,
    nodeName: string,
  ): Promise<string | { reason: string }> {
    const cidr = podCidrOf(node);
    if (!cidr) return { reason: `node ${nodeName} has no podCIDR` };
    const kept = keptAddress(pod, cidr);
    if (kept) return kept;
    const listed = await rest.list<PodObject>(kinds.Pod, {
      fieldSelector: `spec.nodeName=${nodeName}`,
    });
    const requested = pod.metadata?.annotations?.[annotation.podIp];
    // a static address belongs to no node: whoever holds it, on any node
    const holders =
      requested !== undefined && isStaticAddress(requested)
        ? (
            await rest.list<PodObject>(kinds.Pod, { fieldSelector: `status.podIP=${requested}` })
          ).items.filter((p) => p.metadata?.uid !== pod.metadata?.uid)
        : [];
    // from here to runs.set nothing awaits: two pods on one node never pick the same address
    const inUse = new Set([...listed.items, ...holders].flatMap(podIPsOf));
    for (const r of runs.values()) {
      if (r.node === nodeName || isStaticAddress(r.podIP)) inUse.add(r.podIP);
    }
    const got = allocateIp({
      cidr,
      inUse,
      released: released.get(nodeName) ?? [],
      requested,
    });
    if (!got.ok) return { reason: got.reason };
    released.set(
      nodeName,
      (released.get(nodeName) ?? []).filter((ip) => ip !== got.ip),
    );
    return got.ip;
  }

  async function createRun(
    key: string,
    pod: PodObject,
    node: NodeObject,
  ): Promise<PodRun | { reason: string }> {
    const nodeName = node.metadata?.name ?? '';
    const podIP = await podAddress(pod, node, nodeName);
    if (typeof podIP !== 'string') return podIP;
    const run = new PodRun({
      pod,
      node: nodeName,
      podIP,
      hostIP: hostIpOf(node),
      startTime: pod.status?.startTime ?? rfc3339(Date.now()),
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
            prepare: () => prepare(key, run, c, node),
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

  async function prepare(
    key: string,
    run: PodRun,
    c: Container,
    node: NodeObject,
  ): Promise<Prepared> {
    const pod = pods.store.get(key) ?? run.pod;
    const entry = findImage(c.image, images);
    const problem = launchProblem(c, images) ?? podProblem(pod);
    if (problem || !entry) return { ok: false, ...(problem ?? noEntry) };
    const env = resolveEnv(
      c,
      {
        pod,
        podIP: run.podIP,
        hostIP: run.hostIP,
        ...(node.status?.allocatable ? { nodeAllocatable: node.status.allocatable } : {}),
      },
      await fetchSources(run.namespace, c),
      await baseEnv(run, pod, c, entry),
    );
    if (!env.ok) return env;
    const launch = entry.launch({
      pod,
      container: c,
      podIP: run.podIP,
      podDir: run.dir,
      env: env.env,
      node: process.execPath,
      binaries: { etcd: entry.needs?.includes('etcd') ? await etcdBinary() : undefined },
    });
    if (!launch.ok) return launch;
    return {
      ok: true,
      file: launch.file,
      args: [...launch.args, ...(c.args ?? []).map((a) => expand(a, env.env))],
      env: env.env,
      cwd: run.dir,
      logFile: join(run.dir, `${c.name}.log`),
    };
  }

  /** What the agent gives every process before the pod's own env: its address and credentials. */
  async function baseEnv(
    run: PodRun,
    pod: PodObject,
    c: Container,
    entry: ImageEntry,
  ): Promise<Record<string, string>> {
    const port = entry.readinessPort ? entry.readinessPort(c) : portOf(c);
    const base: Record<string, string> = { ...hostEnv(), HOSTNAME: run.name };
    if (port !== undefined) base['YARD_LISTEN'] = `${run.podIP}:${port}`;
    if (tokens && pod.spec?.automountServiceAccountToken !== false) {
      base['KUBECONFIG'] = await podKubeconfig(run, pod);
    }
    return base;
  }

  function etcdBinary(): Promise<string | undefined> {
    etcd ??= findBinaries().then((b) => b.etcd);
    return etcd;
  }

  async function fetchSources(namespace: string, c: Container): Promise<EnvSources> {
    const refs = references(c);
    const get = async (type: typeof kinds.ConfigMap, name: string) => {
      try {
        return await rest.get<KubeObject & { data?: Record<string, string> }>(
          type,
          namespace,
          name,
        );
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    };
    const configMaps = new Map<string, Record<string, string>>();
    const secrets = new Map<string, Record<string, string>>();
    for (const name of refs.configMaps) {
      const cm = await get(kinds.ConfigMap, name);
      if (cm) configMaps.set(name, cm.data ?? {});
    }
    for (const name of refs.secrets) {
      const s = await get(kinds.Secret, name);
      if (!s) continue;
      const decoded = Object.entries(s.data ?? {}).map(([k, v]) => [
        k,
        Buffer.from(v, 'base64').toString('utf8'),
      ]);
      secrets.set(name, Object.fromEntries(decoded) as Record<string, string>);
    }
    return { configMaps, secrets };
  }

  /**
   * A kubeconfig with a token of the pod's service account, bound to the pod
   * (what the kubelet's projected token volume gives a container): processes
   * that watch the API, as the IM services' callers do, authenticate as their
   * pod and are subject to RBAC.
   */
  async function podKubeconfig(run: PodRun, pod: PodObject): Promise<string> {
    const file = join(run.dir, 'kubeconfig');
    if (existsSync(file)) return file;
    const sa = pod.spec?.serviceAccountName || 'default';
    const res = await rest.request<{ status?: { token?: string } }>(
      'POST',
      `/api/v1/namespaces/${encodeURIComponent(run.namespace)}/serviceaccounts/${encodeURIComponent(sa)}/token`,
      {
        body: {
          apiVersion: 'authentication.k8s.io/v1',
          kind: 'TokenRequest',
          spec: {
            expirationSeconds: 86_400,
            boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: run.name, uid: run.uid },
          },
        },
      },
    );
    const cluster = opts.kubeConfig.getCurrentCluster();
    const ca =
      cluster?.caData ??
      (cluster?.caFile ? (await readFile(cluster.caFile)).toString('base64') : undefined);
    const config = {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        {
          name: 'cluster',
          cluster: {
            server: cluster?.server ?? '',
            ...(ca ? { 'certificate-authority-data': ca } : {}),
            ...(cluster?.skipTLSVerify ? { 'insecure-skip-tls-verify': true } : {}),
          },
        },
      ],
      users: [{ name: 'pod', user: { token: res.status?.token ?? '' } }],
      contexts: [
        { name: 'pod', context: { cluster: 'cluster', user: 'pod', namespace: run.namespace } },
      ],
      'current-context': 'pod',
    };
    await writeFile(file, JSON.stringify(config), { mode: 0o600 });
    return file;
  }

  async function writeStatus(pod: PodObject, run: PodRun, signal: AbortSignal): Promise<void> {
    const status = desiredStatus({
      pod,
      view: run.view(),
      policy: restartPolicyOf(pod.spec?.restartPolicy),
      now: rfc3339(Date.now()),
    });
    if (!needsWrite(pod.status, status)) return;
    await patchPodStatus(pod, status, signal);
  }

  async function reportNoAddress(
    pod: PodObject,
    reason: string,
    signal: AbortSignal,
  ): Promise<void> {
    log.warn('no address for pod', { pod: keyOf(pod), reason });
    events.event(podRef(pod), {
      type: 'Warning',
      reason: 'FailedCreatePodSandBox',
      action: 'Start',
      note: reason,
    });
    const condition = {
      type: 'PodReadyToStartContainers',
      status: 'False',
      reason: 'FailedCreatePodSandBox',
      message: reason,
      lastTransitionTime: rfc3339(Date.now()),
    };
    const old = pod.status?.conditions?.find((c) => c.type === condition.type);
    if (old?.message === reason) return;
    await patchPodStatus(pod, { conditions: [condition] }, signal);
  }

  async function patchPodStatus(
    pod: PodObject,
    status: unknown,
    signal: AbortSignal,
  ): Promise<void> {
    try {
      await rest.patch(
        kinds.Pod,
        { namespace: pod.metadata?.namespace, name: pod.metadata?.name ?? '' },
        { status },
        PatchStrategy.StrategicMergePatch,
        { subresource: 'status', signal },
      );
    } catch (err) {
      if (!isNotFound(err)) throw err; // gone meanwhile: nothing to report
    }
  }

  function applyFreeze(): void {
    for (const [key, run] of runs) {
      const frozen = isFrozen(run.node);
      if (frozen === run.frozen) continue;
      run.setFrozen(frozen);
      log.info(frozen ? 'pod frozen' : 'pod thawed', { pod: key, node: run.node });
      if (!frozen) controller.enqueue(key); // write what was held back
    }
  }

  function state(): BlackholeState {
    const frozen = nodes.store
      .list()
      .map((n) => n.metadata?.name ?? '')
      .filter((n) => n && isFrozen(n))
      .sort();
    return { targets: [...targets], nodes: frozen };
  }

  nodes.start();
  pods.start();
  const abort = new AbortController();
  let controllerDone: Promise<void> = Promise.resolve();
  try {
    await nodes.waitForSync({ timeoutMs: 60_000 });
    await pods.waitForSync({ timeoutMs: 60_000 });
    controllerDone = controller.start(abort.signal);
  } catch (err) {
    await Promise.all([nodes.stop(), pods.stop(), events.close()]);
    procs.close();
    if (ownsDir) await rm(dir, { recursive: true, force: true });
    throw new Error('node agent: the API did not answer', { cause: err });
  }
  await removeStaleFolders(join(dir, 'pods'), new Set(pods.store.list().map(podFolder)));
  log.info('node agent started', { dir, nodes: nodes.store.list().filter(isSimulatedNode).length });

  return {
    dir,
    blackhole(target) {
      const matches = nodes.store.list().filter((n) => {
        if (!isSimulatedNode(n)) return false;
        return 'node' in target
          ? n.metadata?.name === target.node
          : n.metadata?.labels?.[label.zone] === target.campus;
      });
      if (matches.length === 0) {
        throw new Error(
          `blackhole: no simulated node ${'node' in target ? `named ${target.node}` : `in campus ${target.campus}`}`,
        );
      }
      if (!targets.some((t) => sameTarget(t, target))) targets = [...targets, target];
      applyFreeze();
      const s = state();
      log.info('blackhole', { target, nodes: s.nodes });
      return s;
    },
    thaw(target) {
      targets = target ? targets.filter((t) => !sameTarget(t, target)) : [];
      applyFreeze();
      const s = state();
      log.info('thaw', { target: target ?? 'all', stillFrozen: s.nodes });
      return s;
    },
    blackholes: state,
    pods: () => [...runs.values()].map((r) => r.report()),
    stop() {
      stopping ??= (async () => {
        abort.abort();
        await controllerDone;
        await Promise.all([nodes.stop(), pods.stop()]);
        const all = [...runs.values()];
        runs.clear();
        // thawed first, so that SIGTERM is handled (the stop sends SIGCONT too)
        targets = [];
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
