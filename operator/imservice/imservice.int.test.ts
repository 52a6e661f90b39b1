// The IMService controller against the real API server (pods placed by
// kube-scheduler here, since Yard's scheduler is another issue's).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  CustomObjectsApi,
  EventsV1Api,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import type { V1Deployment, V1Node } from '@kubernetes/client-node';
import { afterEach, beforeAll, describe, expect, inject } from 'vitest';
import { campusResource, imServiceResource } from '../../crds/index.ts';
import type { IMService } from '../../crds/index.ts';
import { findBinaries } from '../../e2e/control-plane/binaries.ts';
import { it, kubeConfig } from '../../e2e/harness/kube.ts';
import type { Clients } from '../../e2e/harness/kube.ts';
import { runOperator } from '../../e2e/harness/operator.ts';
import type { RunningOperator } from '../../e2e/harness/operator.ts';
import { done, notYet, waitFor } from '../../e2e/harness/wait.ts';
import { ensureYard } from '../../e2e/harness/yard.ts';
import { isNotFound } from '../../runtime/index.ts';
import { addIMServiceController } from './reconcile.ts';

const exec = promisify(execFile);
const ims = {
  group: imServiceResource.group,
  version: imServiceResource.version,
  plural: imServiceResource.plural,
};
const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

let op: RunningOperator | undefined;
beforeAll(async () => {
  await ensureYard(kubeConfig());
});
afterEach(async () => {
  await op?.stop();
  op = undefined;
});

function service(name: string, capacity: number, image = 'registry.local/yard/logic:1'): IMService {
  return {
    apiVersion: imServiceResource.apiVersion,
    kind: imServiceResource.kind,
    metadata: { name },
    spec: {
      tier: 'logic',
      businessPriority: 'message',
      capacity,
      schedulerName: 'default-scheduler',
      template: {
        spec: {
          containers: [{ name: 'logic', image, ports: [{ containerPort: 8080, name: 'http' }] }],
        },
      },
    },
  };
}

const api = (kube: Clients) => kube.kc.makeApiClient(CustomObjectsApi);
async function create(kube: Clients, ns: string, s: IMService): Promise<void> {
  await api(kube).createNamespacedCustomObject({ ...ims, namespace: ns, body: s });
}
async function patch(kube: Clients, ns: string, name: string, body: object): Promise<void> {
  await api(kube).patchNamespacedCustomObject({ ...ims, namespace: ns, name, body }, merge);
}
async function read(kube: Clients, ns: string, name: string): Promise<IMService> {
  return (await api(kube).getNamespacedCustomObject({ ...ims, namespace: ns, name })) as IMService;
}
async function deployments(kube: Clients, ns: string): Promise<V1Deployment[]> {
  return (
    await kube.apps.listNamespacedDeployment({ namespace: ns, labelSelector: 'yard.dev/imservice' })
  ).items;
}
/** The events the controller wrote about an IMService, as `Type Reason: note`. */
async function eventsOf(kube: Clients, ns: string, name: string): Promise<string[]> {
  const list = await kube.kc.makeApiClient(EventsV1Api).listNamespacedEvent({ namespace: ns });
  return list.items
    .filter((e) => e.regarding?.kind === 'IMService' && e.regarding.name === name)
    .map((e) => `${e.type} ${e.reason}: ${e.note}`);
}
const serviceExists = (kube: Clients, ns: string, name: string): Promise<boolean> =>
  kube.core.readNamespacedService({ name, namespace: ns }).then(
    () => true,
    (err: unknown) => {
      if (isNotFound(err)) return false;
      throw err;
    },
  );
const condition = (s: IMService, type: string) =>
  s.status?.conditions?.find((c) => c.type === type);

