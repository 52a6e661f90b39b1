// The campus controller against the real API server: nodes and CampusSafe
// (from the numbers Yard's scheduler publishes), campuses that select no
// nodes or another's, and the shield on, off, by expiry, and across operator
// restarts.
import type { CoreV1Api, V1Pod } from '@kubernetes/client-node';
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { afterEach, beforeAll, describe, expect } from 'vitest';
import { campusResource, yardKinds } from '../../crds/index.ts';
import type { Campus } from '../../crds/index.ts';
import { pod } from '../../e2e/harness/builders.ts';
import { runScheduler } from '../../e2e/harness/scheduler.ts';
import type { RunningScheduler } from '../../e2e/harness/scheduler.ts';
import { isNotFound, RestClient } from '../../runtime/index.ts';
import { it, kubeConfig } from '../../e2e/harness/kube.ts';
import { runOperator } from '../../e2e/harness/operator.ts';
import type { RunningOperator } from '../../e2e/harness/operator.ts';
import { campusNames, ensureYard, readCampus } from '../../e2e/harness/yard.ts';
import { done, notYet, waitFor } from '../../e2e/harness/wait.ts';
import { addCampusController } from './reconcile.ts';

const operators: RunningOperator[] = [];
function startOperator(): RunningOperator {
  const op = runOperator(kubeConfig(), (m) => addCampusController(m));
  operators.push(op);
  return op;
}
let sched: RunningScheduler | undefined;
async function stopAll(): Promise<void> {
  for (const op of operators.splice(0)) await op.stop();
  await sched?.stop();
  sched = undefined;
}

const api = () => kubeConfig().makeApiClient(CustomObjectsApi);
const group = {
  group: campusResource.group,
  version: campusResource.version,
  plural: campusResource.plural,
};

