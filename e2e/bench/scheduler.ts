// npm run bench:scheduler [-- --nodes-per-campus 334 --pods 10000 --kube-default-pods 2000]
//                         [-- --only day|pods] [-- --day-minutes 10 --day-nodes-per-campus 20]
//
// Yard's scheduler against the alternatives, side by side on one local
// control plane of simulated nodes (three campuses), in one run:
//   - a null binder: binds pending pods round-robin, no logic, 48 requests in
//     flight over the same keep-alive client Yard uses — the API server's ceiling;
//   - kube-scheduler (the control plane's binary, a profile of its own), once
//     at its client defaults (QPS 50, burst 100) and once raised (5,000);
//   - Yard (scheduler/main.ts, a real process) on the same plain pods;
//   - Yard paced: pods created at 80% of the null binder's rate while it runs,
//     for create→bound latency;
//   - Yard on its own mix: online services spread over campuses, offline gangs
//     in two DRF queues filling the rest, then an online surge that can only
//     fit by preempting offline work;
//   - last, a simulated day (scheduler-day.ts), on a smaller control plane of
//     its own: online demand following a daily curve, offline jobs queued and
//     run by the operator's OfflineJob controller; mean allocated CPU with and
//     without colocation, and how long online pods wait on offline work.
// `--only pods` runs the phases before the day, `--only day` the day alone
// (either replaces its own part of an earlier .yard/bench/scheduler.json).
// Each throughput phase creates its pods first, then starts the scheduler, so
// pods/s is the scheduler's and not the client's creation rate. Pods/s comes
// from the bind times a watch sees (ms) and, as the issue asks, from the pods'
// PodScheduled times (whole seconds). CPU seconds and peak RSS are read from
// /proc; Yard's API writes from its own yard_api_writes_total. Violations:
// a node over its allocatable, an online pod outside its campus, a campus
// over its online ceiling, a gang partly placed, a service stacked on a node
// while another node of its campus has fewer of it.
// Prints tables against the targets and writes .yard/bench/scheduler.json.
// A benchmark, not a test: it never fails on a number.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { KubeConfig } from '@kubernetes/client-node';
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import type { OfflineJob } from '../../crds/index.ts';
import { yardKinds } from '../../crds/index.ts';
import { Informer, isNotFound, kinds, nullLogger, RestClient } from '../../runtime/index.ts';
import { ensureBinaries } from '../control-plane/binaries.ts';
import { down, repoRoot, startReaper, up } from '../control-plane/cluster.ts';
import { campusNames, ensureYard } from '../harness/yard.ts';
import { cpuSeconds, procStatusBytes } from './proc.ts';
import { parseMetrics, sum } from './prometheus.ts';
import { benchDir, progressPrinter, table, writeJson } from './report.ts';
import { dayHeading, dayLimits, dayRows, NodeWatch, runDay } from './scheduler-day.ts';
import type { DayResult } from './scheduler-day.ts';
import { fmt, phaseTable, quantile, scheduledRate, targetRows } from './scheduler-report.ts';
import type { Phase } from './scheduler-report.ts';
import { violations } from './scheduler-violations.ts';
import { label } from '../../crds/names.ts';

const { values: flags } = parseArgs({
  options: {
    'nodes-per-campus': { type: 'string', default: '334' },
    pods: { type: 'string', default: '10000' },
    // at QPS 50 kube-scheduler binds 50 pods a second: a rate needs no 10,000
    'kube-default-pods': { type: 'string', default: '2000' },
    'paced-pods': { type: 'string', default: '2500' },
    // `day`: the simulated day alone; `pods`: every phase but the day
    only: { type: 'string' },
    'day-minutes': { type: 'string', default: '10' },
    'day-nodes-per-campus': { type: 'string', default: '20' },
    'day-step-seconds': { type: 'string', default: '5' },
    // the online peak, as a fraction of each campus's online ceiling
    'day-peak': { type: 'string', default: '0.95' },
  },
});
if (flags.only !== undefined && flags.only !== 'day' && flags.only !== 'pods')
  throw new Error(`--only must be day or pods, got "${flags.only}"`);