/** Simulated nodes (kwok) in a zone, as the local control plane makes them. */
function zoneNodes(zone: string, n: number): V1Node[] {
  return Array.from({ length: n }, (_, i) => ({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: `${zone}-node-${i + 1}`,
      labels: { 'topology.kubernetes.io/zone': zone, type: 'kwok' },
      annotations: { 'kwok.x-k8s.io/node': 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
    },
    spec: { podCIDR: `10.250.${i}.0/24`, podCIDRs: [`10.250.${i}.0/24`] },
    status: {
      allocatable: { cpu: '32', memory: '128Gi', pods: '110' },
      capacity: { cpu: '32', memory: '128Gi', pods: '110' },
    },
  }));
}

const replicasByCampus = (ds: V1Deployment[]): Record<string, number | undefined> =>
  Object.fromEntries(
    ds.map((d) => [d.metadata?.labels?.['yard.dev/campus'] ?? '', d.spec?.replicas] as const),
  );

async function waitAvailable(
  kube: Clients,
  ns: string,
  name: string,
  perCampus: number,
): Promise<IMService> {
  return waitFor(
    `${name} Available with ${perCampus} ready per campus`,
    async () => {
      const s = await read(kube, ns, name);
      const ok =
        s.status?.conditions?.find((c) => c.type === 'Available')?.status === 'True' &&
        s.status.observedGeneration === s.metadata.generation &&
        (s.status.campuses ?? []).length > 0 &&
        (s.status.campuses ?? []).every((c) => c.ready === perCampus && c.desired === perCampus);
      return ok ? done(s) : notYet(s.status);
    },
    { timeoutMs: 45_000 },
  );
}

