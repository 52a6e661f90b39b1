// The README's first command: Yard's main job on the embedded default (or on
// the cluster KUBECONFIG names, with YARD_USE_EXISTING_CLUSTER=true).
//   1. a three-campus Kubernetes on this machine
//   2. Yard's API (CRDs) and the three Campus objects
//   3. the operator and Yard's scheduler (in this process, for the demo's length)
//   4. the IM services, spread over the campuses by Yard's scheduler
//   5. offline jobs in DRF queues filling what online leaves
//   6. a campus shielded with `kubectl yard`, and restored
// Later issues add the IM traffic, image distribution and a drill.
import { execFile } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { installCrds } from '../crds/index.ts';
import type { Campus, IMService, OfflineJob, OfflineQueue } from '../crds/index.ts';
import { addCampusController } from '../operator/campus/reconcile.ts';
import { addIMServiceController } from '../operator/imservice/reconcile.ts';
import {
  addOfflineJobController,
  addOfflineQueueController,
} from '../operator/offline/reconcile.ts';
import { YardScheduler } from '../scheduler/adapter/index.ts';
import { yardKinds } from '../operator/kinds.ts';
import {
  apply,
  isConflict,
  kinds,
  Manager,
  nullLogger,
  RestClient,
} from '../operator/runtime/index.ts';
import { findBinaries } from './control-plane/binaries.ts';
import { AlreadyRunningError, defaultClusterDir, repoRoot, up } from './control-plane/cluster.ts';
import { zoneLabel } from './control-plane/topology.ts';
import { useExistingCluster } from './harness/env.ts';
import { done, notYet, waitFor } from './harness/wait.ts';

const run = promisify(execFile);
const say = (s: string): void => {
  process.stdout.write(`${s}\n`);
};
const steps = 6;
const step = (n: number, title: string): void => say(`\n[${n}/${steps}] ${title}`);
const namespace = 'im';

interface Cluster {
  readonly kubeconfig: string;
  readonly kubectl: string;
  readonly own: boolean;
}

async function cluster(): Promise<Cluster> {
  const existing = useExistingCluster();
  if (existing) {
    const kubectl = (await findBinaries()).kubectl ?? 'kubectl';
    say(`  using the existing cluster of ${existing}`);
    return { kubeconfig: existing, kubectl, own: false };
  }
  const started = Date.now();
  try {
    const s = await up({ progress: (l) => say(`  ${l}`) });
    say(`  up in ${((Date.now() - started) / 1000).toFixed(1)}s`);
    return { kubeconfig: s.kubeconfig, kubectl: s.kubectl, own: true };
  } catch (err) {
    if (!(err instanceof AlreadyRunningError)) throw err;
    say(`  already running at ${err.state.server}`);
    return { kubeconfig: err.state.kubeconfig, kubectl: err.state.kubectl, own: true };
  }
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
    args[0] === 'yard'
      ? args
      : ['--cache-dir', join(repoRoot, '.yard', 'demo-kube-cache'), ...args],
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
    const zone = n.metadata?.labels?.[zoneLabel] ?? '(no zone)';
    const z = byZone.get(zone) ?? { nodes: 0, cpu: 0 };
    z.nodes++;
    z.cpu += Number(n.status?.allocatable?.['cpu'] ?? 0);
    byZone.set(zone, z);
  }
  return [...byZone.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([z, v]) => `  ${z}: ${v.nodes} nodes, ${v.cpu} CPUs`);
}

