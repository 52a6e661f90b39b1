// The operator as a real process (operator/main.ts) against the local control
// plane: kill -9 at several points of a busy reconcile and in the middle of a
// campus-by-campus rollout, then restart — no duplicate objects, and it
// converges; two replicas on one Lease — the standby takes over within the
// lease after the leader is killed, and at once after a SIGTERM.
//
// Pods are placed by kube-scheduler (`schedulerName: default-scheduler`):
// Yard's own scheduler is another issue's.
import type { V1Deployment, V1Pod, V1Service } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, inject, onTestFailed } from 'vitest';
import { imServiceResource } from '../crds/index.ts';
import type { IMService } from '../crds/index.ts';
import { OperatorProcess } from '../e2e/bench/operator-process.ts';
import { parseMetrics, sum } from '../e2e/bench/prometheus.ts';
import { it, kubeConfig } from '../e2e/harness/kube.ts';
import { done, notYet, waitFor } from '../e2e/harness/wait.ts';
import type { Observation } from '../e2e/harness/wait.ts';
import { campusNames, ensureYard } from '../e2e/harness/yard.ts';
import { deploymentName } from './imservice/desired.ts';
import { yardKinds } from '../crds/index.ts';
import { Informer, kinds, mergePatch, RestClient } from '../runtime/index.ts';
import type { Lease } from '../runtime/index.ts';
import { label } from '../crds/names.ts';

const leaseMs = 3_000;
// operator/main.ts derives its retry period from the lease duration
const retryMs = Math.max(200, Math.round(leaseMs / 7.5));
const image = (v: number): string => `registry.local/yard/logic:${v}`;

const running: OperatorProcess[] = [];
const informers: Informer[] = [];
async function stopAll(): Promise<void> {
  await Promise.all([
    ...running.splice(0).map((p) => p.stop()),
    ...informers.splice(0).map((i) => i.stop()),
  ]);
}
afterEach(stopAll);
afterAll(stopAll);
beforeAll(async () => {
  await ensureYard(kubeConfig());
});

/** The operator process, scoped to the test's namespace, its Lease there too. */
function operator(
  ns: string,
  identity: string,
  leaseDuration = `${leaseMs / 1000}s`,
): OperatorProcess {
  const p = OperatorProcess.start({
    kubeconfig: inject('kubeconfig'),
    identity,
    leaseNamespace: ns,
    leaseDuration,
    namespace: ns,
  });
  running.push(p);
  // what it was doing is the first thing to read when a test fails
  onTestFailed(() =>
    console.error(`--- ${identity} (pid ${p.pid}) log tail ---\n${p.log.slice(-4000)}`),
  );
  return p;
}

/** capacity 2 over three campuses: one replica in each. */
function imservice(ns: string, name: string, version: number): IMService {
  return {
    apiVersion: imServiceResource.apiVersion,
    kind: imServiceResource.kind,
    metadata: { name, namespace: ns },
    spec: {
      tier: 'logic',
      businessPriority: 'message',
      capacity: 2,
      schedulerName: 'default-scheduler',
      template: { spec: { containers: [{ name: 'logic', image: image(version) }] } },
    },
  };
}

const names = (n: number): string[] =>
  Array.from({ length: n }, (_, i) => `svc-${String(i).padStart(2, '0')}`);

async function createAll(rest: RestClient, ns: string, services: readonly string[]) {
  await Promise.all(services.map((s) => rest.create(yardKinds.IMService, imservice(ns, s, 1))));
}

async function setImage(rest: RestClient, ns: string, services: readonly string[], v: number) {
  const template = imservice(ns, '', v).spec.template;
  await Promise.all(
    services.map((name) =>
      mergePatch(rest, yardKinds.IMService, { namespace: ns, name }, { spec: { template } }),
    ),
  );
}

/** A cache of the namespace's Deployments, kept by a watch: kill points need no polling of the API. */
async function watchDeployments(rest: RestClient, ns: string): Promise<Informer<V1Deployment>> {
  const inf = new Informer<V1Deployment>({ rest, type: kinds.Deployment, namespace: ns });
  informers.push(inf as unknown as Informer);
  inf.start();
  await waitFor('the Deployment cache', () => (inf.hasSynced() ? done(true) : notYet('syncing')));
  return inf;
}