describe('IMService controller', () => {
  it('runs ⌈capacity/(N−1)⌉ per campus, pinned, gated, prioritised; scales; kubectl wait works', async ({
    kube,
    ns,
  }) => {
    op = runOperator(kube.kc, (m) => addIMServiceController(m));
    await create(kube, ns, service('msg', 6));
    const s = await waitAvailable(kube, ns, 'msg', 3);
    expect(s.status?.replicas).toBe(9);
    expect(s.status?.conditions?.find((c) => c.type === 'CampusSafe')?.status).toBe('True');
    const ds = await deployments(kube, ns);
    expect(replicasByCampus(ds)).toEqual({ 'campus-a': 3, 'campus-b': 3, 'campus-c': 3 });
    const pods = (await kube.core.listNamespacedPod({ namespace: ns })).items;
    expect(pods).toHaveLength(9);
    for (const p of pods) {
      const node = await kube.core.readNode({ name: p.spec?.nodeName ?? '' });
      expect(node.metadata?.labels?.['topology.kubernetes.io/zone']).toBe(
        p.metadata?.labels?.['yard.dev/campus'],
      );
      expect(p.spec?.readinessGates).toEqual([{ conditionType: 'yard.dev/serving' }]);
      expect(p.spec?.priorityClassName).toBe('yard-message');
      expect(p.spec?.priority).toBe(90_000);
    }
    // the local control plane's pod CIDRs are loopback: a Service could never route there
    expect(await serviceExists(kube, ns, 'msg')).toBe(false);
    expect(condition(s, 'CampusesResolved')).toMatchObject({
      status: 'True',
      message: 'spread over 3 campuses (campus-a, campus-b, campus-c): ⌈6/2⌉ = 3 each',
    });
    // what the controller did, as events (written asynchronously)
    await waitFor('events of the Deployments and the Service created', async () => {
      const evs = await eventsOf(kube, ns, 'msg');
      const want = [
        'Normal CampusAdded: created Deployment msg-campus-a: 3 replicas in campus-a',
        'Normal CampusAdded: created Deployment msg-campus-b: 3 replicas in campus-b',
        'Normal CampusAdded: created Deployment msg-campus-c: 3 replicas in campus-c',
      ];
      return want.every((w) => evs.includes(w)) ? done(true) : notYet(evs);
    });

    const kubectl = (await findBinaries()).kubectl ?? 'kubectl';
    const { stdout } = await exec(
      kubectl,
      [
        '--kubeconfig',
        inject('kubeconfig'),
        '-n',
        ns,
        'wait',
        '--for=condition=Available',
        'imservice/msg',
        '--timeout=20s',
      ],
      { timeout: 30_000 },
    );
    expect(stdout).toContain('condition met');

    await patch(kube, ns, 'msg', { spec: { capacity: 4 } });
    await waitAvailable(kube, ns, 'msg', 2);
    expect(replicasByCampus(await deployments(kube, ns))).toEqual({
      'campus-a': 2,
      'campus-b': 2,
      'campus-c': 2,
    });
    await waitFor('an event per campus resized', async () => {
      const evs = await eventsOf(kube, ns, 'msg');
      const resized = evs.filter((e) =>
        /^Normal CampusResized: campus-[abc]: 3 → 2 replicas \(capacity 4 over 3 campuses\)$/.test(
          e,
        ),
      );
      return resized.length === 3 ? done(true) : notYet(evs);
    });

    // unchanged objects are not applied again, but a hand edit of ours is undone
    const b = (await deployments(kube, ns)).find(
      (d) => d.metadata?.labels?.['yard.dev/campus'] === 'campus-b',
    );
    await kube.apps.patchNamespacedDeployment(
      { name: b?.metadata?.name ?? '', namespace: ns, body: { spec: { replicas: 5 } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    await waitFor(
      'the operator restores the Deployment',
      async () => {
        const replicas = replicasByCampus(await deployments(kube, ns))['campus-b'];
        return replicas === 2 ? done(true) : notYet({ replicas });
      },
      { timeoutMs: 30_000 },
    );
  });

  it('rolls a template change out campus by campus, in order, each Available before the next', async ({
    kube,
    ns,
  }) => {
    op = runOperator(kube.kc, (m) => addIMServiceController(m));
    const s = service('roll', 3);
    s.spec.rollout = { campusOrder: ['campus-c', 'campus-a', 'campus-b'] };
    await create(kube, ns, s);
    await waitAvailable(kube, ns, 'roll', 2);
    const oldHash = (await deployments(kube, ns))[0]?.metadata?.annotations?.[
      'yard.dev/template-hash'
    ];

    await patch(kube, ns, 'roll', {
      spec: { template: service('x', 1, 'registry.local/yard/logic:2').spec.template },
    });
    // record the order in which campuses switch, and what the others looked like then
    const switched: string[] = [];
    const violations: string[] = [];
    await waitFor(
      'every campus on the new template',
      async () => {
        const ds = await deployments(kube, ns);
        for (const d of ds) {
          const campus = d.metadata?.labels?.['yard.dev/campus'] ?? '';
          const hash = d.metadata?.annotations?.['yard.dev/template-hash'];
          if (hash !== oldHash && !switched.includes(campus)) {
            // every campus switched before must have finished rolling out
            for (const prev of switched) {
              const p = ds.find((x) => x.metadata?.labels?.['yard.dev/campus'] === prev);
              if (
                (p?.status?.updatedReplicas ?? 0) < 2 ||
                (p?.status?.availableReplicas ?? 0) < 2
              ) {
                violations.push(`${campus} switched while ${prev} was not Available`);
              }
            }
            switched.push(campus);
          }
        }
        return switched.length === 3 ? done(true) : notYet(switched);
      },
      { timeoutMs: 60_000, intervalMs: 50 },
    );
    expect(switched).toEqual(['campus-c', 'campus-a', 'campus-b']);
    expect(violations).toEqual([]);
    await waitAvailable(kube, ns, 'roll', 2);
    // the status catches up with the last campus on a later reconcile
    await waitFor('the rollout to report Complete', async () => {
      const s = await read(kube, ns, 'roll');
      return s.status?.rollout?.phase === 'Complete' ? done(true) : notYet(s.status?.rollout);
    });
    const images = (await kube.core.listNamespacedPod({ namespace: ns })).items.map(
      (p) => p.spec?.containers[0]?.image,
    );
    await waitFor('only new pods', async () => {
      const imgs = (await kube.core.listNamespacedPod({ namespace: ns })).items.map(
        (p) => p.spec?.containers[0]?.image,
      );
      return imgs.every((i) => i === 'registry.local/yard/logic:2') ? done(true) : notYet(imgs);
    });
    expect(images.length).toBeGreaterThan(0);
  });

  it('waits at a campus until the image hook says the image is there', async ({ kube, ns }) => {
    let allow = new Set<string>();
    op = runOperator(kube.kc, (m) =>
      addIMServiceController(m, { imageReady: (_s, campus) => Promise.resolve(allow.has(campus)) }),
    );
    await create(kube, ns, service('img', 2));
    await waitAvailable(kube, ns, 'img', 1);
    await patch(kube, ns, 'img', {
      spec: { template: service('x', 1, 'registry.local/yard/logic:3').spec.template },
    });
    await waitFor('the rollout to wait for the image at campus-a', async () => {
      const s = await read(kube, ns, 'img');
      return s.status?.rollout?.phase === 'Distributing' &&
        s.status.rollout.currentCampus === 'campus-a'
        ? done(true)
        : notYet(s.status?.rollout);
    });
    allow = new Set(['campus-a', 'campus-b', 'campus-c']);
    await waitFor(
      'the rollout to finish once images are there',
      async () => {
        const s = await read(kube, ns, 'img');
        return s.status?.rollout?.phase === 'Complete' &&
          s.status.observedGeneration === s.metadata.generation
          ? done(true)
          : notYet(s.status?.rollout);
      },
      { timeoutMs: 60_000 },
    );
  });

  it('rebalances when a campus is added and removed, and deletion cleans everything', async ({
    kube,
    ns,
  }) => {
    op = runOperator(kube.kc, (m) => addIMServiceController(m));
    await create(kube, ns, service('bal', 6));
    await waitAvailable(kube, ns, 'bal', 3);
    const campuses = kube.kc.makeApiClient(CustomObjectsApi);
    const campusApi = {
      group: campusResource.group,
      version: campusResource.version,
      plural: campusResource.plural,
    };
    await campuses.createClusterCustomObject({
      ...campusApi,
      body: {
        apiVersion: campusResource.apiVersion,
        kind: campusResource.kind,
        metadata: { name: 'campus-d' },
        spec: {},
      },
    });
    const dNodes = zoneNodes('campus-d', 2);
    try {
      // a campus with no nodes of its own gets no pods and does not count in N
      const without = await waitFor('campus-d reported without nodes', async () => {
        const s = await read(kube, ns, 'bal');
        const c = condition(s, 'CampusesResolved');
        return c?.status === 'False' ? done(s) : notYet(s.status?.conditions);
      });
      expect(condition(without, 'CampusesResolved')).toMatchObject({
        reason: 'CampusWithoutNodes',
        message:
          'campus-d selects no nodes of its own, so it gets no pods and does not count; spread over 3 campuses (campus-a, campus-b, campus-c): ⌈6/2⌉ = 3 each',
      });
      expect(replicasByCampus(await deployments(kube, ns))).toEqual({
        'campus-a': 3,
        'campus-b': 3,
        'campus-c': 3,
      });
      await waitFor('a Warning event naming campus-d', async () => {
        const evs = await eventsOf(kube, ns, 'bal');
        return evs.some((e) =>
          e.startsWith('Warning CampusWithoutNodes: campus-d selects no nodes'),
        )
          ? done(true)
          : notYet(evs);
      });

      // nodes of its own: now it counts, and everyone shrinks to ⌈6/3⌉
      for (const body of dNodes) await kube.core.createNode({ body });
      await waitFor(
        'four campuses of 2',
        async () => {
          const r = replicasByCampus(await deployments(kube, ns));
          return Object.keys(r).length === 4 && Object.values(r).every((n) => n === 2)
            ? done(r)
            : notYet(r);
        },
        { timeoutMs: 45_000 },
      );
      await waitFor('CampusesResolved True over four campuses', async () => {
        const c = condition(await read(kube, ns, 'bal'), 'CampusesResolved');
        return c?.status === 'True' && c.message.includes('⌈6/3⌉ = 2') ? done(true) : notYet(c);
      });
    } finally {
      await campuses
        .deleteClusterCustomObject({ ...campusApi, name: 'campus-d' })
        .catch((err: unknown) => {
          if (!isNotFound(err)) throw err;
        });
    }
    try {
      await waitFor('back to three campuses of 3', async () => {
        const r = replicasByCampus(await deployments(kube, ns));
        return Object.keys(r).length === 3 && Object.values(r).every((n) => n === 3)
          ? done(r)
          : notYet(r);
      });
      await waitFor('the pods of campus-d gone', async () => {
        const left = (await kube.core.listNamespacedPod({ namespace: ns })).items.filter((p) =>
          p.spec?.nodeName?.startsWith('campus-d-'),
        ).length;
        return left === 0 ? done(true) : notYet(left);
      });
    } finally {
      // only now: pods left on a deleted node wait ~40 s for the pod garbage collector
      for (const n of dNodes)
        await kube.core.deleteNode({ name: n.metadata?.name ?? '' }).catch((err: unknown) => {
          if (!isNotFound(err)) throw err;
        });
    }

    await api(kube).deleteNamespacedCustomObject({ ...ims, namespace: ns, name: 'bal' });
    await waitFor(
      'Deployments, pods and the Service garbage-collected',
      async () => {
        const ds = (await deployments(kube, ns)).length;
        const pods = (await kube.core.listNamespacedPod({ namespace: ns })).items.length;
        const svc = await kube.core.readNamespacedService({ name: 'bal', namespace: ns }).then(
          () => 1,
          () => 0,
        );
        return ds + pods + svc === 0 ? done(true) : notYet({ ds, pods, svc });
      },
      { timeoutMs: 60_000 },
    );
  });

  it('names a campusOrder campus that does not exist', async ({ kube, ns }) => {
    op = runOperator(kube.kc, (m) => addIMServiceController(m));
    const s = service('ord', 2);
    s.spec.rollout = { campusOrder: ['campus-c', 'campus-x'] };
    await create(kube, ns, s);
    const got = await waitFor('the unknown campus reported', async () => {
      const r = await read(kube, ns, 'ord');
      const c = condition(r, 'CampusesResolved');
      return c?.status === 'False' ? done(r) : notYet(r.status?.conditions);
    });
    expect(condition(got, 'CampusesResolved')?.reason).toBe('UnknownCampus');
    expect(condition(got, 'CampusesResolved')?.message).toMatch(
      /^spec\.rollout\.campusOrder names "campus-x", which is not a Campus; spread over 3 campuses/,
    );
    // the rest of the service runs as if the name were not there
    await waitAvailable(kube, ns, 'ord', 1);
    await waitFor('a Warning event naming campus-x', async () => {
      const evs = await eventsOf(kube, ns, 'ord');
      return evs.some((e) => /^Warning UnknownCampus: .*"campus-x"/.test(e))
        ? done(true)
        : notYet(evs);
    });
    await patch(kube, ns, 'ord', { spec: { rollout: { campusOrder: ['campus-c'] } } });
    await waitFor('CampusesResolved True once the order names real campuses', async () => {
      const c = condition(await read(kube, ns, 'ord'), 'CampusesResolved');
      return c?.status === 'True' ? done(true) : notYet(c);
    });

    expect(await serviceExists(kube, ns, 'ord')).toBe(false);
  });
});