const nodesPerCampus = Number(flags['nodes-per-campus']);
const podCount = Number(flags.pods);
const kubeDefaultPods = Number(flags['kube-default-pods']);
const pacedPods = Number(flags['paced-pods']);
const clusterDir = join(repoRoot, '.yard', 'bench-scheduler');
const outFile = join(benchDir, 'scheduler.json');
const progress = progressPrinter('bench');
const stop = new AbortController();

let kc: KubeConfig;
let rest: RestClient;

/** Watches a namespace's pods and notes when each was first seen bound (ms). */
class BindWatch {
  readonly bound = new Map<string, number>();
  readonly #inf: Informer<V1Pod>;
  constructor(ns: string) {
    this.#inf = new Informer<V1Pod>({ rest, type: kinds.Pod, namespace: ns, log: nullLogger });
    const see = (p: V1Pod): void => {
      const name = p.metadata?.name ?? '';
      if (p.spec?.nodeName && !this.bound.has(name)) this.bound.set(name, Date.now());
    };
    this.#inf.addHandler({ onAdd: see, onUpdate: (_, p) => see(p) });
  }
  async start(): Promise<void> {
    this.#inf.start();
    await this.#inf.waitForSync({ timeoutMs: 120_000 });
  }
  stop(): Promise<void> {
    return this.#inf.stop();
  }
  /** Resolves when `count` are bound, or when none was bound for `idleMs`. */
  async until(count: number, idleMs = 30_000): Promise<void> {
    let last = this.bound.size;
    let lastChange = Date.now();
    while (this.bound.size < count && !stop.signal.aborted) {
      await sleep(100);
      if (this.bound.size !== last) {
        last = this.bound.size;
        lastChange = Date.now();
      } else if (Date.now() - lastChange > idleMs) return;
    }
  }
  rate(): number | undefined {
    const ts = [...this.bound.values()];
    if (ts.length < 2) return undefined;
    const span = Math.max(...ts) - Math.min(...ts);
    return span > 0 ? ((ts.length - 1) * 1000) / span : undefined;
  }
}

// ---- pods and namespaces ---------------------------------------------------------

const plain = (name: string, scheduler: string): V1Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, labels: { app: 'plain' } },
  spec: {
    schedulerName: scheduler,
    terminationGracePeriodSeconds: 0,
    containers: [
      {
        name: 'c',
        image: 'registry.local/yard/pause:1',
        resources: { requests: { cpu: '100m', memory: '128Mi' } },
      },
    ],
  },
});

async function createAll(ns: string, pods: readonly V1Pod[], what: string): Promise<void> {
  let next = 0;
  let done = 0;
  const t = Date.now();
  const ticker = setInterval(() => progress(`${what}: ${done}/${pods.length} created`), 5_000);
  try {
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        for (let i = next++; i < pods.length && !stop.signal.aborted; i = next++) {
          const body = pods[i];
          if (body)
            await rest.create(kinds.Pod, {
              ...body,
              metadata: { ...body.metadata, namespace: ns },
            });
          done++;
        }
      }),
    );
  } finally {
    clearInterval(ticker);
  }
  progress(`${what}: ${pods.length} pods created in ${((Date.now() - t) / 1000).toFixed(1)} s`);
}

async function createNamespace(ns: string): Promise<void> {
  await rest.create(kinds.Namespace, {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: ns },
  });
  for (let i = 0; i < 100; i++) {
    try {
      await rest.get(kinds.ConfigMap, ns, 'kube-root-ca.crt');
      break;
    } catch {
      await sleep(100);
    }
  }
  // the ServiceAccount admission wants the default ServiceAccount
  for (let i = 0; i < 100; i++) {
    try {
      await rest.request('GET', `/api/v1/namespaces/${ns}/serviceaccounts/default`);
      return;
    } catch {
      await sleep(100);
    }
  }
}

