// The README's first command: Yard's main job on the embedded default.
// Today: bring up the three-campus local control plane (or use the cluster
// KUBECONFIG names, with YARD_USE_EXISTING_CLUSTER=true) and show the
// campuses. Later issues add steps: CRDs, operator, scheduler, IM services,
// offline jobs, a drill and its report.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { findBinaries } from './control-plane/binaries.ts';
import { AlreadyRunningError, defaultClusterDir, up } from './control-plane/cluster.ts';
import { zoneLabel } from './control-plane/topology.ts';
import { useExistingCluster } from './harness/env.ts';

const run = promisify(execFile);
const say = (s: string): void => {
  process.stdout.write(`${s}\n`);
};

interface Cluster {
  readonly kubeconfig: string;
  readonly kubectl: string;
  readonly own: boolean;
}

async function cluster(): Promise<Cluster> {
  const existing = useExistingCluster();
  if (existing) {
    const kubectl = (await findBinaries()).kubectl ?? 'kubectl';
    say(`using the existing cluster of ${existing}`);
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

/** Sums allocatable CPU and pods per campus, as the campus controller will. */
async function campusSummary(kubeconfig: string): Promise<string[]> {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const nodes = (await kc.makeApiClient(CoreV1Api).listNode()).items;
  const byZone = new Map<string, { nodes: number; ready: number; cpu: number; pods: number }>();
  for (const n of nodes) {
    const zone = n.metadata?.labels?.[zoneLabel] ?? '(no zone)';
    const z = byZone.get(zone) ?? { nodes: 0, ready: 0, cpu: 0, pods: 0 };
    z.nodes++;
    if (n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) z.ready++;
    z.cpu += Number(n.status?.allocatable?.['cpu'] ?? 0);
    z.pods += Number(n.status?.allocatable?.['pods'] ?? 0);
    byZone.set(zone, z);
  }
  return [...byZone.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(
      ([zone, z]) =>
        `  ${zone.padEnd(10)} ${z.ready}/${z.nodes} nodes Ready, ${z.cpu} CPUs, ${z.pods} pod slots`,
    );
}

async function main(): Promise<void> {
  say('[1/2] the local control plane: three campuses of simulated nodes');
  const c = await cluster();
  say('');
  say('[2/2] kubectl get nodes -L topology.kubernetes.io/zone');
  const { stdout } = await run(
    c.kubectl,
    ['--kubeconfig', c.kubeconfig, 'get', 'nodes', '-L', zoneLabel],
    {
      timeout: 30_000,
    },
  );
  say(stdout.trimEnd());
  say('');
  say('campuses:');
  for (const line of await campusSummary(c.kubeconfig)) say(line);
  say('');
  say(`kubeconfig: ${c.kubeconfig}`);
  if (c.own)
    say(`The cluster keeps running (${defaultClusterDir()}); stop it with: npm run cluster:down`);
}

main().catch((err: unknown) => {
  process.stderr.write(`demo: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
