// The informer against the real API server, with the network broken on
// purpose between them (testing/fault-proxy.ts) and etcd history compacted
// on demand (testing/etcd.ts) for a real 410 Gone.
import { afterEach, expect, inject } from 'vitest';
import { readState } from '../e2e/control-plane/cluster.ts';
import { it } from '../e2e/harness/kube.ts';
import { done, notYet, waitFor } from '../e2e/harness/wait.ts';
import { Informer } from './informer.ts';
import type { KubeObject } from './object.ts';
import { kinds } from './resource.ts';
import type { ResourceType } from './resource.ts';
import { RestClient } from './rest.ts';
import { compactEtcd } from '../e2e/harness/etcd-compact.ts';
import { FaultProxy } from '../e2e/harness/fault-proxy.ts';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

type Seen = {
  readonly type: 'add' | 'update' | 'delete';
  readonly name: string;
  readonly relist?: boolean;
};

/** An informer with fast retries, recording what its handler is told. */
function informer(
  rest: RestClient,
  type: ResourceType,
  namespace: string,
  stallTimeoutMs = 60_000,
): { inf: Informer; seen: Seen[] } {
  const inf = new Informer({
    rest,
    type,
    namespace,
    stallTimeoutMs,
    backoff: { baseMs: 100, maxMs: 1_000 },
    listTimeoutMs: 10_000,
  });
  const seen: Seen[] = [];
  const name = (o: KubeObject): string => o.metadata?.name ?? '?';
  inf.addHandler({
    onAdd: (o) => seen.push({ type: 'add', name: name(o) }),
    onUpdate: (_old, o) => seen.push({ type: 'update', name: name(o) }),
    onDelete: (o, relist) => seen.push({ type: 'delete', name: name(o), relist }),
  });
  cleanup.push(() => inf.stop());
  inf.start();
  return { inf, seen };
}

async function proxy(rest: RestClient): Promise<FaultProxy> {
  const p = await FaultProxy.start(rest.server);
  cleanup.push(() => p.close());
  return p;
}

const cm = (namespace: string, name: string, data: Record<string, string> = {}) => ({
  metadata: { name, namespace },
  data,
});

it('syncs, then sees adds, updates and deletes in order', async ({ kube, ns }) => {
  await kube.core.createNamespacedConfigMap({ namespace: ns, body: cm(ns, 'before') });
  const { inf, seen } = informer(new RestClient(kube.kc), kinds.ConfigMap, ns);
  await inf.waitForSync({ timeoutMs: 20_000 });
  expect(inf.store.get(`${ns}/before`)).toBeDefined();
  expect(inf.store.get(`${ns}/before`)?.kind).toBe('ConfigMap'); // list items get their kind
  seen.length = 0;

  await kube.core.createNamespacedConfigMap({ namespace: ns, body: cm(ns, 'x', { v: '1' }) });
  await kube.core.replaceNamespacedConfigMap({
    name: 'x',
    namespace: ns,
    body: cm(ns, 'x', { v: '2' }),
  });
  await kube.core.deleteNamespacedConfigMap({ name: 'x', namespace: ns });
  await waitFor('add, update and delete of x', () =>
    seen.filter((s) => s.name === 'x').length >= 3 ? done(true) : notYet(seen),
  );
  expect(seen.filter((s) => s.name === 'x')).toEqual([
    { type: 'add', name: 'x' },
    { type: 'update', name: 'x' },
    { type: 'delete', name: 'x', relist: false },
  ]);
  expect(inf.store.get(`${ns}/x`)).toBeUndefined();
});

it('shares one handler list: a handler added after sync is told about every cached object', async ({
  kube,
  ns,
}) => {
  await kube.core.createNamespacedConfigMap({ namespace: ns, body: cm(ns, 'a') });
  const { inf } = informer(new RestClient(kube.kc), kinds.ConfigMap, ns);
  await inf.waitForSync({ timeoutMs: 20_000 });
  const late: string[] = [];
  inf.addHandler({ onAdd: (o, initial) => initial && late.push(o.metadata?.name ?? '') });
  expect(late).toContain('a');
});

it('watches again from the last resourceVersion when the connection drops, without relisting', async ({
  kube,
  ns,
}) => {
  const direct = new RestClient(kube.kc);
  const p = await proxy(direct);
  const { inf } = informer(new RestClient(p.kubeConfig(kube.kc)), kinds.ConfigMap, ns);
  await inf.waitForSync({ timeoutMs: 20_000 });
  await waitFor('the watch to be open', () =>
    inf.stats.watchesOpened >= 1 && p.connections > 0 ? done(true) : notYet(inf.stats),
  );

  p.breakAll();
  // written while the informer has no watch: it must come from the re-watch
  await kube.core.createNamespacedConfigMap({ namespace: ns, body: cm(ns, 'during-break') });

  await waitFor('the informer to see during-break', () =>
    inf.store.get(`${ns}/during-break`) ? done(true) : notYet(inf.stats),
  );
  const s = inf.stats;
  expect(s.lists).toBe(1); // resumed, not relisted
  expect(s.watchRestarts.error + s.watchRestarts.closed).toBeGreaterThanOrEqual(1);
});

