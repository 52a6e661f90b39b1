// Each controller declares the RBAC it needs beside its mgr.add (and the
// runtime adds its informers', events' and lease's): run the campus
// controller as a ServiceAccount bound to exactly Manager.rbacRules(), through
// a shield on and off, and no request is refused; take one rule away and a
// 403 shows, logged as one line that names the refused request.
import type { V1Pod } from '@kubernetes/client-node';
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect } from 'vitest';
import { campusResource } from '../crds/index.ts';
import { pod } from '../e2e/harness/builders.ts';
import { it, kubeConfig } from '../e2e/harness/kube.ts';
import type { Clients } from '../e2e/harness/kube.ts';
import { runOperator } from '../e2e/harness/operator.ts';
import { forbiddenCount, identityWith } from '../e2e/harness/rbac.ts';
import { done, notYet, waitFor } from '../e2e/harness/wait.ts';
import { ensureYard, readCampus } from '../e2e/harness/yard.ts';
import { allows, jsonLogger, Manager, nullLogger } from '../runtime/index.ts';
import type { ManagerOptions, PolicyRule } from '../runtime/index.ts';
import { addCampusController } from './campus/reconcile.ts';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});
beforeAll(async () => {
  await ensureYard(kubeConfig());
});
// the refused controller leaves campus-a's status behind its spec: let a
// controller with every right catch up, so later files see a current status
afterAll(async () => {
  const op = runOperator(kubeConfig(), (m) => addCampusController(m));
  try {
    await waitFor(`${campus} status caught up with its spec`, async () => {
      const c = await readCampus(kubeConfig(), campus);
      return c.status?.observedGeneration === c.metadata.generation &&
        c.status?.shield?.active !== true
        ? done(true)
        : notYet({ generation: c.metadata.generation, status: c.status?.observedGeneration });
    });
  } finally {
    await op.stop();
  }
});

const campus = 'campus-a';
const inSeconds = (s: number): string =>
  new Date(Date.now() + s * 1000).toISOString().replace(/\.\d+Z$/, 'Z');

async function setShield(on: boolean): Promise<void> {
  await kubeConfig()
    .makeApiClient(CustomObjectsApi)
    .patchClusterCustomObject(
      {
        group: campusResource.group,
        version: campusResource.version,
        plural: campusResource.plural,
        name: campus,
        body: {
          spec: { shield: on ? { reason: 'rbac test', until: inSeconds(300), by: 'test' } : null },
        },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
}

const tainted = (n: { spec?: { taints?: { key: string }[] } }): boolean =>
  n.spec?.taints?.some((t) => t.key === 'yard.dev/shielded') ?? false;
const serving = (p: V1Pod): string | undefined =>
  p.status?.conditions?.find((c) => c.type === 'yard.dev/serving')?.status;

async function shieldSeen(kube: Clients, ns: string, on: boolean): Promise<void> {
  await waitFor(`${campus} shield ${on ? 'applied' : 'lifted'} by the controller`, async () => {
    const nodes = (
      await kube.core.listNode({ labelSelector: `topology.kubernetes.io/zone=${campus}` })
    ).items;
    const c = await readCampus(kubeConfig(), campus);
    const p = await kube.core.readNamespacedPod({ name: 'in-a', namespace: ns });
    const ok =
      nodes.length > 0 &&
      nodes.every((n) => tainted(n) === on) &&
      (c.status?.shield?.active ?? false) === on &&
      serving(p) === (on ? 'False' : 'True');
    return ok ? done(true) : notYet({ nodes: nodes.map(tainted), shield: c.status?.shield });
  });
}

/** The campus controller's process (leader election on, so the lease rules count too). */
function options(ns: string): Partial<ManagerOptions> {
  return {
    leaderElection: {
      namespace: ns,
      name: 'yard-rbac-test',
      leaseDurationMs: 3_000,
      renewDeadlineMs: 2_000,
      retryPeriodMs: 300,
    },
  };
}

/** The rules a campus-controller process declares: its own and the runtime's. */
function declaredRules(ns: string): PolicyRule[] {
  const m = new Manager({
    kubeConfig: kubeConfig(),
    probePort: false,
    handleSignals: false,
    log: nullLogger,
    ...options(ns),
  });
  addCampusController(m);
  return m.rbacRules();
}

describe('declared RBAC', () => {
  it('declares no wildcard and the calls the runtime makes for the campus controller', ({ ns }) => {
    const rules = declaredRules(ns);
    expect(JSON.stringify(rules)).not.toContain('*');
    expect(allows(rules, 'coordination.k8s.io', 'leases', 'update')).toBe(true);
    expect(allows(rules, 'events.k8s.io', 'events', 'create')).toBe(true);
    expect(allows(rules, '', 'nodes', 'watch')).toBe(true);
    expect(allows(rules, 'yard.dev', 'campuses/status', 'patch')).toBe(true);
  });

  it('is all the campus controller needs: a shield on and off as that ServiceAccount, no 403', async ({
    kube,
    ns,
  }) => {
    const id = await identityWith(kube.kc, ns, 'campus-controller', declaredRules(ns));
    cleanup.push(() => id.remove());
    const gated = pod('in-a').campus(campus).readinessGate('yard.dev/serving').build();
    await kube.core.createNamespacedPod({ namespace: ns, body: gated });
    const op = runOperator(id.kubeConfig, (m) => addCampusController(m), options(ns));
    cleanup.push(() => op.stop());
    cleanup.push(() => setShield(false));

    await setShield(true);
    await shieldSeen(kube, ns, true);
    await setShield(false);
    await shieldSeen(kube, ns, false);
    const text = await op.manager.metrics.registry.metrics();
    expect(forbiddenCount(text)).toBe(0);
    // it did talk to the API as that account: the counter is not just empty
    expect(text).toMatch(/^rest_client_requests_total\{code="200",method="PATCH"/m);
  });

  it('without one of its rules (patch nodes) the controller is refused, and says which request', async ({
    kube,
    ns,
  }) => {
    const rules = declaredRules(ns).filter(
      (r) => !(r.apiGroups.includes('') && r.resources.includes('nodes')),
    );
    // keep the informer's list and watch of nodes: only the taint patch goes
    rules.push({ apiGroups: [''], resources: ['nodes'], verbs: ['list', 'watch'] });
    const id = await identityWith(kube.kc, ns, 'campus-controller', rules);
    cleanup.push(() => id.remove());
    const lines: string[] = [];
    const log = jsonLogger({ write: (l) => void lines.push(l) });
    const op = runOperator(id.kubeConfig, (m) => addCampusController(m), { ...options(ns), log });
    cleanup.push(() => op.stop());
    cleanup.push(() => setShield(false));

    await setShield(true);
    await waitFor('a 403 in the rest client metrics', async () => {
      const n = forbiddenCount(await op.manager.metrics.registry.metrics());
      return n > 0 ? done(n) : notYet(n);
    });
    const refused = lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l['msg'] === 'reconcile failed; retrying with back-off');
    expect(refused).toMatchObject({ level: 'error', controller: 'campus', key: campus });
    expect(String(refused?.['error'])).toMatch(
      /^PATCH \/api\/v1\/nodes\/[^:]+: HTTP 403: nodes "[^"]+" is forbidden/,
    );
    expect(JSON.stringify(refused)).not.toMatch(/Headers|audit-id/i);
    const nodes = (
      await kube.core.listNode({ labelSelector: `topology.kubernetes.io/zone=${campus}` })
    ).items;
    expect(nodes.some(tainted)).toBe(false);
  });
});