/** SIGKILLs `p` as soon as `count()` reaches `atLeast`; returns the count it was killed at. */
async function killWhen(
  p: OperatorProcess,
  what: string,
  count: () => number,
  atLeast: number,
): Promise<number> {
  const seen = await waitFor(
    `${what} ≥ ${atLeast} to kill ${p.identity}`,
    () => {
      const n = count();
      return n >= atLeast ? done(n) : notYet(n);
    },
    { timeoutMs: 30_000, intervalMs: 5 },
  );
  p.kill('SIGKILL');
  const exit = await p.exited;
  expect(exit.signal, p.log.slice(-2000)).toBe('SIGKILL');
  return seen;
}

const rolledOut = (d: V1Deployment): boolean =>
  (d.status?.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0) &&
  (d.status?.updatedReplicas ?? 0) >= (d.spec?.replicas ?? 0) &&
  (d.status?.availableReplicas ?? 0) >= (d.spec?.replicas ?? 0);

/** Every replica on the current template (availability aside). */
const updated = (d: V1Deployment): boolean =>
  (d.status?.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0) &&
  (d.status?.updatedReplicas ?? 0) >= (d.spec?.replicas ?? 0);

const imageOf = (d: V1Deployment): string | undefined =>
  d.spec?.template.spec?.containers[0]?.image;
const podImage = (p: V1Pod): string | undefined => p.spec?.containers[0]?.image;

interface World {
  readonly services: IMService[];
  readonly deployments: V1Deployment[];
  readonly svcs: V1Service[];
  readonly pods: V1Pod[];
}

async function world(rest: RestClient, ns: string): Promise<World> {
  const [services, deployments, svcs, pods] = await Promise.all([
    rest.list<IMService>(yardKinds.IMService, { namespace: ns }),
    rest.list<V1Deployment>(kinds.Deployment, { namespace: ns }),
    rest.list<V1Service>(kinds.Service, { namespace: ns }),
    rest.list<V1Pod>(kinds.Pod, { namespace: ns }),
  ]);
  return {
    services: services.items,
    deployments: deployments.items,
    svcs: svcs.items,
    pods: pods.items,
  };
}

/**
 * Converged: every IMService Available at its current generation with its
 * rollout Complete and one ready, updated replica per campus; every
 * Deployment rolled out on `img`; one live pod per Deployment, all on `img`.
 */
function converged(w: World, services: readonly string[], img: string): Observation<World> {
  const lagging = w.services.filter((s) => {
    const st = s.status;
    if (!st) return true;
    return !(
      st.observedGeneration === s.metadata.generation &&
      st.conditions?.some((c) => c.type === 'Available' && c.status === 'True') &&
      st.rollout?.phase === 'Complete' &&
      st.campuses?.length === campusNames.length &&
      st.campuses.every((c) => c.desired === 1 && c.ready === 1 && c.updated === 1)
    );
  });
  const unsettled = w.deployments.filter(
    (d) => !rolledOut(d) || d.status?.replicas !== 1 || imageOf(d) !== img,
  );
  const stalePods = w.pods.filter((p) => podImage(p) !== img || p.metadata?.deletionTimestamp);
  const want = services.length * campusNames.length;
  const ok =
    w.services.length === services.length &&
    lagging.length === 0 &&
    w.deployments.length === want &&
    unsettled.length === 0 &&
    w.pods.length === want &&
    stalePods.length === 0;
  return ok
    ? done(w)
    : notYet({
        services: w.services.length,
        lagging: lagging.slice(0, 3).map((s) => ({ name: s.metadata.name, status: s.status })),
        deployments: w.deployments.length,
        unsettled: unsettled.map((d) => d.metadata?.name).slice(0, 10),
        pods: w.pods.length,
        stalePods: stalePods.length,
      });
}

function converge(rest: RestClient, ns: string, services: readonly string[], img: string) {
  return waitFor(
    `${services.length} IMServices converged on ${img}`,
    async () => converged(await world(rest, ns), services, img),
    { timeoutMs: 60_000, intervalMs: 500 },
  );
}

/**
 * No duplicates: exactly the Deployments `<service>-<campus>`, at most one
 * Service `<service>` each, each controlled by its IMService (this uid), and one
 * pod per Deployment.
 */
