// A campus shield moves capacity: while campus-a is shielded, the other
// campuses hold room for the online load it carried, and offline work there
// is revoked — evicted at once — to make that room; the load then lands
// without waiting on any further preemption.
import type { V1Pod } from '@kubernetes/client-node';
import { afterEach, beforeAll, expect } from 'vitest';
import { addCampusController } from '../../operator/campus/reconcile.ts';
import { pod } from '../../e2e/harness/builders.ts';
import { it, kubeConfig, uniqueName } from '../../e2e/harness/kube.ts';
import { runOperator } from '../../e2e/harness/operator.ts';
import { done, notYet, waitFor } from '../../e2e/harness/wait.ts';
import { ensureYard } from '../../e2e/harness/yard.ts';
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

const cleanup: (() => Promise<void>)[] = [];
beforeAll(async () => {
  await ensureYard(kubeConfig());
});
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

const online = (name: string, campus: string, cpu: string): V1Pod =>
  pod(name)
    .scheduler('yard')
    .campus(campus)
    .requests({ cpu, memory: '1Gi' })
    .labels({ 'yard.dev/imservice': `svc-${campus}`, 'yard.dev/business-priority': 'payment' })
    .build();

const offline = (name: string, queue: string): V1Pod =>
  pod(name)
    .scheduler('yard')
    .requests({ cpu: '8', memory: '1Gi' })
    .labels({
      'yard.dev/framework': 'offline',
      'yard.dev/queue': queue,
      'yard.dev/offline-job': name,
    })
    .build();

it('revokes offline work in the other campuses when a campus is shielded, and its load then fits', async ({
  kube,
  ns,
}) => {
  await quietNodes(kube.core, [ns]);
  const kc = kubeConfig();
  const queue = uniqueName('q-shield');
  await createQueue(kc, queue);
  cleanup.push(() => deleteQueue(kc, queue));
  const op = runOperator(kc, (m) => addCampusController(m));
  const sched = runScheduler(kc);
  cleanup.push(() => op.stop());
  cleanup.push(() => sched.stop());
  // lifted while the campus controller still runs: it must take its taint off the nodes
  cleanup.push(async () => {
    await setShield(kc, 'campus-a', null);
    await waitFor('campus-a’s nodes untainted', async () => {
      const nodes = (await kube.core.listNode()).items.filter((n) =>
        n.spec?.taints?.some((t) => t.key === 'yard.dev/shielded'),
      );
      return nodes.length === 0 ? done(true) : notYet(nodes.map((n) => n.metadata?.name));
    });
  });
  const create = (pods: V1Pod[]) =>
    Promise.all(pods.map((body) => kube.core.createNamespacedPod({ namespace: ns, body })));

  // campus-a carries 16 CPU of online load; offline fills every other CPU
  await create(Array.from({ length: 4 }, (_, i) => online(`a-${i}`, 'campus-a', '4')));
  await allBound(kube.core, ns, 4);
  await create(Array.from({ length: 22 }, (_, i) => offline(`batch-${i}`, queue)));
  const filled = await allBound(kube.core, ns, 22, 'yard.dev/framework=offline');
  const campusOf = (p: V1Pod) => (nodeOf(p) ?? '').replace(/-node-\d+$/, '');
  const before = new Map(filled.map((p) => [p.metadata?.name ?? '', campusOf(p)]));
  expect([...before.values()].filter((c) => c === 'campus-a')).toHaveLength(6);

  await setShield(kc, 'campus-a', 300);
  // the campus controller taints the shielded campus's nodes
  await waitFor('campus-a’s nodes tainted', async () => {
    const nodes = (
      await kube.core.listNode({ labelSelector: 'topology.kubernetes.io/zone=campus-a' })
    ).items;
    const tainted = nodes.filter((n) => n.spec?.taints?.some((t) => t.key === 'yard.dev/shielded'));
    return tainted.length === nodes.length ? done(true) : notYet(tainted.length);
  });
  // campus-b and -c each hold half of campus-a's 16 CPU: one 8-CPU offline pod apiece goes
  const revoked = await waitFor('revocations in campus-b and campus-c', async () => {
    const es = (await eventsIn(kc, ns)).filter((e) => e.reason === 'Preempted');
    return es.length >= 2 ? done(es) : notYet(es.map((e) => e.note));
  });
  expect(revoked).toHaveLength(2);
  expect(revoked.map((e) => before.get(e.regarding.name ?? '')).sort()).toEqual([
    'campus-b',
    'campus-c',
  ]);
  for (const e of revoked)
    expect(e.note).toMatch(
      /^campus-a is shielded: campus-[bc] holds 8 CPU, 2 GiB for its online load, so offline gives back 8 CPU: evicting 1 pod of job .* \(queue q-shield-/,
    );
  // offline work inside the shielded campus is left alone: it takes no new pods, it keeps its own
  const left = await podsOf(kube.core, ns, 'yard.dev/framework=offline');
  expect(left.filter((p) => campusOf(p) === 'campus-a')).toHaveLength(6);

  // the shielded campus's load moves (its pods go, their replacements come to
  // campus-b and -c): it lands in the held room, with no further eviction
  await Promise.all(
    [0, 1, 2, 3].map((i) =>
      kube.core.deleteNamespacedPod({ namespace: ns, name: `a-${i}`, gracePeriodSeconds: 0 }),
    ),
  );
  await waitFor('campus-a’s online pods gone', async () => {
    const pods = await podsOf(kube.core, ns, 'yard.dev/imservice=svc-campus-a');
    return pods.length === 0 ? done(true) : notYet(pods.map((p) => p.metadata?.name));
  });
  await create([online('moved-b', 'campus-b', '8'), online('moved-c', 'campus-c', '8')]);
  await allBound(kube.core, ns, 2, 'yard.dev/imservice in (svc-campus-b, svc-campus-c)');
  const after = (await eventsIn(kc, ns)).filter((e) => e.reason === 'Preempted');
  expect(after).toHaveLength(2);
  // and a new pod for the shielded campus waits, saying why
  await create([online('a-new', 'campus-a', '1')]);
  const msg = await waitFor('a-new refused', async () => {
    const p = await kube.core.readNamespacedPod({ namespace: ns, name: 'a-new' });
    const c = p.status?.conditions?.find((x) => x.type === 'PodScheduled');
    return c?.status === 'False' ? done(c.message) : notYet(p.status);
  });
  expect(msg).toBe('campus-a is shielded: it takes no new pods until the shield lifts');
});