/**
 * Removes a phase's pods (grace 0, a collection at a time) and its namespace,
 * so the next phase starts clean. The API server ends a request after 60 s,
 * which 10,000 deletions can outlast: it deletes what it can, and the next
 * try the rest.
 */
async function clear(ns: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const left = await rest.list<V1Pod>(kinds.Pod, { namespace: ns, limit: 1 });
    if (left.items.length === 0) break;
    try {
      await rest.request('DELETE', `/api/v1/namespaces/${ns}/pods`, {
        query: { gracePeriodSeconds: 0 },
        timeoutMs: 120_000,
      });
    } catch (err) {
      if (attempt > 20) throw err;
    }
  }
  try {
    await rest.delete(kinds.Namespace, undefined, ns);
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}

const listPods = async (ns: string): Promise<V1Pod[]> => {
  const out: V1Pod[] = [];
  let cont: string | undefined;
  do {
    const page = await rest.list<V1Pod>(kinds.Pod, {
      namespace: ns,
      limit: 2000,
      continue: cont,
      timeoutMs: 120_000,
    });
    out.push(...page.items);
    cont = page.metadata?.continue || undefined;
  } while (cont);
  return out;
};

// ---- schedulers as processes --------------------------------------------------------

interface Proc {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Resolves with the metrics port, for processes that serve one. */
  readonly port: Promise<number>;
  stop(): Promise<void>;
}

