// Controllers built by the manager, over ConfigMaps in a test namespace,
// against the real API server: convergence, owned objects, no storm from our
// own status writes, and back-off on errors.
import { setTimeout as delay } from 'node:timers/promises';
import type { V1ConfigMap } from '@kubernetes/client-node';
import { afterEach, expect } from 'vitest';
import { it } from '../e2e/harness/kube.ts';
import type { Clients } from '../e2e/harness/kube.ts';
import { done, notYet, waitFor } from '../e2e/harness/wait.ts';
import { apply, mergePatch } from './apply.ts';
import type { Reconciler } from './controller.ts';
import { nullLogger } from './logger.ts';
import { Manager } from './manager.ts';
import type { KubeObject } from './object.ts';
import { withControllerReference } from './owner.ts';
import {
  anyOf,
  changed,
  defaultPrimaryPredicate,
  deletionTimestampChanged,
  finalizersChanged,
  generationChanged,
  labelsChanged,
} from './predicates.ts';
import type { Predicate } from './predicates.ts';
import { kinds } from './resource.ts';

type ConfigMap = KubeObject & { readonly data?: Record<string, string> };

const role = 'runtime-test.yard.dev/role';
const stopAll: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const s of stopAll.splice(0)) await s();
});

function manager(kube: Clients, ns: string): Manager {
  const m = new Manager({
    kubeConfig: kube.kc,
    namespace: ns,
    leaderElection: false,
    probePort: false,
    handleSignals: false,
    log: nullLogger,
    shutdownTimeoutMs: 5_000,
  });
  return m;
}

function run(m: Manager): void {
  const running = m.start();
  stopAll.push(async () => {
    await m.stop();
    await running;
  });
}

/**
 * The copier: keeps `<name>-copy` equal to each source ConfigMap's data,
 * owned by it, and writes a "status" on the source that changes on every
 * reconcile (the annotation counts reconciles) — the write that causes a
 * storm when the controller's filter lets it through.
 */
function copier(
  m: Manager,
  ns: string,
  predicates: readonly Predicate<ConfigMap>[],
): { count: () => number } {
  let count = 0;
  const sources = m.informers.informerFor<ConfigMap>(kinds.ConfigMap, {
    labelSelector: `${role}=source`,
  });
  const reconcile: Reconciler = async ({ key, namespace, name }) => {
    count++;
    const src = sources.store.get(key);
    if (!src) return; // deleted: the garbage collector removes the copy
    const copy: ConfigMap = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: `${name}-copy`, namespace: ns, labels: { [role]: 'copy' } },
      data: src.data ?? {},
    };
    await apply(m.rest, kinds.ConfigMap, withControllerReference(copy, src), {
      fieldManager: 'copier',
    });
    await mergePatch(
      m.rest,
      kinds.ConfigMap,
      { namespace, name },
      {
        metadata: { annotations: { 'runtime-test.yard.dev/reconciles': String(count) } },
      },
    );
  };
  m.add<ConfigMap>({
    name: `copier-${ns}`,
    for: { type: kinds.ConfigMap, scope: { labelSelector: `${role}=source` }, predicates },
    owns: [{ type: kinds.ConfigMap, scope: { labelSelector: `${role}=copy` } }],
    rbac: [],
    reconcile,
  });
  return { count: () => count };
}

/** ConfigMaps have no generation: their spec is `data`. Annotations (our status here) are left out. */
const sourceChanged: Predicate<ConfigMap> = anyOf<ConfigMap>(
  generationChanged,
  labelsChanged,
  changed('data', (o) => o.data),
  deletionTimestampChanged,
  finalizersChanged,
);

/** Waits until `count` stops moving for `quietMs`; returns its value. */
async function settled(count: () => number, quietMs = 1_500): Promise<number> {
  return waitFor(
    `the reconcile count to settle`,
    async () => {
      const before = count();
      await delay(quietMs);
      return count() === before ? done(before) : notYet(`still moving: ${before} → ${count()}`);
    },
    { timeoutMs: 30_000, intervalMs: 0 },
  );
}

async function readCopy(kube: Clients, ns: string, name: string): Promise<V1ConfigMap> {
  return kube.core.readNamespacedConfigMap({ namespace: ns, name: `${name}-copy` });
}

