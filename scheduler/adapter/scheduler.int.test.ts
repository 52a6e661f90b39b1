// Yard's scheduler against the local control plane (3 campuses × 2 nodes of
// 32 CPU, 128 GiB): online spread, offline fill, preemption through the
// Eviction API, readable refusals, and nodes it must keep off.
import type { CoreV1Api, V1Pod } from '@kubernetes/client-node';
import { afterEach, beforeAll, describe, expect } from 'vitest';
import { pod } from '../../e2e/harness/builders.ts';
import { it, kubeConfig, uniqueName } from '../../e2e/harness/kube.ts';
import { done, notYet, waitFor } from '../../e2e/harness/wait.ts';
import { ensureYard } from '../../e2e/harness/yard.ts';
import type { IMService } from '../../crds/index.ts';
import { runOperator } from '../../e2e/harness/operator.ts';
import { addIMServiceController } from '../../operator/imservice/reconcile.ts';
import { yardKinds } from '../../crds/index.ts';
import { kinds, mergePatch, RestClient } from '../../runtime/index.ts';
import {
  allBound,
  createQueue,
  deleteQueue,
  eventsIn,
  nodeOf,
  podsOf,
  quietNodes,
  runScheduler,
  setShield,
} from '../../e2e/harness/scheduler.ts';
import type { RunningScheduler } from '../../e2e/harness/scheduler.ts';

let running: RunningScheduler | undefined;
const cleanup: (() => Promise<void>)[] = [];

beforeAll(async () => {
  await ensureYard(kubeConfig());
});
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
  await running?.stop();
  running = undefined;
});

function start(): RunningScheduler {
  running = runScheduler(kubeConfig());
  return running;
}

const online = (name: string, campus: string, cpu: string, service = 'chat'): V1Pod =>
  pod(name)
    .scheduler('yard')
    .campus(campus)
    .requests({ cpu, memory: '1Gi' })
    .labels({
      'yard.dev/framework': 'online',
      'yard.dev/imservice': service,
      'yard.dev/business-priority': 'message',
    })
    .build();

const offline = (name: string, queue: string, job: string, cpu: string): V1Pod =>
  pod(name)
    .scheduler('yard')
    .requests({ cpu, memory: '1Gi' })
    .labels({
      'yard.dev/framework': 'offline',
      'yard.dev/queue': queue,
      'yard.dev/offline-job': job,
    })
    .build();

async function create(core: CoreV1Api, ns: string, pods: readonly V1Pod[]): Promise<void> {
  await Promise.all(pods.map((body) => core.createNamespacedPod({ namespace: ns, body })));
}

const scheduledCondition = (p: V1Pod) =>
  p.status?.conditions?.find((c) => c.type === 'PodScheduled');

async function waitUnschedulable(core: CoreV1Api, ns: string, name: string): Promise<string> {
  return waitFor(`${name} marked PodScheduled=False`, async () => {
    const p = await core.readNamespacedPod({ namespace: ns, name });
    const c = scheduledCondition(p);
    return c?.status === 'False' && c.reason === 'Unschedulable' && c.message
      ? done(c.message)
      : notYet(p.status);
  });
}

const count = (xs: readonly (string | undefined)[]): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const x of xs) if (x) out[x] = (out[x] ?? 0) + 1;
  return out;
};