async function setShield(
  name: string,
  shield: { reason: string; until: string; by?: string } | null,
): Promise<void> {
  await api().patchClusterCustomObject(
    { ...group, name, body: { spec: { shield } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
}
const inSeconds = (s: number): string =>
  new Date(Date.now() + s * 1000).toISOString().replace(/\.\d+Z$/, 'Z');

async function campusNodes(core: CoreV1Api, campus: string) {
  return (await core.listNode({ labelSelector: `topology.kubernetes.io/zone=${campus}` })).items;
}
const tainted = (n: { spec?: { taints?: { key: string }[] } }): boolean =>
  n.spec?.taints?.some((t) => t.key === 'yard.dev/shielded') ?? false;
const condition = (p: V1Pod, type: string): string | undefined =>
  p.status?.conditions?.find((c) => c.type === type)?.status;

beforeAll(async () => {
  await ensureYard(kubeConfig());
});
afterEach(async () => {
  for (const c of campusNames) await setShield(c, null);
  await stopAll();
});

async function waitShieldApplied(core: CoreV1Api, campus: string, want: boolean): Promise<void> {
  await waitFor(
    `${campus} nodes ${want ? 'tainted' : 'untainted'} and status.shield.active=${want}`,
    async () => {
      const nodes = await campusNodes(core, campus);
      const c = await readCampus(kubeConfig(), campus);
      const ok =
        nodes.length > 0 &&
        nodes.every((n) => tainted(n) === want) &&
        (c.status?.shield?.active ?? false) === want;
      return ok
        ? done(true)
        : notYet({
            taints: nodes.map((n) => [n.metadata?.name, tainted(n)]),
            shield: c.status?.shield,
          });
    },
  );
}

describe('campus controller', () => {
  it('reports nodes, and CampusSafe from the scheduler’s published numbers', async () => {
    startOperator();
    sched = runScheduler(kubeConfig());
    for (const name of campusNames) {
      const c = await waitFor(`status of ${name}`, async () => {
        const got = await readCampus(kubeConfig(), name);
        const safe = got.status?.conditions?.find((x) => x.type === 'CampusSafe');
        return got.status?.nodes?.summary && safe?.status === 'True'
          ? done(got)
          : notYet(got.status);
      });
      expect(c.status?.nodes).toEqual({ ready: 2, total: 2, summary: '2/2' });
      // the scheduler's numbers, exact: 2/3 of 64 CPU is 42666m
      expect(c.status?.allocatable).toEqual({ cpu: '64', memory: '256Gi' });
      expect(c.status?.onlineCeiling?.cpu).toBe('42666m');
      expect(c.status?.onlineCeilingPercent).toBe('66.7');
      const safe = c.status?.conditions?.find((x) => x.type === 'CampusSafe');
      expect(safe?.message).toMatch(
        new RegExp(`^if ${name} is lost, its online load \\(.*\\) fits in`),
      );
      expect(c.status?.conditions?.find((x) => x.type === 'NodesSelected')).toMatchObject({
        status: 'True',
        message: `${name} selects 2 nodes`,
      });
      expect(c.status?.observedGeneration).toBe(c.metadata.generation);
      expect(c.metadata.finalizers).toContain('yard.dev/campus-shield');
    }
  });

  it('shields a campus: taints its nodes, stops its gated pods serving, keeps others; unshield restores', async ({
    kube,
    ns,
  }) => {
    startOperator();
    const mk = (name: string, campus: string) =>
      pod(name).campus(campus).readinessGate('yard.dev/serving').build();
    await kube.core.createNamespacedPod({ namespace: ns, body: mk('in-a', 'campus-a') });
    await kube.core.createNamespacedPod({ namespace: ns, body: mk('in-b', 'campus-b') });
    const read = (name: string) => kube.core.readNamespacedPod({ name, namespace: ns });
    await waitFor('both pods Ready', async () => {
      const ps = await Promise.all([read('in-a'), read('in-b')]);
      return ps.every((p) => condition(p, 'Ready') === 'True')
        ? done(true)
        : notYet(ps.map((p) => p.status?.conditions));
    });

    await setShield('campus-a', { reason: 'switch upgrade', until: inSeconds(300), by: 'test' });
    await waitShieldApplied(kube.core, 'campus-a', true);
    await waitFor('in-a not serving and not Ready, in-b unaffected', async () => {
      const [a, b] = await Promise.all([read('in-a'), read('in-b')]);
      const ok =
        condition(a, 'yard.dev/serving') === 'False' &&
        condition(a, 'Ready') === 'False' &&
        condition(b, 'yard.dev/serving') === 'True' &&
        condition(b, 'Ready') === 'True';
      return ok ? done(true) : notYet({ a: a.status?.conditions, b: b.status?.conditions });
    });
    expect((await campusNodes(kube.core, 'campus-b')).some(tainted)).toBe(false);
    const c = await readCampus(kubeConfig(), 'campus-a');
    expect(c.status?.shield).toMatchObject({ active: true, by: 'test', reason: 'switch upgrade' });
    expect(c.status?.conditions?.find((x) => x.type === 'Shielded')?.status).toBe('True');
    // no new placements on a shielded campus
    await kube.core.createNamespacedPod({
      namespace: ns,
      body: pod('late').campus('campus-a').build(),
    });
    await waitFor('the scheduler to refuse the shielded campus', async () => {
      const p = await read('late');
      const sched = p.status?.conditions?.find((x) => x.type === 'PodScheduled');
      return sched?.status === 'False' && /taint/.test(sched.message ?? '')
        ? done(true)
        : notYet(p.status?.conditions);
    });
    const events = await kube.core.listEventForAllNamespaces({
      fieldSelector: 'involvedObject.name=campus-a',
    });
    expect(events.items.some((e) => e.reason === 'CampusShielded')).toBe(true);

    await setShield('campus-a', null);
    await waitShieldApplied(kube.core, 'campus-a', false);
    await waitFor('in-a serving and Ready again, late bound', async () => {
      const [a, late] = await Promise.all([read('in-a'), read('late')]);
      const ok =
        condition(a, 'Ready') === 'True' &&
        condition(a, 'yard.dev/serving') === 'True' &&
        !!late.spec?.nodeName;
      return ok ? done(true) : notYet({ a: a.status?.conditions, late: late.spec?.nodeName });
    });
  });

  it('says CampusSafe is Unknown while no scheduler has published numbers', async () => {
    startOperator();
    const safe = await waitFor('CampusSafe of campus-a', async () => {
      const got = await readCampus(kubeConfig(), 'campus-a');
      const s = got.status?.conditions?.find((x) => x.type === 'CampusSafe');
      return s?.status === 'Unknown' || s?.status === 'True' ? done(s) : notYet(got.status);
    });
    // an earlier test's scheduler may have published: then its numbers are fresh (< 2 min)
    if (safe.status === 'Unknown')
      expect(safe.reason).toMatch(/^(SchedulerNotPublished|SchedulerStale)$/);
  });

  it('a campus that selects no nodes, or another campus’s nodes, says so and is never safe', async () => {
    const rest = new RestClient(kubeConfig());
    const mk = (name: string, zone: string): Campus => ({
      apiVersion: 'yard.dev/v1alpha1',
      kind: 'Campus',
      metadata: { name },
      spec: { nodeSelector: { 'topology.kubernetes.io/zone': zone } },
    });
    startOperator();
    await rest.create(yardKinds.Campus, mk('campus-x-empty', 'nowhere'));
    await rest.create(yardKinds.Campus, mk('campus-z-dup', 'campus-a'));
    try {
      const cond = (c: Campus, type: string) => c.status?.conditions?.find((x) => x.type === type);
      const [empty, dup, a] = await waitFor('NodesSelected on the three campuses', async () => {
        const got = await Promise.all(
          ['campus-x-empty', 'campus-z-dup', 'campus-a'].map((n) => readCampus(kubeConfig(), n)),
        );
        return got.every((c) => cond(c, 'NodesSelected')?.status) &&
          cond(got[2] as Campus, 'NodesSelected')?.reason === 'NodesAlsoSelectedElsewhere'
          ? done(got)
          : notYet(got.map((c) => cond(c, 'NodesSelected')));
      });
      expect(cond(empty as Campus, 'NodesSelected')).toMatchObject({
        status: 'False',
        reason: 'NoNodes',
      });
      expect(cond(empty as Campus, 'CampusSafe')).toMatchObject({
        status: 'False',
        reason: 'NoCapacity',
      });
      expect(cond(dup as Campus, 'NodesSelected')).toMatchObject({
        status: 'False',
        reason: 'NodesOfAnotherCampus',
      });
      expect(cond(dup as Campus, 'NodesSelected')?.message).toMatch(
        /campus-a-\S+, campus-a-\S+ \(campus-a\)/,
      );
      expect(cond(dup as Campus, 'CampusSafe')?.status).toBe('False');
      expect(cond(a as Campus, 'NodesSelected')?.message).toMatch(/\(campus-z-dup\)$/);
      expect((dup as Campus).status?.nodes).toMatchObject({ total: 2 });
    } finally {
      for (const n of ['campus-x-empty', 'campus-z-dup'])
        await rest.delete(yardKinds.Campus, undefined, n).catch((err: unknown) => {
          if (!isNotFound(err)) throw err;
        });
      await waitFor('the extra campuses gone', async () => {
        const left = (await rest.list<Campus>(yardKinds.Campus)).items.filter(
          (c) => !(campusNames as readonly string[]).includes(c.metadata.name ?? ''),
        );
        return left.length === 0 ? done(true) : notYet(left.map((c) => c.metadata.name));
      });
    }
  });

  it('lifts a shield by itself when `until` passes', async ({ kube }) => {
    startOperator();
    await setShield('campus-b', { reason: 'short drill', until: inSeconds(4), by: 'test' });
    await waitShieldApplied(kube.core, 'campus-b', true);
    await waitShieldApplied(kube.core, 'campus-b', false);
    const c = await readCampus(kubeConfig(), 'campus-b');
    expect(c.status?.conditions?.find((x) => x.type === 'Shielded')?.reason).toBe('ShieldExpired');
  });

  it('applies a shield set while the operator was down, and lifts one that expired while it was down', async ({
    kube,
  }) => {
    // set while down: the new operator applies it
    await setShield('campus-c', { reason: 'set while down', until: inSeconds(300), by: 'test' });
    const first = startOperator();
    await waitShieldApplied(kube.core, 'campus-c', true);
    await first.stop();

    // expires while down: the next operator lifts it
    await setShield('campus-c', { reason: 'expires while down', until: inSeconds(2), by: 'test' });
    await new Promise((r) => setTimeout(r, 2500));
    expect((await campusNodes(kube.core, 'campus-c')).every(tainted)).toBe(true);
    startOperator();
    await waitShieldApplied(kube.core, 'campus-c', false);
  });
});