it('restarts a watch that went silent (watchdog)', async ({ kube, ns }) => {
  const direct = new RestClient(kube.kc);
  const p = await proxy(direct);
  const { inf } = informer(new RestClient(p.kubeConfig(kube.kc)), kinds.ConfigMap, ns, 1_500);
  await inf.waitForSync({ timeoutMs: 20_000 });
  await waitFor('the watch to be open', () =>
    inf.stats.watchesOpened >= 1 && p.connections > 0 ? done(true) : notYet(inf.stats),
  );

  p.freezeAll(); // open but silent: no error will ever come
  await kube.core.createNamespacedConfigMap({ namespace: ns, body: cm(ns, 'during-stall') });

  await waitFor(
    'the informer to see during-stall',
    () => (inf.store.get(`${ns}/during-stall`) ? done(true) : notYet(inf.stats)),
    { timeoutMs: 30_000 },
  );
  expect(inf.stats.watchRestarts.stall).toBeGreaterThanOrEqual(1);
  expect(inf.stats.lists).toBe(1);
});

it.skipIf(!inject('ownCluster'))(
  'after an API server outage during which history was compacted: 410 Gone, relist, and the missed delete is reported',
  async ({ kube, ns }) => {
    const direct = new RestClient(kube.kc);
    const state = await readState(inject('clusterDir'));
    const etcd = `http://127.0.0.1:${state?.ports['etcd']}`;
    const event = (name: string) => ({
      metadata: { name, namespace: ns },
      involvedObject: { kind: 'ConfigMap', name: 'x', namespace: ns },
      reason: 'Test',
      message: name,
      type: 'Normal',
    });
    // core/v1 Events are not watch-cached: a watch from an old
    // resourceVersion goes to etcd, which answers 410 after a compaction
    await direct.create(kinds.CoreEvent, event('keep'));
    await direct.create(kinds.CoreEvent, event('remove'));
    const p = await proxy(direct);
    const { inf, seen } = informer(new RestClient(p.kubeConfig(kube.kc)), kinds.CoreEvent, ns);
    await inf.waitForSync({ timeoutMs: 20_000 });
    expect(inf.store.keys().sort()).toEqual([`${ns}/keep`, `${ns}/remove`]);
    seen.length = 0;

    await p.down(); // the informer loses its watch and cannot reconnect
    await direct.delete(kinds.CoreEvent, ns, 'remove');
    await direct.create(kinds.CoreEvent, event('added'));
    await compactEtcd(etcd); // the informer's resourceVersion is now history
    await p.up();

    await waitFor(
      'the cache to match the API again',
      () => {
        const keys = inf.store.keys().sort();
        return keys.join() === `${ns}/added,${ns}/keep`
          ? done(keys)
          : notYet({ keys, stats: inf.stats });
      },
      { timeoutMs: 30_000 },
    );
    expect(inf.stats.relistsAfterGone).toBeGreaterThanOrEqual(1);
    expect(inf.stats.lists).toBeGreaterThanOrEqual(2);
    expect(seen).toContainEqual({ type: 'delete', name: 'remove', relist: true });
    expect(seen).toContainEqual({ type: 'add', name: 'added' });
    expect(seen.filter((s) => s.name === 'keep')).toEqual([]); // unchanged: not reported
  },
);

it('keeps retrying a list the API refuses, and does not claim to have synced', async ({
  kube,
  ns,
}) => {
  // a watch of a resource that does not exist yet fails with 404 until it does
  const missing = {
    ...kinds.ConfigMap,
    group: 'runtime-test.yard.dev',
    resource: 'nothings',
    kind: 'Nothing',
  };
  const inf = new Informer({
    rest: new RestClient(kube.kc),
    type: missing,
    namespace: ns,
    backoff: { baseMs: 50, maxMs: 200 },
  });
  cleanup.push(() => inf.stop());
  inf.start();
  await expect(inf.waitForSync({ timeoutMs: 1_000 })).rejects.toThrow(/did not sync/);
  expect(inf.hasSynced()).toBe(false);
  expect(String(inf.stats.lastError)).toMatch(/404/);
});
