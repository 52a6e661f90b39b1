// Proof that the local control plane is a real Kubernetes: controllers,
// garbage collection, namespace deletion, the default scheduler, kwok's
// simulated nodes in three campuses, kubectl, and the pinned version.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { PatchStrategy, setHeaderOptions, VersionApi } from '@kubernetes/client-node';
import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, inject } from 'vitest';
import { isNotFound } from '../../runtime/errors.ts';
import { deployment, pod } from '../harness/builders.ts';
import { createNamespace, it, uniqueName } from '../harness/kube.ts';
import { done, notYet, waitFor } from '../harness/wait.ts';
import { findBinaries } from './binaries.ts';
import { versions } from './versions.ts';
import { label } from '../../crds/names.ts';

const run = promisify(execFile);
const campuses = ['campus-a', 'campus-b', 'campus-c'];
const ownCluster = inject('ownCluster');

const isReady = (p: V1Pod): boolean =>
  p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

describe('local control plane', () => {
  it.runIf(ownCluster)('reports the pinned Kubernetes version', async ({ kube }) => {
    const v = await kube.kc.makeApiClient(VersionApi).getCode();
    expect(v.gitVersion).toBe(versions.kubernetes);
  });

  it('has Ready simulated nodes labelled with their campus and region', async ({ kube }) => {
    const nodes = (await kube.core.listNode({ labelSelector: 'type=kwok' })).items;
    const byCampus = new Map<string, number>();
    for (const n of nodes) {
      const zone = n.metadata?.labels?.[label.zone] ?? '(none)';
      byCampus.set(zone, (byCampus.get(zone) ?? 0) + 1);
      expect(n.metadata?.labels?.[label.region]).toBeTruthy();
      expect(n.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
      expect(n.spec?.podCIDR).toMatch(/^127\./);
    }
    expect([...byCampus.keys()].sort()).toEqual(campuses);
    for (const c of campuses) expect(byCampus.get(c)).toBeGreaterThan(0);
  });

  it('turns a Deployment into a ReplicaSet and Running pods with loopback IPs', async ({
    kube,
    ns,
  }) => {
    await kube.apps.createNamespacedDeployment({ namespace: ns, body: deployment('web', 3) });
    const pods = await waitFor('3 Running, Ready pods with IPs', async () => {
      const list = (await kube.core.listNamespacedPod({ namespace: ns, labelSelector: 'app=web' }))
        .items;
      const running = list.filter(
        (p) => p.status?.phase === 'Running' && p.status.podIP && isReady(p),
      );
      return running.length === 3
        ? done(running)
        : notYet(
            list.map((p) => ({
              name: p.metadata?.name,
              phase: p.status?.phase,
              ip: p.status?.podIP,
              node: p.spec?.nodeName,
            })),
          );
    });
    const rs = (await kube.apps.listNamespacedReplicaSet({ namespace: ns })).items;
    expect(rs).toHaveLength(1);
    expect(rs[0]?.metadata?.ownerReferences?.[0]?.name).toBe('web');
    for (const p of pods) {
      expect(p.metadata?.ownerReferences?.[0]?.kind).toBe('ReplicaSet');
      expect(p.status?.podIP).toMatch(/^127\.(1[6-9]|[2-9]\d|1\d\d|2[0-5]\d)\./);
    }
    expect(new Set(pods.map((p) => p.status?.podIP)).size).toBe(3);
  });

  it('garbage-collects the pods of a deleted owner', async ({ kube, ns }) => {
    await kube.apps.createNamespacedDeployment({ namespace: ns, body: deployment('gc', 2) });
    await waitFor('2 pods', async () => {
      const n = (await kube.core.listNamespacedPod({ namespace: ns })).items.length;
      return n === 2 ? done(n) : notYet(`${n} pods`);
    });
    await kube.apps.deleteNamespacedDeployment({ name: 'gc', namespace: ns });
    await waitFor('the ReplicaSet and pods to be garbage-collected', async () => {
      const rs = (await kube.apps.listNamespacedReplicaSet({ namespace: ns })).items.length;
      const pods = (await kube.core.listNamespacedPod({ namespace: ns })).items.map(
        (p) => p.metadata?.name,
      );
      return rs === 0 && pods.length === 0 ? done(true) : notYet({ replicaSets: rs, pods });
    });
  });

  it('finishes deleting a namespace that has content', async ({ kube }) => {
    const ns = await createNamespace(kube.core, uniqueName('t-ns-delete'));
    await kube.core.createNamespacedConfigMap({
      namespace: ns,
      body: { metadata: { name: 'cm' }, data: { a: '1' } },
    });
    await kube.core.createNamespacedPod({ namespace: ns, body: pod('p').build() });
    await kube.core.deleteNamespace({ name: ns });
    await waitFor(
      `namespace ${ns} to be gone`,
      async () => {
        try {
          const n = await kube.core.readNamespace({ name: ns });
          return notYet({
            phase: n.status?.phase,
            conditions: n.status?.conditions?.map((c) => `${c.type}=${c.status}`),
          });
        } catch (err) {
          if (isNotFound(err)) return done(true);
          throw err;
        }
      },
      { timeoutMs: 60_000 },
    );
  });

  it('places a pod pinned to campus-b by node affinity there (kube-scheduler)', async ({
    kube,
    ns,
  }) => {
    await kube.core.createNamespacedPod({
      namespace: ns,
      body: pod('pinned').campus('campus-b').build(),
    });
    const bound = await waitFor('the pod to be bound', async () => {
      const p = await kube.core.readNamespacedPod({ name: 'pinned', namespace: ns });
      return p.spec?.nodeName ? done(p) : notYet(p.status?.conditions ?? p.status?.phase);
    });
    const node = await kube.core.readNode({ name: bound.spec?.nodeName ?? '' });
    expect(node.metadata?.labels?.[label.zone]).toBe('campus-b');
    const events = (
      await kube.core.listNamespacedEvent({
        namespace: ns,
        fieldSelector: 'involvedObject.name=pinned',
      })
    ).items;
    const scheduled = events.find((e) => e.reason === 'Scheduled');
    expect(scheduled?.reportingComponent || scheduled?.source?.component).toBe('default-scheduler');
  });

  it('recomputes Ready when the yard.dev/serving readiness gate flips', async ({ kube, ns }) => {
    await kube.core.createNamespacedPod({
      namespace: ns,
      body: pod('gated').readinessGate('yard.dev/serving').build(),
    });
    await waitFor('the gated pod to be Ready', async () => {
      const p = await kube.core.readNamespacedPod({ name: 'gated', namespace: ns });
      return isReady(p) ? done(p) : notYet(p.status?.conditions);
    });
    const setGate = async (status: 'True' | 'False'): Promise<void> => {
      await kube.core.patchNamespacedPodStatus(
        {
          name: 'gated',
          namespace: ns,
          body: {
            status: {
              conditions: [{ type: 'yard.dev/serving', status, lastTransitionTime: new Date() }],
            },
          },
        },
        // strategic merge keeps the other conditions (merge key: type)
        setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
      );
    };
    await setGate('False');
    await waitFor('Ready=False after the gate closed', async () => {
      const p = await kube.core.readNamespacedPod({ name: 'gated', namespace: ns });
      return isReady(p) ? notYet(p.status?.conditions) : done(true);
    });
    await setGate('True');
    await waitFor('Ready=True after the gate opened', async () => {
      const p = await kube.core.readNamespacedPod({ name: 'gated', namespace: ns });
      return isReady(p) ? done(true) : notYet(p.status?.conditions);
    });
  });

  it('runs a pod that declares yard.dev/run-duration to completion', async ({ kube, ns }) => {
    const body = pod('task').build();
    body.metadata = { ...body.metadata, annotations: { 'yard.dev/run-duration': '2s' } };
    if (body.spec) body.spec.restartPolicy = 'Never';
    await kube.core.createNamespacedPod({ namespace: ns, body });
    const phases: string[] = [];
    const finished = await waitFor('the task to succeed', async () => {
      const p = await kube.core.readNamespacedPod({ name: 'task', namespace: ns });
      const phase = p.status?.phase ?? '';
      if (phases.at(-1) !== phase) phases.push(phase);
      return phase === 'Succeeded' ? done(p) : notYet(phases);
    });
    expect(phases).toContain('Running');
    const terminated = finished.status?.containerStatuses?.[0]?.state?.terminated;
    expect(terminated?.reason).toBe('Completed');
    expect(terminated?.exitCode).toBe(0);
    // it ran for (about) what it declared: timestamps have one-second resolution
    const ranMs = Number(terminated?.finishedAt) - Number(terminated?.startedAt);
    expect(ranMs).toBeGreaterThanOrEqual(1000);
  });

  it('works with kubectl and the written kubeconfig', async () => {
    const kubectl = (await findBinaries()).kubectl ?? 'kubectl';
    const { stdout } = await run(
      kubectl,
      ['--kubeconfig', inject('kubeconfig'), 'get', 'nodes', '-L', label.zone, '-l', 'type=kwok'],
      {
        timeout: 30_000,
      },
    );
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toMatch(/NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION\s+ZONE/);
    for (const c of campuses)
      expect(lines.some((l) => l.includes(` ${c}`) && l.includes('Ready'))).toBe(true);
  });
});