describe('Yard scheduler', () => {
  it('spreads a service’s pods evenly over its campus’s nodes', async ({ kube, ns }) => {
    await quietNodes(kube.core, [ns]);
    start();
    await create(
      kube.core,
      ns,
      Array.from({ length: 6 }, (_, i) => online(`chat-${i}`, 'campus-b', '1')),
    );
    const pods = await allBound(kube.core, ns, 6);
    const byNode = count(pods.map(nodeOf));
    expect(Object.keys(byNode).sort()).toEqual(['campus-b-node-001', 'campus-b-node-002']);
    expect(Object.values(byNode)).toEqual([3, 3]);
  });

  it('places an IMService’s campus Deployments one replica per node, each in its campus', async ({
    kube,
    ns,
  }) => {
    await quietNodes(kube.core, [ns]);
    const kc = kubeConfig();
    const op = runOperator(kc, (m) => addIMServiceController(m));
    cleanup.push(() => op.stop());
    start();
    const svc: IMService = {
      apiVersion: 'yard.dev/v1alpha1',
      kind: 'IMService',
      metadata: { name: 'logic', namespace: ns },
      spec: {
        tier: 'logic',
        businessPriority: 'message',
        capacity: 4, // 2 per campus over three campuses
        schedulerName: 'yard',
        template: {
          spec: {
            containers: [
              {
                name: 'logic',
                image: 'registry.local/yard/logic:1',
                resources: { requests: { cpu: '2', memory: '4Gi' } },
              },
            ],
          },
        },
      },
    };
    await new RestClient(kc).create(yardKinds.IMService, svc);
    const pods = await allBound(kube.core, ns, 6, 'yard.dev/imservice=logic');
    for (const p of pods) {
      expect(p.spec?.schedulerName).toBe('yard');
      expect(nodeOf(p)).toMatch(new RegExp(`^${p.metadata?.labels?.['yard.dev/campus']}-node-`));
    }
    // never two replicas on one node while another node of the campus has room
    expect(Object.values(count(pods.map(nodeOf)))).toEqual([1, 1, 1, 1, 1, 1]);
  });

  it('fills what online leaves with offline pods, and an online surge preempts them through evictions', async ({
    kube,
    ns,
  }) => {
    await quietNodes(kube.core, [ns]);
    const kc = kubeConfig();
    const queue = uniqueName('q-fill');
    await createQueue(kc, queue);
    cleanup.push(() => deleteQueue(kc, queue));
    const s = start();
    // 24 × 8 CPU: every node of every campus full
    await create(
      kube.core,
      ns,
      Array.from({ length: 24 }, (_, i) => offline(`batch-${i}`, queue, `batch-${i}`, '8')),
    );
    const filled = await allBound(kube.core, ns, 24);
    expect(Object.values(count(filled.map(nodeOf)))).toEqual([4, 4, 4, 4, 4, 4]);

    // one more has nowhere to go, and says why
    await create(kube.core, ns, [offline('late', queue, 'late', '8')]);
    expect(await waitUnschedulable(kube.core, ns, 'late')).toMatch(/no node has that much room/);

    // online needs campus-a back: offline pods there are evicted for it
    await create(kube.core, ns, [
      online('surge-0', 'campus-a', '8', 'surge'),
      online('surge-1', 'campus-a', '8', 'surge'),
      online('surge-2', 'campus-a', '8', 'surge'),
    ]);
    const surge = await allBound(kube.core, ns, 3, 'yard.dev/imservice=surge');
    for (const p of surge) expect(nodeOf(p)).toMatch(/^campus-a-/);
    const preempted = (await eventsIn(kc, ns)).filter((e) => e.reason === 'Preempted');
    expect(preempted.length).toBeGreaterThanOrEqual(3);
    for (const e of preempted) {
      expect(e.regarding.name).toMatch(/^batch-/);
      expect(e.note).toMatch(/needs 8 CPU.*evicting/);
    }
    const remaining = await podsOf(kube.core, ns, 'yard.dev/framework=offline');
    const victims = new Set(preempted.map((e) => e.regarding.name));
    for (const v of victims) expect(remaining.map((p) => p.metadata?.name)).not.toContain(v);
    const metrics = await s.scheduler.metrics.registry.metrics();
    expect(metrics).toMatch(/yard_evictions_total\{reason="preemption"\} [3-9]/);
    expect(metrics).toMatch(/scheduler_preemption_attempts_total [1-9]/);
    // the late offline pod still waits: online took the room
    const late = await kube.core.readNamespacedPod({ namespace: ns, name: 'late' });
    expect(late.spec?.nodeName).toBeUndefined();
  });

  it('says why a pod can never fit, in an Event and its PodScheduled condition', async ({
    kube,
    ns,
  }) => {
    start();
    await create(kube.core, ns, [
      online('huge', 'campus-a', '64'),
      offline('orphan', 'no-such-queue', 'orphan', '1'),
    ]);
    expect(await waitUnschedulable(kube.core, ns, 'huge')).toBe(
      'needs 64 CPU, but the largest node in campus-a has 32 CPU',
    );
    expect(await waitUnschedulable(kube.core, ns, 'orphan')).toBe(
      'queue no-such-queue does not exist',
    );
    const events = await waitFor('NeverSchedulable events', async () => {
      const es = (await eventsIn(kubeConfig(), ns)).filter((e) => e.reason === 'NeverSchedulable');
      return es.length >= 2 ? done(es) : notYet(es);
    });
    expect(events.map((e) => [e.regarding.name, e.type, e.reportingController]).sort()).toEqual([
      ['huge', 'Warning', 'yard.dev/scheduler'],
      ['orphan', 'Warning', 'yard.dev/scheduler'],
    ]);
  });

  it('keeps new pods off a shielded campus, a cordoned node and a tainted node', async ({
    kube,
    ns,
  }) => {
    await quietNodes(kube.core, [ns]);
    const kc = kubeConfig();
    const rest = new RestClient(kc);
    cleanup.push(() => setShield(kc, 'campus-c', null));
    await setShield(kc, 'campus-c', 120);
    const cordon = (unschedulable: boolean) =>
      mergePatch(rest, kinds.Node, { name: 'campus-b-node-001' }, { spec: { unschedulable } });
    const taint = (on: boolean) =>
      mergePatch(
        rest,
        kinds.Node,
        { name: 'campus-a-node-002' },
        {
          spec: { taints: on ? [{ key: 'example.com/maintenance', effect: 'NoSchedule' }] : null },
        },
      );
    cleanup.push(() => cordon(false).then(() => undefined));
    cleanup.push(() => taint(false).then(() => undefined));
    await cordon(true);
    await taint(true);
    start();
    await create(kube.core, ns, [
      online('c-0', 'campus-c', '1'),
      ...Array.from({ length: 3 }, (_, i) => online(`b-${i}`, 'campus-b', '1')),
      ...Array.from({ length: 3 }, (_, i) => online(`a-${i}`, 'campus-a', '1')),
    ]);
    const placed = await allBound(kube.core, ns, 6);
    expect(count(placed.map(nodeOf))).toEqual({ 'campus-a-node-001': 3, 'campus-b-node-002': 3 });
    expect(await waitUnschedulable(kube.core, ns, 'c-0')).toBe(
      'campus-c is shielded: it takes no new pods until the shield lifts',
    );
    // the shield lifts: the pod goes in
    await setShield(kc, 'campus-c', null);
    const [c0] = await allBound(kube.core, ns, 1, 'app=c-0');
    expect(nodeOf(c0 ?? {})).toMatch(/^campus-c-/);
  });
});