it('reconciles to the desired state, follows changes and owned objects, and does not storm on its own status writes', async ({
  kube,
  ns,
}) => {
  const m = manager(kube, ns);
  const c = copier(m, ns, [sourceChanged]);
  run(m);
  await kube.core.createNamespacedConfigMap({
    namespace: ns,
    body: { metadata: { name: 'src', labels: { [role]: 'source' } }, data: { v: '1' } },
  });
  const src = await kube.core.readNamespacedConfigMap({ namespace: ns, name: 'src' });
  await waitFor('the copy', async () => {
    const copy = await readCopy(kube, ns, 'src');
    return copy.data?.['v'] === '1' ? done(copy) : notYet(copy.data);
  });
  const copy = await readCopy(kube, ns, 'src');
  expect(copy.metadata?.ownerReferences).toEqual([
    expect.objectContaining({
      kind: 'ConfigMap',
      name: 'src',
      uid: src.metadata?.uid,
      controller: true,
      blockOwnerDeletion: true,
    }),
  ]);

  // every reconcile wrote a new annotation on its primary; none of them woke it again
  const afterCreate = await settled(c.count);
  expect(afterCreate).toBeLessThanOrEqual(4);

  // a change of the spec (data) is followed
  await mergePatch(m.rest, kinds.ConfigMap, { namespace: ns, name: 'src' }, { data: { v: '2' } });
  await waitFor('the copy to follow', async () => {
    const cp = await readCopy(kube, ns, 'src');
    return cp.data?.['v'] === '2' ? done(true) : notYet(cp.data);
  });
  expect((await settled(c.count)) - afterCreate).toBeLessThanOrEqual(4);

  // an owned object deleted by someone wakes its owner, which puts it back
  await kube.core.deleteNamespacedConfigMap({ namespace: ns, name: 'src-copy' });
  await waitFor('the copy to come back', async () => {
    const cp = await readCopy(kube, ns, 'src');
    return cp.data?.['v'] === '2' ? done(true) : notYet(cp.data);
  });
});

it('without the status filter, the same controller storms (what the filter prevents)', async ({
  kube,
  ns,
}) => {
  const m = manager(kube, ns);
  const c = copier(m, ns, [defaultPrimaryPredicate]); // annotations wake it
  run(m);
  await kube.core.createNamespacedConfigMap({
    namespace: ns,
    body: { metadata: { name: 'src', labels: { [role]: 'source' } }, data: { v: '1' } },
  });
  await waitFor('a storm of reconciles', () => (c.count() >= 20 ? done(true) : notYet(c.count())), {
    timeoutMs: 30_000,
  });
});

it('retries a failing reconcile with growing back-off, then succeeds', async ({ kube, ns }) => {
  const m = manager(kube, ns);
  const attempts: number[] = [];
  m.add<ConfigMap>({
    name: `flaky-${ns}`,
    for: { type: kinds.ConfigMap, scope: { labelSelector: `${role}=flaky` } },
    backoff: { baseMs: 200, maxMs: 5_000, jitter: 0 },
    rbac: [],
    reconcile: () => {
      attempts.push(performance.now());
      if (attempts.length <= 3)
        return Promise.reject(new Error(`not yet (attempt ${attempts.length})`));
      return Promise.resolve();
    },
  });
  run(m);
  await kube.core.createNamespacedConfigMap({
    namespace: ns,
    body: { metadata: { name: 'flaky', labels: { [role]: 'flaky' } } },
  });
  await waitFor('four attempts', () =>
    attempts.length >= 4 ? done(true) : notYet(attempts.length),
  );
  const gaps = attempts.slice(1).map((t, i) => t - (attempts[i] ?? 0));
  // lower bounds only: a busy machine may be later, never earlier
  expect(gaps[0]).toBeGreaterThanOrEqual(195);
  expect(gaps[1]).toBeGreaterThanOrEqual(395);
  expect(gaps[2]).toBeGreaterThanOrEqual(795);
  await delay(500);
  expect(attempts).toHaveLength(4); // succeeded: no more retries
  const metrics = await m.metrics.registry.metrics();
  expect(metrics).toContain(
    `controller_runtime_reconcile_errors_total{controller="flaky-${ns}"} 3`,
  );
  expect(metrics).toContain(
    `controller_runtime_reconcile_total{controller="flaky-${ns}",result="success"} 1`,
  );
  expect(metrics).toContain(`workqueue_retries_total{name="flaky-${ns}"} 3`);
});