function expectNoDuplicates(w: World, services: readonly string[]): void {
  const uid = new Map(w.services.map((s) => [s.metadata.name ?? '', s.metadata.uid ?? '']));
  const want = services.flatMap((s) => campusNames.map((c) => deploymentName(s, c))).sort();
  expect(w.deployments.map((d) => d.metadata?.name).sort()).toEqual(want);
  // at most one Service per IMService: none where pod addresses are loopback
  // (the local control plane), where EndpointSlices could never hold them
  const svcNames = w.svcs.map((s) => s.metadata?.name ?? '');
  expect(new Set(svcNames).size).toBe(svcNames.length);
  for (const n of svcNames) expect(services).toContain(n);
  for (const o of [...w.deployments, ...w.svcs]) {
    const owner = o.metadata?.labels?.[label.imservice] ?? '';
    const controllers = (o.metadata?.ownerReferences ?? []).filter((r) => r.controller);
    expect(controllers, `${o.kind} ${o.metadata?.name}`).toEqual([
      expect.objectContaining({ kind: 'IMService', name: owner, uid: uid.get(owner) }),
    ]);
  }
  const perDeployment = new Map<string, number>();
  for (const p of w.pods) {
    const l = p.metadata?.labels ?? {};
    const d = deploymentName(l[label.imservice] ?? '?', l[label.campus] ?? '?');
    perDeployment.set(d, (perDeployment.get(d) ?? 0) + 1);
  }
  expect([...perDeployment].filter(([, n]) => n !== 1)).toEqual([]);
  expect([...perDeployment.keys()].sort()).toEqual(want);
}

async function lease(rest: RestClient, ns: string): Promise<Lease | undefined> {
  try {
    return await rest.get<Lease>(kinds.Lease, ns, 'yard-operator');
  } catch {
    return undefined;
  }
}

function leads(rest: RestClient, ns: string, identity: string, timeoutMs = 30_000): Promise<Lease> {
  return waitFor(
    `${identity} to hold the lease`,
    async () => {
      const l = await lease(rest, ns);
      return l?.spec?.holderIdentity === identity ? done(l) : notYet(l?.spec);
    },
    { timeoutMs, intervalMs: 50 },
  );
}

/** Started, caches synced, competing for the lease without holding it: /readyz is 200. */
async function standsBy(p: OperatorProcess): Promise<void> {
  await waitFor(
    `${p.identity} to stand by, ready`,
    async () => {
      if (!p.loggedAt('waiting to lead')) return notYet(p.log.slice(-500));
      const r = await p.get('/readyz?verbose');
      return r.status === 200 ? done(r.body) : notYet(r);
    },
    { timeoutMs: 30_000 },
  );
}

async function metric(p: OperatorProcess, name: string, l: Record<string, string> = {}) {
  return sum(parseMetrics(await p.metrics()), name, l);
}

function waitAvailable(rest: RestClient, ns: string, name: string): Promise<IMService> {
  return waitFor(
    `${name} Available`,
    async () => {
      const s = await rest.get<IMService>(yardKinds.IMService, ns, name);
      const ok =
        s.status !== undefined &&
        s.status.observedGeneration === s.metadata.generation &&
        s.status.conditions?.some((c) => c.type === 'Available' && c.status === 'True') &&
        s.status.availableReplicas === campusNames.length;
      return ok ? done(s) : notYet(s.status);
    },
    { timeoutMs: 45_000 },
  );
}

