// Vitest global setup of the integration project: one local control plane per
// test run, shared by every test file (or the cluster KUBECONFIG names, with
// YARD_USE_EXISTING_CLUSTER=true). A detached reaper tears it down even when
// the run is killed; stale clusters of earlier, killed runs are removed first.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { down, readState, repoRoot, startReaper, up } from '../control-plane/cluster.ts';
import { useExistingCluster } from './env.ts';

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function removeStaleTestClusters(root: string): Promise<void> {
  const entries = await readdir(root).catch(() => [] as string[]);
  for (const e of entries) {
    const m = /^test-(\d+)$/.exec(e);
    if (!m || pidAlive(Number(m[1]))) continue;
    const dir = join(root, e);
    if (await readState(dir)) console.log(`[control plane] removing a stale test cluster: ${dir}`);
    await down(dir);
  }
}

export default async function setup(
  project: TestProject,
): Promise<(() => Promise<void>) | undefined> {
  const existing = useExistingCluster();
  if (existing) {
    console.log(`[control plane] using the existing cluster of ${existing}`);
    project.provide('kubeconfig', existing);
    project.provide('ownCluster', false);
    return undefined;
  }
  const root = join(repoRoot, '.yard');
  await removeStaleTestClusters(root);
  const dir = join(root, `test-${process.pid}`);
  startReaper(dir);
  const started = Date.now();
  const state = await up({
    dir,
    name: 'yard-test',
    nodesPerCampus: Number(process.env['YARD_TEST_NODES_PER_CAMPUS'] ?? 2),
    progress: (line) => console.log(`[control plane] ${line}`),
  });
  console.log(
    `[control plane] up in ${((Date.now() - started) / 1000).toFixed(1)}s at ${state.server}`,
  );
  project.provide('kubeconfig', state.kubeconfig);
  project.provide('ownCluster', true);
  project.provide('clusterDir', dir);
  return async () => {
    await down(dir);
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    kubeconfig: string;
    ownCluster: boolean;
    clusterDir: string;
  }
}
