// The README's first command: Yard's main job on the embedded default (or on
// the cluster KUBECONFIG names, with YARD_USE_EXISTING_CLUSTER=true).
//   1. a three-campus Kubernetes on this machine
//   2. Yard's API (CRDs) and the three Campus objects
//   3. the operator, Yard's scheduler and the node agent, as processes that outlive the
//      demo (recorded in the cluster's state: cluster:status lists them, cluster:down stops them)
//   4. the IM backend (crds/samples/im-backend.yaml) as real processes, spread over
//      the campuses by Yard's scheduler, finding each other by watching pods
//   5. the dial-test prober's live success rate
//   6. offline jobs in DRF queues filling what online leaves
//   7. an online surge that takes capacity back from them through evictions
//   8. a campus shielded with `kubectl yard` under dial tests, and restored
// Later issues add image distribution and the daily drill.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import type { V1Pod } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { installCrds } from '../crds/index.ts';
import type { Campus, IMService, OfflineJob, OfflineQueue } from '../crds/index.ts';
import { yardKinds } from '../crds/index.ts';
import { apply, isConflict, kinds, RestClient } from '../runtime/index.ts';
import type { ProberReport } from '../services/prober/prober.ts';
import { findBinaries } from './control-plane/binaries.ts';
import {
  AlreadyRunningError,
  defaultClusterDir,
  readState,
  repoRoot,
  startComponent,
  up,
} from './control-plane/cluster.ts';
import type { ClusterState } from './control-plane/cluster.ts';
import { freePort, isAlive, logTail, startDetached, stopProcess } from './control-plane/process.ts';
import type { ProcessRecord } from './control-plane/process.ts';
import { versions } from './control-plane/versions.ts';
import { useExistingCluster } from './harness/env.ts';
import { done, notYet, waitFor } from './harness/wait.ts';
import type { Observation, WaitOptions } from './harness/wait.ts';
import { label } from '../crds/names.ts';

const run = promisify(execFile);
const say = (s: string): void => {
  process.stdout.write(`${s}\n`);
};
const steps = 8;
const step = (n: number, title: string): void => say(`\n[${n}/${steps}] ${title}`);
const namespace = 'im';

interface Cluster {
  readonly kubeconfig: string;
  readonly kubectl: string;
  /** The folder of the cluster this demo manages (undefined: an existing cluster). */
  readonly dir: string | undefined;
  /** kubectl's discovery cache for the demo's commands (see kubectl()). */
  readonly kubeCache: string;
}

/**
 * waitFor that is never silent for long: after 3 s it says what it waits
 * for, then every 5 s what it last saw.
 */
async function waitSaying<T>(
  what: string,
  probe: () => Promise<Observation<T>>,
  opts: WaitOptions & { readonly seen?: (seen: unknown) => string } = {},
): Promise<T> {
  const t0 = Date.now();
  let nextSay = t0 + 3000;
  const brief = opts.seen ?? ((x: unknown) => JSON.stringify(x)?.slice(0, 160) ?? '');
  return waitFor(
    what,
    async () => {
      const o = await probe();
      if (!o.done && Date.now() >= nextSay) {
        say(`  … waiting for ${what} (${Math.round((Date.now() - t0) / 1000)}s): ${brief(o.seen)}`);
        nextSay = Date.now() + 5000;
      }
      return o;
    },
    opts,
  );
}

async function cluster(): Promise<Cluster> {
  const existing = useExistingCluster();
  // a discovery cache of its own, outside the work tree and removed at the end
  const kubeCache = await mkdtemp(join(tmpdir(), 'yard-demo-kube-cache-'));
  if (existing) {
    const kubectl = (await findBinaries()).kubectl ?? 'kubectl';
    say(`  using the existing cluster of ${existing}`);
    return { kubeconfig: existing, kubectl, dir: undefined, kubeCache };
  }
  const started = Date.now();
  let s: ClusterState;
  try {
    s = await up({ progress: (l) => say(`  ${l}`) });
    say(`  up in ${((Date.now() - started) / 1000).toFixed(1)}s`);
  } catch (err) {
    if (!(err instanceof AlreadyRunningError)) throw err;
    say(`  already running at ${err.state.server}`);
    s = err.state;
  }
  return { kubeconfig: s.kubeconfig, kubectl: s.kubectl, dir: s.dir, kubeCache };
}