describe('the operator process', () => {
  it('killed with SIGKILL while creating 20 services and mid-rollout: after each restart no duplicates, and it converges', async ({
    kube,
    ns,
  }) => {
    const rest = new RestClient(kube.kc);
    const deployments = await watchDeployments(rest, ns);
    const services = names(20);
    const total = services.length * campusNames.length;
    // a restarted container keeps its pod's name, so it renews its own lease at once
    let op = operator(ns, 'op-a');
    await op.port();

    // 1. creation: kill at a third, two thirds and nearly all of the Deployments
    await createAll(rest, ns, services);
    const killedAt: number[] = [];
    for (const at of [Math.ceil(total / 3), Math.ceil((2 * total) / 3), total - 5]) {
      killedAt.push(await killWhen(op, 'Deployments', () => deployments.store.list().length, at));
      op = operator(ns, 'op-a');
    }
    // the first kill came before the round was done: the scenario really happened
    expect(killedAt[0]).toBeLessThan(total);
    const created = await converge(rest, ns, services, image(1));
    expectNoDuplicates(created, services);

    // 2. a template change rolls out campus by campus; kill in the first and second campus
    const onNew = (): number =>
      deployments.store.list().filter((d) => imageOf(d) === image(2)).length;
    // a campus takes the new template only when every campus of the service
    // that took it before has rolled out, kill or not. (Checked when the
    // template changes, with rollout progress rather than availability: on a
    // loaded machine kwok's nodes can flap NotReady, which makes pods of any
    // campus unavailable for a moment without anyone rolling anything.)
    const overlaps: string[] = [];
    const unhook = deployments.addHandler({
      onUpdate: (old, d) => {
        if (imageOf(old) === image(2) || imageOf(d) !== image(2)) return;
        const svc = d.metadata?.labels?.[label.imservice];
        const unfinished = deployments.store
          .list()
          .filter(
            (x) =>
              x.metadata?.labels?.[label.imservice] === svc &&
              x.metadata?.name !== d.metadata?.name &&
              imageOf(x) === image(2) &&
              !updated(x),
          );
        if (unfinished.length > 0)
          overlaps.push(
            `${d.metadata?.name} took the new template while ${unfinished.map((x) => x.metadata?.name).join(', ')} had not rolled out`,
          );
      },
    });
    await setImage(rest, ns, services, 2);
    for (const at of [Math.ceil(services.length / 2), services.length + 3]) {
      killedAt.push(await killWhen(op, 'Deployments on the new template', onNew, at));
      op = operator(ns, 'op-a');
    }
    const rolled = await converge(rest, ns, services, image(2));
    unhook();
    expectNoDuplicates(rolled, services);
    expect(overlaps).toEqual([]);
    expect(await metric(op, 'leader_election_master_status')).toBe(1);
    console.log(`[operator.int] killed at ${killedAt.join(', ')} (of ${total})`);
  });

  it('two replicas: one leads, the ready standby takes over within the lease after SIGKILL and keeps reconciling', async ({
    kube,
    ns,
  }) => {
    const rest = new RestClient(kube.kc);
    const a = operator(ns, 'op-a');
    await leads(rest, ns, 'op-a');
    const b = operator(ns, 'op-b');
    await standsBy(b);
    await rest.create(yardKinds.IMService, imservice(ns, 'before', 1));
    await waitAvailable(rest, ns, 'before');
    expect((await lease(rest, ns))?.spec?.holderIdentity).toBe('op-a');
    expect(await metric(a, 'leader_election_master_status')).toBe(1);
    expect(await metric(b, 'leader_election_master_status')).toBe(0);
    // the standby's caches are warm but its controllers do not run
    expect(await metric(b, 'controller_runtime_reconcile_total')).toBe(0);
    expect(
      await metric(a, 'controller_runtime_reconcile_total', { controller: 'imservice' }),
    ).toBeGreaterThan(0);

    a.kill('SIGKILL');
    await a.exited;
    const lastRenew = Date.parse((await lease(rest, ns))?.spec?.renewTime ?? '');
    const taken = await leads(rest, ns, 'op-b', 20_000);
    const acquired = Date.parse(taken.spec?.acquireTime ?? '');
    // never before the lease expired (the old leader might still act), and not
    // much after: the standby checks every retry period (with jitter), plus slack
    // for a loaded machine. One clock: both processes run here.
    expect(acquired - lastRenew).toBeGreaterThanOrEqual(leaseMs);
    expect(acquired - lastRenew).toBeLessThanOrEqual(leaseMs + 2 * retryMs + 2_000);
    expect(taken.spec?.leaseTransitions).toBeGreaterThanOrEqual(1);
    console.log(`[operator.int] taken over ${acquired - lastRenew} ms after the last renew`);

    await rest.create(yardKinds.IMService, imservice(ns, 'after', 1));
    await waitAvailable(rest, ns, 'after');
    expect(await metric(b, 'leader_election_master_status')).toBe(1);
    expect(
      await metric(b, 'controller_runtime_reconcile_total', { controller: 'imservice' }),
    ).toBeGreaterThan(0);
  });

  it('SIGTERM: the leader exits 0 and releases the lease, and the standby leads at once', async ({
    kube,
    ns,
  }) => {
    const rest = new RestClient(kube.kc);
    // a long lease, so that "at once" and "after it expired" are far apart
    const longLeaseMs = 10_000;
    const a = operator(ns, 'op-a', `${longLeaseMs / 1000}s`);
    await leads(rest, ns, 'op-a');
    const b = operator(ns, 'op-b', `${longLeaseMs / 1000}s`);
    await standsBy(b);

    a.kill('SIGTERM');
    const exit = await a.exited;
    expect(exit, a.log.slice(-2000)).toMatchObject({ code: 0, signal: null });
    expect(a.loggedAt('released the lease')).toBeDefined();
    // released: nobody holds it, or the standby has taken it already
    expect(['', 'op-b']).toContain((await lease(rest, ns))?.spec?.holderIdentity ?? '');
    const taken = await leads(rest, ns, 'op-b', longLeaseMs);
    // at its next retry, well inside the lease it would have waited out otherwise
    expect(Date.parse(taken.spec?.acquireTime ?? '') - exit.at).toBeLessThan(longLeaseMs / 2);
    await waitFor('op-b to report leading', async () => {
      const v = await metric(b, 'leader_election_master_status');
      return v === 1 ? done(v) : notYet(v);
    });
  });
});