async function main(): Promise<void> {
  step(1, 'the local control plane: three campuses of simulated nodes');
  const c = await cluster();
  say(await kubectl(c, ['get', 'nodes', '-L', zoneLabel]));
  for (const line of await campusSummary(c.kubeconfig)) say(line);

  step(2, "Yard's API and the campuses");
  const kc = new KubeConfig();
  kc.loadFromFile(c.kubeconfig);
  const rest = new RestClient(kc, { userAgent: 'yard-demo' });
  await installCrds(kc);
  await rm(join(repoRoot, '.yard', 'demo-kube-cache'), { recursive: true, force: true });
  say('  installed the yard.dev CRDs (crds/generated/)');
  await applyFile<Campus>(rest, 'crds/samples/campuses.yaml', yardKinds.Campus);
  say('  applied crds/samples/campuses.yaml');

  step(3, "the operator and Yard's two-level scheduler");
  const quiet = {
    leaderElection: false,
    probePort: false,
    handleSignals: false,
    log: nullLogger,
  } as const;
  const mgr = new Manager({ kubeConfig: kc, ...quiet });
  addCampusController(mgr);
  addIMServiceController(mgr);
  addOfflineQueueController(mgr);
  addOfflineJobController(mgr);
  const operator = mgr.start();
  const yard = new YardScheduler({ kubeConfig: kc, ...quiet });
  const scheduling = yard.start();
  say('  both run in this process for the demo (as services: npm run operator, npm run scheduler)');
  try {
    step(4, 'the IM services, spread so that any one campus can be lost, placed by Yard');
    await rest.create(kinds.Namespace, { metadata: { name: namespace } }).catch((err: unknown) => {
      if (!isConflict(err)) throw err;
    });
    // schedulerName defaults to yard: Yard's scheduler places these pods
    const services = await applyFile<IMService>(
      rest,
      'crds/samples/im-services.yaml',
      yardKinds.IMService,
      (s) => ({ ...s, metadata: { ...s.metadata, namespace } }),
    );
    say(
      `  applied crds/samples/im-services.yaml into namespace ${namespace}: ${services.map((s) => s.metadata.name).join(', ')}`,
    );
    const t0 = Date.now();
    await waitFor(
      'every IM service Available and campus-safe',
      async () => {
        const list = (await rest.list<IMService>(yardKinds.IMService, { namespace })).items;
        const ok =
          list.length === services.length &&
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
      { timeoutMs: 120_000 },
    );
    say(`  converged in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
    say(await kubectl(c, ['get', 'yard', '-A']));
    say(await kubectl(c, ['yard', 'status']));

    step(5, 'offline jobs fill what online leaves (DRF queues, gangs all-or-nothing)');
    await applyFile<OfflineQueue>(rest, 'crds/samples/offline-queues.yaml', yardKinds.OfflineQueue);
    const jobs = await applyFile<OfflineJob>(
      rest,
      'crds/samples/offline-job.yaml',
      yardKinds.OfflineJob,
      (j) => ({
        ...j,
        metadata: { ...j.metadata, namespace },
      }),
    );
    say(
      `  applied the queue tree batch → batch-etl, batch-training and job ${jobs.map((j) => j.metadata.name).join(', ')}`,
    );
    await waitFor(
      'the offline job running on Yard-placed pods',
      async () => {
        const list = (await rest.list<OfflineJob>(yardKinds.OfflineJob, { namespace })).items;
        const running = list.every((j) => (j.status?.active ?? 0) > 0);
        return running ? done(true) : notYet(list.map((j) => j.status));
      },
      { timeoutMs: 60_000 },
    );
    say(await kubectl(c, ['get', 'offlinequeues,offlinejobs', '-A']));
    say(
      await kubectl(c, [
        'get',
        'campuses',
        '-o',
        'custom-columns=CAMPUS:.metadata.name,ONLINE-CPU:.status.onlineRequests.cpu,OFFLINE-CPU:.status.offlineRequests.cpu,HEADROOM:.status.headroom.cpu',
      ]),
    );

    step(6, 'shield campus-a (the manual global block), then restore it');
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
    await waitFor(
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
    say(
      await kubectl(c, [
        'get',
        'nodes',
        '-L',
        zoneLabel,
        '-o',
        'custom-columns=NAME:.metadata.name,ZONE:.metadata.labels.topology\\.kubernetes\\.io/zone,TAINTS:.spec.taints[*].key',
      ]),
    );
    say(await kubectl(c, ['yard', 'status']));
    say(
      '  → campus-a serves nothing; every service still has its capacity in campus-b and campus-c',
    );
    say('    (Available), but no longer survives losing another campus (CAMPUS-SAFE False).');

    say(await kubectl(c, ['yard', 'unshield', 'campus-a']));
    await waitFor(
      'campus-a back in traffic',
      async () => {
        const list = (await rest.list<IMService>(yardKinds.IMService, { namespace })).items;
        return list.every((s) =>
          s.status?.conditions?.some((x) => x.type === 'CampusSafe' && x.status === 'True'),
        )
          ? done(true)
          : notYet(list.map((s) => s.status?.campuses));
      },
      { timeoutMs: 60_000 },
    );
    say(await kubectl(c, ['yard', 'status']));
  } finally {
    await yard.stop();
    await scheduling.catch(() => undefined);
    await mgr.stop();
    await operator.catch(() => undefined);
  }
  say('');
  say(`kubeconfig: ${c.kubeconfig}`);
  if (c.own)
    say(`The cluster keeps running (${defaultClusterDir()}); stop it with: npm run cluster:down`);
}

main().catch((err: unknown) => {
  process.stderr.write(`demo: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