interface Yard {
  /** Stops the components unless they outlive the demo (a cluster of its own). */
  finish(): Promise<void>;
}

/**
 * The operator, Yard's scheduler and the node agent as their own processes
 * (npm run operator, scheduler, node-agent). On the demo's own cluster they
 * are recorded in its state and keep running after the demo: the cluster
 * keeps working until `npm run cluster:down`, which stops them. On an
 * existing cluster they stop with the demo.
 */
async function startYard(c: Cluster): Promise<Yard> {
  const own = c.dir;
  const scratch = own ? undefined : await mkdtemp(join(tmpdir(), 'yard-demo-'));
  const base = own ?? scratch ?? '';
  const [op, sched, agent] = [await freePort(), await freePort(), await freePort()];
  const kc = ['--kubeconfig', c.kubeconfig];
  // Leader-elected as in production, so `kubectl yard status` sees who runs
  // (it reads the leases). A long lease: on a loaded 2-core machine a 15 s
  // lease can lapse, and a process that loses its lease exits with nobody
  // here to restart it.
  const lease = '--lease-duration=60s';
  const specs = [
    {
      name: 'yard-operator',
      script: 'operator/main.ts',
      args: [...kc, lease, `--metrics-port=${op}`],
      health: `http://127.0.0.1:${op}/readyz`,
    },
    {
      name: 'yard-scheduler',
      script: 'scheduler/main.ts',
      args: [...kc, lease, `--metrics-port=${sched}`],
      health: `http://127.0.0.1:${sched}/readyz`,
    },
    {
      name: 'node-agent',
      script: 'e2e/node-agent/main.ts',
      args: ['run', ...kc, '--dir', join(base, 'node-agent'), '--control', `127.0.0.1:${agent}`],
      health: `http://127.0.0.1:${agent}/status`,
    },
  ];
  const started: (ProcessRecord & { health: string })[] = [];
  for (const sp of specs) {
    started.push(
      own
        ? await startComponent(own, sp.name, sp.script, sp.args, sp.health)
        : {
            ...startDetached(
              sp.name,
              process.execPath,
              [join(repoRoot, sp.script), ...sp.args],
              join(base, `${sp.name}.log`),
            ),
            health: sp.health,
          },
    );
  }
  const dead = await waitSaying(
    'the operator, the scheduler and the node agent to answer their health checks',
    async () => {
      const waiting: string[] = [];
      for (const p of started) {
        // a component that died says why at once, rather than at the deadline
        if (!isAlive(p)) return done(p);
        const ok = await fetch(p.health, { signal: AbortSignal.timeout(2000) }).then(
          (r) => r.ok,
          () => false,
        );
        if (!ok) waiting.push(p.name);
      }
      return waiting.length === 0 ? done(undefined) : notYet(waiting.join(', '));
    },
    { timeoutMs: 90_000, intervalMs: 500, seen: String },
  );
  if (dead)
    throw new Error(`${dead.name} exited; last lines of ${dead.log}:\n${logTail(dead.log)}`);
  for (const p of started) say(`  ${p.name.padEnd(15)} pid ${p.pid}, log ${p.log}`);
  return {
    finish: async () => {
      if (own) return;
      for (const p of started.reverse()) await stopProcess(p);
      if (scratch) await rm(scratch, { recursive: true, force: true });
    },
  };
}