function run(cmd: string, args: readonly string[], what: string): Proc {
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const port = Promise.withResolvers<number>();
  let partial = '';
  child.stderr?.on('data', (d: Buffer) => {
    partial += d.toString();
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    for (const l of lines) {
      if (!l.startsWith('{')) continue;
      try {
        const j = JSON.parse(l) as { msg?: string; port?: number; level?: string };
        if (j.msg === 'serving /healthz, /readyz and /metrics' && j.port) port.resolve(j.port);
        if (j.level === 'error') progress(`${what}: ${l.slice(0, 300)}`);
      } catch {
        // not ours
      }
    }
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    pid: child.pid ?? 0,
    port: port.promise,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await Promise.race([exited, sleep(15_000)]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

function yardProcess(kubeconfig = kcFile): Proc {
  return run(
    process.execPath,
    [
      join(repoRoot, 'scheduler', 'main.ts'),
      `--kubeconfig=${kubeconfig}`,
      '--leader-elect=false',
      '--metrics-port=0',
      '--log-level=info',
    ],
    'yard',
  );
}

let kcFile = '';

async function kubeSchedulerProcess(profile: string, qps: number, burst: number): Promise<Proc> {
  const bins = await ensureBinaries((l) => progress(l));
  const config = join(clusterDir, `${profile}.yaml`);
  await writeFile(
    config,
    [
      'apiVersion: kubescheduler.config.k8s.io/v1',
      'kind: KubeSchedulerConfiguration',
      'clientConnection:',
      `  kubeconfig: ${kcFile}`,
      `  qps: ${qps}`,
      `  burst: ${burst}`,
      'leaderElection:',
      '  leaderElect: false',
      'profiles:',
      `  - schedulerName: ${profile}`,
      '',
    ].join('\n'),
  );
  return run(bins['kube-scheduler'], [`--config=${config}`, '--secure-port=0', '--v=0'], profile);
}

async function yardMetrics(p: Proc): Promise<string> {
  const port = await Promise.race([p.port, sleep(10_000).then(() => 0)]);
  if (!port) return '';
  return (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
}

const allNodes = (): Promise<V1Node[]> => rest.list<V1Node>(kinds.Node).then((l) => l.items);

// ---- the phases ---------------------------------------------------------------------

interface Binder {
  readonly proc?: Proc;
  stop(): Promise<void>;
}

/** Creates `pods` in a fresh namespace, starts `binder`, waits for the binds, measures. */
async function throughput(
  name: string,
  ns: string,
  pods: readonly V1Pod[],
  start: () => Promise<Binder>,
): Promise<Phase> {
  progress(`${name}: ${pods.length} pods`);
  await createNamespace(ns);
  await createAll(ns, pods, name);
  const watch = new BindWatch(ns);
  await watch.start();
  const flaps = new NodeWatch(rest);
  await flaps.start();
  const b = await start();
  const ticker = setInterval(
    () => progress(`${name}: ${watch.bound.size}/${pods.length} bound`),
    5_000,
  );
  try {
    await watch.until(pods.length);
  } finally {
    clearInterval(ticker);
  }
  const proc = b.proc;
  const cpu = proc ? cpuSeconds(proc.pid) : undefined;
  const rss = proc ? procStatusBytes(proc.pid, 'VmHWM') : undefined;
  const metrics = proc && name.startsWith('Yard') ? await yardMetrics(proc) : '';
  await b.stop();
  await watch.stop();
  await flaps.stop();
  const final = await listPods(ns);
  const writes = metrics ? sum(parseMetrics(metrics), 'yard_api_writes_total') : undefined;
  const phase: Phase = {
    name,
    pods: pods.length,
    bound: watch.bound.size,
    podsPerSecond: watch.rate(),
    podsPerSecondScheduled: scheduledRate(final),
    cpuSeconds: cpu,
    peakRssBytes: rss,
    writesPerPod: writes === undefined ? undefined : writes / Math.max(1, watch.bound.size),
    nodesNotReady: flaps.notReady.size,
    violations: violations({ nodes: await allNodes(), pods: final, unsteady: flaps.notReady }),
  };
  progress(`${name}: ${phase.bound} bound, ${phase.podsPerSecond?.toFixed(0)} pods/s`);
  await clear(ns);
  return phase;
}

async function nullBinder(nodeNames: readonly string[]): Promise<Binder> {
  const ns = 'bench-null';
  const pods = await listPods(ns);
  let next = 0;
  const work = Promise.all(
    Array.from({ length: 48 }, async () => {
      for (let i = next++; i < pods.length; i = next++) {
        const name = pods[i]?.metadata?.name ?? '';
        await rest.request('POST', `/api/v1/namespaces/${ns}/pods/${name}/binding`, {
          body: {
            apiVersion: 'v1',
            kind: 'Binding',
            metadata: { name, namespace: ns },
            target: { apiVersion: 'v1', kind: 'Node', name: nodeNames[i % nodeNames.length] },
          },
        });
      }
    }),
  );
  return { stop: () => work.then(() => undefined) };
}

/** Pods created at `rate` a second while Yard runs: create→bound latency. */
/**
 * A null binder that binds each pod as the watch shows it (round-robin over
 * the nodes, 48 binds in flight): the paced phases' baseline, what the API
 * server itself allows for create→bound.
 */
function watchingNullBinder(ns: string, nodeNames: readonly string[]): Binder {
  const inf = new Informer<V1Pod>({ rest, type: kinds.Pod, namespace: ns, log: nullLogger });
  const queue: string[] = [];
  let running = 0;
  let i = 0;
  const pump = (): void => {
    while (running < 48 && queue.length > 0) {
      const name = queue.shift() ?? '';
      const node = nodeNames[i++ % nodeNames.length];
      running++;
      void rest
        .request('POST', `/api/v1/namespaces/${ns}/pods/${name}/binding`, {
          body: {
            apiVersion: 'v1',
            kind: 'Binding',
            metadata: { name, namespace: ns },
            target: { apiVersion: 'v1', kind: 'Node', name: node },
          },
        })
        .catch(() => undefined)
        .finally(() => {
          running--;
          pump();
        });
    }
  };
  inf.addHandler({
    onAdd: (p) => {
      if (!p.spec?.nodeName) queue.push(p.metadata?.name ?? '');
      pump();
    },
  });
  inf.start();
  return { stop: () => inf.stop() };
}

/** Pods created at `rate` a second while `binder` runs: create→bound latency. */
async function paced(
  name: string,
  ns: string,
  scheduler: string,
  rate: number,
  start: () => Promise<Binder>,
): Promise<Phase> {
  progress(`${name}: ${pacedPods} pods at ${rate.toFixed(0)} a second`);
  await createNamespace(ns);
  const watch = new BindWatch(ns);
  await watch.start();
  const flaps = new NodeWatch(rest);
  await flaps.start();
  const b = await start();
  await sleep(3_000); // its caches synced
  const created = new Map<string, number>();
  const t0 = Date.now();
  const inflight = new Set<Promise<unknown>>();
  for (let i = 0; i < pacedPods && !stop.signal.aborted; i++) {
    const wait = t0 + (i * 1000) / rate - Date.now();
    if (wait > 0) await sleep(wait);
    const podName = `paced-${i}`;
    const p = rest
      .create(kinds.Pod, {
        ...plain(podName, scheduler),
        metadata: { name: podName, namespace: ns },
      })
      .then(() => created.set(podName, Date.now()));
    inflight.add(p);
    void p.finally(() => inflight.delete(p));
    if (inflight.size >= 128) await Promise.race(inflight);
  }
  await Promise.all(inflight);
  await watch.until(pacedPods);
  const lat = [...created].flatMap(([n, t]) => {
    const bound = watch.bound.get(n);
    return bound === undefined ? [] : [Math.max(0, bound - t)];
  });
  const rss = b.proc ? procStatusBytes(b.proc.pid, 'VmHWM') : undefined;
  await b.stop();
  await watch.stop();
  await flaps.stop();
  const final = await listPods(ns);
  const phase: Phase = {
    name,
    pods: pacedPods,
    bound: watch.bound.size,
    podsPerSecond: watch.rate(),
    podsPerSecondScheduled: scheduledRate(final),
    p50Ms: quantile(lat, 0.5),
    p99Ms: quantile(lat, 0.99),
    peakRssBytes: rss,
    nodesNotReady: flaps.notReady.size,
    violations: violations({ nodes: await allNodes(), pods: final, unsteady: flaps.notReady }),
  };
  progress(`${name}: p50 ${phase.p50Ms} ms, p99 ${phase.p99Ms} ms`);
  await clear(ns);
  return phase;
}

// The mix: 70% online (70 services, spread over the three campuses), 30% offline
// (gangs of 10 pods of 8 CPU in two weighted queues), sized to fill the
// cluster; then a payment surge into campus-a that must preempt offline work.
const mixQueues = ['bench-etl', 'bench-ml'] as const;

async function mix(total: number, nodeCount: number): Promise<Phase[]> {
  const ns = 'bench-mix';
  await createNamespace(ns);
  await rest.create(yardKinds.OfflineQueue, {
    apiVersion: 'yard.dev/v1alpha1',
    kind: 'OfflineQueue',
    metadata: { name: 'bench-etl' },
    spec: { weight: 1 },
  });
  await rest.create(yardKinds.OfflineQueue, {
    apiVersion: 'yard.dev/v1alpha1',
    kind: 'OfflineQueue',
    metadata: { name: 'bench-ml' },
    spec: { weight: 2 },
  });
  const onlineCount = Math.round(total * 0.7);
  // three 8-CPU pods a node fit beside its share of online: no more gangs than that
  const jobCount = Math.min(
    Math.floor((total - onlineCount) / 10),
    Math.floor((nodeCount * 3) / 10),
  );
  const priorities = ['payment', 'message', 'groupchat', 'moments'] as const;
  const pods: V1Pod[] = [];
  for (let i = 0; i < onlineCount; i++) {
    const s = i % 70;
    pods.push({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: `svc-${String(s).padStart(2, '0')}-${i}`,
        labels: {
          'yard.dev/imservice': `svc-${s}`,
          'yard.dev/business-priority': priorities[s % 4] ?? 'message',
        },
      },
      spec: {
        schedulerName: 'yard',
        terminationGracePeriodSeconds: 0,
        nodeSelector: { [label.zone]: campusNames[Math.floor(i / 70) % 3] ?? 'campus-a' },
        containers: [
          {
            name: 'c',
            image: 'registry.local/yard/logic:1',
            resources: { requests: { cpu: '1', memory: '2Gi' } },
          },
        ],
      },
    });
  }
  const gangs = new Map<string, number>();
  for (let j = 0; j < jobCount; j++) {
    const job = `job-${String(j).padStart(4, '0')}`;
    const gang = j % 2 === 0;
    if (gang) gangs.set(job, 10);
    const spec: OfflineJob['spec'] = {
      queue: mixQueues[j % 2] ?? 'bench-etl',
      // the pods are the bench's own (no job controller runs): the template only has to be valid
      template: { spec: { containers: [{ name: 'c', image: 'registry.local/yard/batch:1' }] } },
      parallelism: 10,
      completions: 10,
      priority: j % 5,
      ...(gang ? { minAvailable: 10 } : {}),
    };
    await rest.create<OfflineJob>(yardKinds.OfflineJob, {
      apiVersion: 'yard.dev/v1alpha1',
      kind: 'OfflineJob',
      metadata: { name: job, namespace: ns },
      spec,
    });
    for (let k = 0; k < 10; k++)
      pods.push({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          name: `${job}-${k}`,
          labels: {
            'yard.dev/framework': 'offline',
            'yard.dev/offline-job': job,
            'yard.dev/queue': spec.queue,
          },
        },
        spec: {
          schedulerName: 'yard',
          terminationGracePeriodSeconds: 0,
          containers: [
            {
              name: 'c',
              image: 'registry.local/yard/batch:1',
              resources: { requests: { cpu: '8', memory: '4Gi' } },
            },
          ],
        },
      });
  }
  const name = 'Yard, mix (online spread + offline gangs)';
  progress(`${name}: ${onlineCount} online pods, ${jobCount} jobs of 10`);
  await createAll(ns, pods, name);
  const watch = new BindWatch(ns);
  await watch.start();
  const flaps = new NodeWatch(rest);
  await flaps.start();
  const yard = yardProcess();
  const ticker = setInterval(
    () => progress(`${name}: ${watch.bound.size}/${pods.length} bound`),
    5_000,
  );
  await watch.until(pods.length, 15_000);
  clearInterval(ticker);
  const nodes = await allNodes();
  const filled: Phase = {
    name,
    pods: pods.length,
    bound: watch.bound.size,
    podsPerSecond: watch.rate(),
    podsPerSecondScheduled: scheduledRate(await listPods(ns)),
    cpuSeconds: cpuSeconds(yard.pid),
    nodesNotReady: flaps.notReady.size,
    violations: violations({
      nodes,
      pods: await listPods(ns),
      jobs: gangs,
      unsteady: flaps.notReady,
    }),
  };
  progress(`${name}: ${filled.bound} bound`);

  // the surge: payment pods into campus-a, whose nodes offline has filled
  const surgeCount = Math.max(30, Math.round(total * 0.03));
  const surgeName = `Yard, surge of ${surgeCount} payment pods into a full campus`;
  const created = new Map<string, number>();
  const before = watch.bound.size;
  await Promise.all(
    Array.from({ length: surgeCount }, async (_, i) => {
      const podName = `surge-${i}`;
      await rest.create(kinds.Pod, {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          name: podName,
          namespace: ns,
          labels: { 'yard.dev/imservice': 'surge', 'yard.dev/business-priority': 'payment' },
        },
        spec: {
          schedulerName: 'yard',
          terminationGracePeriodSeconds: 0,
          nodeSelector: { [label.zone]: 'campus-a' },
          containers: [
            {
              name: 'c',
              image: 'registry.local/yard/pay:1',
              resources: { requests: { cpu: '4', memory: '2Gi' } },
            },
          ],
        },
      });
      created.set(podName, Date.now());
    }),
  );
  for (let t = Date.now(); Date.now() - t < 60_000;) {
    if ([...created.keys()].every((n) => watch.bound.has(n))) break;
    await sleep(100);
  }
  const lat = [...created].flatMap(([n, t]) => {
    const b = watch.bound.get(n);
    return b === undefined ? [] : [b - t];
  });
  const metrics = await yardMetrics(yard);
  const samples = parseMetrics(metrics);
  const final = await listPods(ns);
  const surge: Phase = {
    name: surgeName,
    pods: surgeCount,
    bound: lat.length,
    podsPerSecond: undefined,
    podsPerSecondScheduled: undefined,
    p50Ms: quantile(lat, 0.5),
    p99Ms: quantile(lat, 0.99),
    cpuSeconds: cpuSeconds(yard.pid),
    peakRssBytes: procStatusBytes(yard.pid, 'VmHWM'),
    writesPerPod:
      sum(samples, 'yard_api_writes_total') / Math.max(1, watch.bound.size - before + filled.bound),
    evictions: sum(samples, 'yard_evictions_total'),
    nodesNotReady: flaps.notReady.size,
    violations: violations({ nodes, pods: final, jobs: gangs, judgeSpread: false }),
  };
  progress(
    `${surgeName}: ${surge.bound} bound, ${surge.evictions} evictions, p99 ${surge.p99Ms} ms`,
  );
  await yard.stop();
  await watch.stop();
  await flaps.stop();
  await clear(ns);
  for (const q of mixQueues)
    await rest.delete(yardKinds.OfflineQueue, undefined, q).catch(() => undefined);
  return [filled, surge];
}

// ---- main -----------------------------------------------------------------------------

/** Every phase but the day, on one control plane; prints its tables, returns its JSON. */
async function podPhases(): Promise<Record<string, unknown>> {
  let started = false;
  try {
    const state = await up({
      dir: clusterDir,
      name: 'yard-bench-scheduler',
      nodesPerCampus,
      signal: stop.signal,
      progress: (l) => progress(`control plane: ${l}`),
    });
    started = true;
    startReaper(clusterDir);
    kcFile = state.kubeconfig;
    kc = new KubeConfig();
    kc.loadFromFile(kcFile);
    rest = new RestClient(kc, { timeoutMs: 60_000, userAgent: 'yard-bench' });
    await ensureYard(kc);
    const nodeNames = (await allNodes()).map((n) => n.metadata?.name ?? '');
    const ph: Record<string, Phase | undefined> = {};
    const plainPods = (scheduler: string, n: number) =>
      Array.from({ length: n }, (_, i) => plain(`p-${i}`, scheduler));

    ph['kubeDefault'] = await throughput(
      'kube-scheduler, QPS 50 / burst 100 (defaults)',
      'bench-kube-default',
      plainPods('bench-kube-default', kubeDefaultPods),
      async () => {
        const p = await kubeSchedulerProcess('bench-kube-default', 50, 100);
        return { proc: p, stop: () => p.stop() };
      },
    );
    ph['kube'] = await throughput(
      'kube-scheduler, QPS / burst 5000',
      'bench-kube',
      plainPods('bench-kube', podCount),
      async () => {
        const p = await kubeSchedulerProcess('bench-kube', 5000, 5000);
        return { proc: p, stop: () => p.stop() };
      },
    );
    // the null binder and Yard back to back: the API server (and this machine's noise) alike
    ph['null'] = await throughput(
      'null binder',
      'bench-null',
      plainPods('bench-none', podCount),
      () => nullBinder(nodeNames),
    );
    ph['yard'] = await throughput(
      'Yard, plain pods',
      'bench-yard',
      plainPods('yard', podCount),
      () => {
        const p = yardProcess();
        return Promise.resolve({ proc: p, stop: () => p.stop() });
      },
    );
    const rate = 0.8 * (ph['null']?.podsPerSecond ?? 100);
    ph['pacedNull'] = await paced(
      'null binder, paced',
      'bench-null-paced',
      'bench-none',
      rate,
      () => Promise.resolve(watchingNullBinder('bench-null-paced', nodeNames)),
    );
    ph['paced'] = await paced('Yard, paced', 'bench-yard-paced', 'yard', rate, () => {
      const p = yardProcess();
      return Promise.resolve({ proc: p, stop: () => p.stop() });
    });
    const [filled, surge] = await mix(podCount, nodeNames.length);
    ph['mix'] = filled;
    ph['surge'] = surge;

    const phases = Object.values(ph).filter((p): p is Phase => p !== undefined);
    console.log(
      `\nScheduler benchmark: ${nodeNames.length} simulated nodes in ${campusNames.length} campuses, ${podCount} pods a phase, ${availableParallelism()} CPUs\n`,
    );
    console.log(phaseTable(phases));
    console.log(`\n${table(targetRows(ph))}\n`);
    const nul = ph['null']?.podsPerSecond ?? 0;
    console.log(
      `What limits Yard: the API server. Its bind rate (${fmt(ph['yard']?.podsPerSecond)} pods/s) is the null binder's (${fmt(nul)}) — ` +
        'each bind is one POST the API server must write to etcd while kwok writes each pod’s status, on the same 2 cores; ' +
        'the decision core decides thousands of pods in tens of milliseconds (node_modules/.bin/node scheduler/core/bench.ts).',
    );
    for (const p of phases)
      for (const v of p.violations.slice(0, 5)) console.log(`violation (${p.name}): ${v}`);
    return {
      at: new Date().toISOString(),
      nodes: nodeNames.length,
      podsPerPhase: podCount,
      cpus: availableParallelism(),
      phases,
      targets: targetRows(ph),
    };
  } finally {
    if (started) await down(clusterDir);
  }
}

/** The simulated day on a control plane of its own; prints its table, returns its JSON. */
async function day(): Promise<DayResult> {
  const d = await runDay({
    dir: join(repoRoot, '.yard', 'bench-scheduler-day'),
    nodesPerCampus: Number(flags['day-nodes-per-campus']),
    dayMinutes: Number(flags['day-minutes']),
    stepSeconds: Number(flags['day-step-seconds']),
    peakOfCeiling: Number(flags['day-peak']),
    signal: stop.signal,
    progress,
    startYard: (kubeconfig) => yardProcess(kubeconfig),
  });
  console.log(`\n${dayHeading(d)}\n`);
  console.log(`${table(dayRows(d))}\n`);
  console.log(`What limits Yard in the day: ${dayLimits(d)}`);
  for (const v of d.violations.examples) console.log(`violation (day): ${v}`);
  for (const p of d.online.slowest)
    console.log(
      `slow online pod: ${p.pod} waited ${p.waitMs} ms${p.eviction ? ' (needed an eviction)' : ''}`,
    );
  return d;
}

/** The JSON of an earlier run, whose other part a part run alone keeps. */
async function earlierJson(): Promise<Record<string, unknown>> {
  try {
    return JSON.parse(await readFile(outFile, 'utf8')) as Record<string, unknown>;
  } catch {
    return {};
  }
}

async function main(): Promise<void> {
  process.once('SIGINT', () => stop.abort());
  const only = flags.only;
  // a part run alone replaces its own part of an earlier run's JSON
  let out: Record<string, unknown> = only === undefined ? {} : await earlierJson();
  if (only !== 'day') out = { ...out, ...(await podPhases()) };
  if (only !== 'pods' && !stop.signal.aborted) {
    const d = await day();
    out = { ...out, day: d, dayTargets: dayRows(d) };
  }
  if (stop.signal.aborted) {
    console.log(`interrupted: ${outFile} left as it was`);
    return;
  }
  await writeJson(outFile, out);
  console.log(`wrote ${outFile}`);
}

await main().catch((err: unknown) => {
  console.error(`[bench] failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