/** kubectl (and its `yard` plugin, from bin/) against the demo's cluster, echoing the command. */
async function kubectl(c: Cluster, args: string[]): Promise<string> {
  const quoted = args.map((a) => (/[\s"']/.test(a) ? `"${a.replace(/"/g, '\\"')}"` : a));
  say(`  $ kubectl ${quoted.join(' ')}`);
  const env = {
    ...process.env,
    KUBECONFIG: c.kubeconfig,
    PATH: `${join(repoRoot, 'bin')}:${process.env['PATH'] ?? ''}`,
  };
  // a discovery cache of its own: one filled before the CRDs existed would not know `yard`
  const { stdout } = await run(
    c.kubectl,
    args[0] === 'yard' ? args : ['--cache-dir', c.kubeCache, ...args],
    {
      env,
      timeout: 60_000,
    },
  );
  return stdout
    .trimEnd()
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
}

async function applyFile<T extends { metadata: { name?: string; namespace?: string } }>(
  rest: RestClient,
  file: string,
  type: (typeof yardKinds)[keyof typeof yardKinds],
  edit: (o: T) => T = (o) => o,
): Promise<T[]> {
  const docs = parseAllDocuments(await readFile(join(repoRoot, file), 'utf8')).map(
    (d) => d.toJS() as T,
  );
  for (const d of docs) await apply(rest, type, edit(d), { fieldManager: 'yard-demo' });
  return docs;
}

async function campusSummary(kubeconfig: string): Promise<string[]> {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const nodes = (await kc.makeApiClient(CoreV1Api).listNode()).items;
  const byZone = new Map<string, { nodes: number; cpu: number }>();
  for (const n of nodes) {
    const zone = n.metadata?.labels?.[label.zone] ?? '(no zone)';
    const z = byZone.get(zone) ?? { nodes: 0, cpu: 0 };
    z.nodes++;
    z.cpu += Number(n.status?.allocatable?.['cpu'] ?? 0);
    byZone.set(zone, z);
  }
  return [...byZone.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([z, v]) => `  ${z}: ${v.nodes} nodes, ${v.cpu} CPUs`);
}

/** The prober's report, from its pod (pod addresses are on loopback). */
async function proberReport(rest: RestClient): Promise<ProberReport | undefined> {
  const pods = (
    await rest.list<V1Pod>(kinds.Pod, { namespace, labelSelector: 'app=im-prober' })
  ).items.filter((p) => p.status?.podIP && !p.metadata?.deletionTimestamp);
  const ip = pods[0]?.status?.podIP;
  if (!ip) return undefined;
  try {
    const res = await fetch(`http://${ip}:9090/report`, { signal: AbortSignal.timeout(3000) });
    return res.ok ? ((await res.json()) as ProberReport) : undefined;
  } catch {
    return undefined;
  }
}

const percent = (x: number | null | undefined): string =>
  x === null || x === undefined ? '  n/a' : `${(x * 100).toFixed(1)}%`;

function windowLine(w: ProberReport['windows'][number], label: string): string {
  // delivery (sent → seen by the receiver's next sync) follows the prober's sync cadence
  const slowest = w.apis
    .filter((a) => a.api !== 'delivery')
    .sort((a, b) => (b.p99Ms ?? 0) - (a.p99Ms ?? 0))[0];
  const n = String(w.ok + w.failed).padStart(3);
  const p99 = String(Math.round(slowest?.p99Ms ?? 0)).padStart(4);
  return `  ${label} ${new Date(w.end).toISOString().slice(11, 19)}  ${n} dial tests  success ${percent(w.successRate).padStart(6)}  slowest p99 ${p99} ms (${slowest?.api ?? '-'})`;
}

/** Prints the prober's windows as they close, for `ms`, and the failures it saw meanwhile. */
async function watchDialTests(
  rest: RestClient,
  ms: number,
  label: string,
  failuresSince = Date.now(),
): Promise<void> {
  const since = Date.now();
  const until = since + ms;
  const printed = new Set<number>();
  while (Date.now() < until) {
    await sleep(1000);
    const r = await proberReport(rest);
    const at = Date.parse(r?.at ?? '');
    for (const w of r?.windows ?? []) {
      // windows that closed while we watched
      if (printed.has(w.start) || w.end <= since || w.end > at || w.ok + w.failed === 0) continue;
      printed.add(w.start);
      say(windowLine(w, label));
    }
  }
  const r = await proberReport(rest);
  for (const line of r ? proberSummary(r, failuresSince) : []) say(line);
}

/**
 * The prober's totals in words. Start-up (requests sent before any access
 * instance had served once) is counted apart: it was starting, not down.
 * Delivery: every message the server acknowledged is either delivered (the
 * receiver's sync saw it), on its way (acknowledged, not yet synced: the
 * receivers sync every few seconds), or lost (not seen within the timeout).
 */
function proberSummary(r: ProberReport, failuresSince: number): string[] {
  const d = r.delivery;
  const startup =
    r.startup.failed > 0
      ? `; before the first access instance served, ${r.startup.failed} requests failed while it started (not counted)`
      : '';
  const onTheWay =
    d.pending > 0
      ? `, ${d.pending} on their way (acknowledged, not yet seen by the receiver's next sync)`
      : '';
  return [
    `  since the prober started: ${r.totals.ok} ok, ${r.totals.failed} failed (${percent(r.totals.successRate)})${startup}`,
    `  messages: ${d.expected} acknowledged by the server, ${d.delivered} delivered${onTheWay}; lost ${d.lost}, duplicates ${d.duplicates}`,
    `    (lost: not seen by its receiver 10 s after it was acknowledged; one that arrives later moves to late: ${d.late} so far)`,
    ...r.recentFailures
      .filter((x) => Date.parse(x.at) > failuresSince)
      .slice(-3)
      .map((f) => `    failed ${f.at.slice(11, 19)} ${f.api}: ${f.status} ${f.reason}`),
  ];
}

/** Offline pods bound to a node now, and their CPU. */
async function offlineBound(rest: RestClient): Promise<{ pods: number; cpu: number }> {
  const pods = (
    await rest.list<V1Pod>(kinds.Pod, { namespace, labelSelector: 'yard.dev/offline-job' })
  ).items.filter(
    (p) =>
      p.spec?.nodeName &&
      !p.metadata?.deletionTimestamp &&
      p.status?.phase !== 'Succeeded' &&
      p.status?.phase !== 'Failed',
  );
  const cpu = pods.reduce(
    (n, p) => n + Number(p.spec?.containers[0]?.resources?.requests?.['cpu'] ?? 0),
    0,
  );
  return { pods: pods.length, cpu };
}

/**
 * Waits (bounded) until the Campus objects' offline load holds still, so the
 * table is current. Not "equals the bound pods": the scheduler publishes it
 * with its binds in flight (gangs being placed) included, so the two differ
 * whenever the job is still placing pods.
 */
async function campusesCaughtUp(rest: RestClient): Promise<void> {
  let previous: number | undefined;
  await waitSaying(
    'the campus status to settle',
    async () => {
      const reported = (await rest.list<Campus>(yardKinds.Campus)).items.reduce(
        (n, x) => n + Number(x.status?.offlineRequests?.cpu ?? 0),
        0,
      );
      const settled = reported === previous;
      previous = reported;
      return settled ? done(true) : notYet({ offlineCpu: reported });
    },
    { timeoutMs: 10_000, intervalMs: 1500 },
  ).catch(() => say('  (the campus status still moves after 10 s: the table is a snapshot)'));
}

/** Pods of the namespace per campus: online (IM services) and offline (jobs). */
async function capacityTable(c: Cluster, rest: RestClient): Promise<void> {
  await campusesCaughtUp(rest);
  say(
    await kubectl(c, [
      'get',
      'campuses',
      '-o',
      'custom-columns=CAMPUS:.metadata.name,SHIELDED:.status.shield.active,ONLINE-CPU:.status.onlineRequests.cpu,OFFLINE-CPU:.status.offlineRequests.cpu,HEADROOM:.status.headroom.cpu,ALLOCATABLE:.status.allocatable.cpu',
    ]),
  );
}

/** Waits (bounded) for the jobs' status to count new preemptions. */
async function preemptionsAbove(rest: RestClient, n: number): Promise<void> {
  await waitSaying(
    'preemptions counted',
    async () => ((await evictionsOf(rest)) > n ? done(true) : notYet(n)),
    { timeoutMs: 15_000 },
  ).catch(() => say('  (no new preemption counted in 15 s)'));
}

const evictionsOf = async (rest: RestClient): Promise<number> =>
  (await rest.list<OfflineJob>(yardKinds.OfflineJob, { namespace })).items.reduce(
    (n, j) => n + (j.status?.preemptions ?? 0),
    0,
  );

async function servicesReady(rest: RestClient, what: string, names?: readonly string[]) {
  const t0 = Date.now();
  await waitSaying(
    what,
    async () => {
      const list = (await rest.list<IMService>(yardKinds.IMService, { namespace })).items.filter(
        (s) => !names || names.includes(s.metadata?.name ?? ''),
      );
      const ok =
        list.length > 0 &&
        (!names || list.length === names.length) &&
        list.every(
          (s) =>
            s.status?.observedGeneration === s.metadata?.generation &&
            s.status?.rollout?.phase === 'Complete' &&
            ['Available', 'CampusSafe'].every((t) =>
              s.status?.conditions?.some((x) => x.type === t && x.status === 'True'),
            ),
        );
      return ok
        ? done(true)
        : notYet(
            list.map(
              (s) =>
                `${s.metadata?.name}: ${s.status?.availableReplicas ?? 0}/${s.status?.replicas ?? '?'}`,
            ),
          );
    },
    { timeoutMs: 180_000 },
  );
  say(`  ${what}: ${((Date.now() - t0) / 1000).toFixed(1)}s`);
}

async function main(): Promise<void> {
  step(1, 'the local control plane: three campuses of simulated nodes');
  const c = await cluster();
  say(await kubectl(c, ['get', 'nodes', '-L', label.zone]));
  for (const line of await campusSummary(c.kubeconfig)) say(line);

  step(2, "Yard's API and the campuses");
  const kc = new KubeConfig();
  kc.loadFromFile(c.kubeconfig);
  const rest = new RestClient(kc, { userAgent: 'yard-demo' });
  await installCrds(kc);
  await rm(c.kubeCache, { recursive: true, force: true });
  say('  installed the yard.dev CRDs (crds/generated/)');
  await applyFile<Campus>(rest, 'crds/samples/campuses.yaml', yardKinds.Campus);
  say('  applied crds/samples/campuses.yaml');

  step(3, "the operator, Yard's two-level scheduler and the node agent");
  const yard = await startYard(c);
  say(
    c.dir
      ? '  each runs as its own process (npm run operator, npm run scheduler, npm run node-agent)\n' +
          '  and keeps running after the demo, so the cluster keeps working until npm run cluster:down;'
      : '  each runs as its own process (npm run operator, scheduler, node-agent) until the demo ends;',
  );
  say('  the node agent runs the pods of our images labelled yard.dev/runtime=process as real');
  say('  processes on their pod addresses');
  try {
    step(4, 'the IM backend, spread so that any one campus can be lost, placed by Yard');
    await rest.create(kinds.Namespace, { metadata: { name: namespace } }).catch((err: unknown) => {
      if (!isConflict(err)) throw err;
    });
    await rest
      .create(kinds.Secret, {
        metadata: { name: 'im-ticket', namespace },
        stringData: { secret: randomBytes(32).toString('base64') },
      })
      .catch((err: unknown) => {
        if (!isConflict(err)) throw err;
      });
    say(
      `  created secret im-ticket (the ticket key every tier verifies with) in namespace ${namespace}`,
    );
    say(await kubectl(c, ['apply', '-n', namespace, '-f', 'crds/samples/im-backend.yaml']));
    await servicesReady(rest, 'every IM service Available and campus-safe, as real processes');
    await waitSaying(
      'the dial-test prober ready',
      async () =>
        (await proberReport(rest))?.phase === 'running' ? done(true) : notYet('setting up'),
      { timeoutMs: 90_000 },
    );
    say(
      await kubectl(c, [
        'get',
        'pods',
        '-n',
        namespace,
        '-o',
        'custom-columns=POD:.metadata.name,NODE:.spec.nodeName,IP:.status.podIP,READY:.status.conditions[?(@.type=="Ready")].status',
      ]),
    );
    say(await kubectl(c, ['get', 'imservices', '-n', namespace]));

    step(5, "dial tests: the prober's synthetic users log in, send, group-send, pay and sync");
    await watchDialTests(rest, 10_000, 'window ending', 0);

    step(6, 'offline jobs fill what online leaves (DRF queues, gangs all-or-nothing)');
    await applyFile<OfflineQueue>(rest, 'crds/samples/offline-queues.yaml', yardKinds.OfflineQueue);
    await applyFile<OfflineJob>(
      rest,
      'crds/samples/offline-job.yaml',
      yardKinds.OfflineJob,
      (j) => ({
        ...j,
        metadata: { ...j.metadata, namespace },
      }),
    );
    // the trough: a backfill queue with no maximum and a job larger than the free capacity
    await apply(
      rest,
      yardKinds.OfflineQueue,
      {
        apiVersion: 'yard.dev/v1alpha1',
        kind: 'OfflineQueue',
        metadata: { name: 'backfill' },
        spec: { weight: 1 },
      },
      { fieldManager: 'yard-demo' },
    );
    await apply(rest, yardKinds.OfflineJob, backfillJob(), { fieldManager: 'yard-demo' });
    say('  applied the queue tree batch → batch-etl, batch-training, job nightly-etl, and a');
    say(
      '  backfill queue with job backfill: 180 pods of 1 CPU in gangs of 6, larger than what is free',
    );
    const filling = Date.now();
    const filled = await waitSaying(
      'offline work filling the campuses',
      async () => {
        const bound = await offlineBound(rest);
        // 192 CPUs, about 6 online and 8 for nightly-etl: 150 is most of the rest
        return bound.pods >= 150 ? done(bound) : notYet(bound);
      },
      { timeoutMs: 120_000 },
    );
    say(
      `  ${filled.pods} offline pods (${filled.cpu} CPUs) placed by Yard in ${((Date.now() - filling) / 1000).toFixed(1)}s`,
    );
    say(await kubectl(c, ['get', 'offlinequeues,offlinejobs', '-A']));
    await capacityTable(c, rest);

    step(7, 'an online surge takes its capacity back from offline work, through evictions');
    const before = await evictionsOf(rest);
    await apply(rest, yardKinds.IMService, surgeService(), { fieldManager: 'yard-demo' });
    say(
      '  applied IMService moments-surge: capacity 8, so 4 replicas of 8 CPUs in each campus (simulated pods)',
    );
    await servicesReady(rest, 'the surge Available', ['moments-surge']);
    await preemptionsAbove(rest, before);
    say(
      `  offline pods evicted for it: ${(await evictionsOf(rest)) - before} (the job recreates them; they wait for room)`,
    );
    await capacityTable(c, rest);
    say(await kubectl(c, ['get', 'offlinejobs', '-n', namespace]));

    step(8, 'shield campus-a (the manual global block) under dial tests, then restore it');
    const beforeShield = await evictionsOf(rest);
    say(
      await kubectl(c, [
        'yard',
        'shield',
        'campus-a',
        '--for',
        '10m',
        '--reason',
        'demo: switch upgrade in hall 3',
      ]),
    );
    await waitSaying(
      'campus-a shielded and its pods out of traffic',
      async () => {
        const campus = await rest.get<Campus>(yardKinds.Campus, undefined, 'campus-a');
        const list = (await rest.list<IMService>(yardKinds.IMService, { namespace })).items;
        const drained = list.every(
          (s) => (s.status?.campuses?.find((x) => x.name === 'campus-a')?.ready ?? 1) === 0,
        );
        return campus.status?.shield?.active && drained
          ? done(true)
          : notYet({ shield: campus.status?.shield });
      },
      { timeoutMs: 60_000 },
    );
    await watchDialTests(rest, 8_000, 'shielded, window ending');
    await preemptionsAbove(rest, beforeShield);
    say(
      `  offline pods evicted in campus-b and campus-c to hold room for campus-a's online load: ${(await evictionsOf(rest)) - beforeShield}`,
    );
    await capacityTable(c, rest);
    say(await kubectl(c, ['yard', 'status']));
    say('  → campus-a serves nothing and the dial tests keep succeeding: every service still has');
    say('    its capacity in campus-b and campus-c (Available), but no longer survives losing');
    say('    another campus (CAMPUS-SAFE False).');

    say(await kubectl(c, ['yard', 'unshield', 'campus-a']));
    await servicesReady(rest, 'campus-a back in traffic, every service campus-safe');
    await watchDialTests(rest, 4_000, 'restored, window ending');
    await capacityTable(c, rest);
  } finally {
    await yard.finish();
    await rm(c.kubeCache, { recursive: true, force: true });
  }
  await nextSteps(c);
}

/** The demo's last lines: commands that work as printed, in a new shell too. */
async function nextSteps(c: Cluster): Promise<void> {
  say('');
  if (!c.dir) {
    say(
      `Done. The demo's operator, scheduler and node agent stopped with it; kubeconfig: ${c.kubeconfig}`,
    );
    return;
  }
  const s = await readState(c.dir);
  const other = c.dir === defaultClusterDir() ? '' : ` -- --dir ${c.dir}`;
  say('Done. The cluster keeps running, and so do the operator, the scheduler and the node agent:');
  say('the IM backend keeps serving and the prober keeps dial-testing it. Look around:');
  say('');
  say(`  export KUBECONFIG=${c.kubeconfig}`);
  say(
    `  export PATH=${dirname(c.kubectl)}:${join(repoRoot, 'bin')}:$PATH   # kubectl ${s?.versions.kubernetes ?? versions.kubernetes} (the cluster's) and the kubectl-yard plugin`,
  );
  say('  kubectl get yard -A                 # campuses, IM services, offline queues and jobs');
  say('  kubectl yard status                 # campuses, shields and what each service survives');
  say(`  kubectl get pods -n ${namespace} -o wide`);
  say(`  npm run cluster:status${other}             # every process, its health and its log`);
  say(`  npm run cluster:down${other}               # stops all of it and removes ${c.dir}`);
}

/** A backfill job larger than the free capacity: it fills the trough and waits for more. */
function backfillJob(): OfflineJob {
  return {
    apiVersion: 'yard.dev/v1alpha1',
    kind: 'OfflineJob',
    metadata: { name: 'backfill', namespace },
    spec: {
      queue: 'backfill',
      parallelism: 180,
      completions: 720,
      minAvailable: 6,
      priority: 1,
      runDuration: '20m',
      template: {
        spec: {
          restartPolicy: 'Never',
          containers: [
            {
              name: 'work',
              image: 'registry.local/yard/backfill:0.1.0',
              resources: { requests: { cpu: '1', memory: '2Gi' } },
            },
          ],
        },
      },
    },
  };
}

/** An online surge on simulated pods (no yard.dev/runtime label: kwok runs them). */
function surgeService(): IMService {
  return {
    apiVersion: 'yard.dev/v1alpha1',
    kind: 'IMService',
    metadata: { name: 'moments-surge', namespace },
    spec: {
      tier: 'logic',
      businessPriority: 'moments',
      capacity: 8,
      template: {
        spec: {
          containers: [
            {
              name: 'main',
              image: 'registry.local/yard/im-moments:0.1.0',
              resources: { requests: { cpu: '8', memory: '8Gi' } },
            },
          ],
        },
      },
    },
  };
}

main().catch((err: unknown) => {
  process.stderr.write(`demo: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
