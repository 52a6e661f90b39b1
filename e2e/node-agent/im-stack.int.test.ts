// The IM backend as pods on simulated nodes, run for real by the node agent:
// a three-member etcd with one member per campus (im-etcd, fixed addresses by
// annotation), then storage, logic and access wired by pod address, and a
// user's message sent and synced through them — also while one campus, with
// its etcd member, is blackholed.
import { randomBytes } from 'node:crypto';
import type { CoreV1Api, V1EnvVar, V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { users, must, drain } from '../harness/im-users.ts';
import { pod } from '../harness/builders.ts';
import { it, kubeConfig } from '../harness/kube.ts';
import { done, notYet, waitFor } from '../harness/wait.ts';
import { ensureYard } from '../harness/yard.ts';
import { startNodeAgent } from './agent.ts';
import type { NodeAgent } from './agent.ts';
import { isReady, setBlackhole, testLog, waitForPod } from './fixtures.ts';
import { label } from '../../crds/names.ts';

const campuses = ['campus-a', 'campus-b', 'campus-c'] as const;
let agent: NodeAgent;

const kc = kubeConfig();
beforeAll(async () => {
  await ensureYard(kc);
  agent = await startNodeAgent({ kubeConfig: kc, ...testLog });
});
afterAll(async () => {
  await setBlackhole(kc, 'campus-c', null);
  await agent?.stop();
});

interface PodShape {
  readonly image: string;
  readonly env?: V1EnvVar[];
  readonly args?: string[];
  readonly ports?: { name: string; containerPort: number }[];
  readonly node?: string;
  readonly ip?: string;
  readonly campus?: string;
}

function imPod(name: string, s: PodShape): V1Pod {
  let b = pod(name).labels({ 'yard.dev/runtime': 'process' });
  if (s.campus) b = b.campus(s.campus);
  const p = b.build();
  if (!p.spec || !p.metadata) throw new Error('builder made no pod');
  if (s.ip) p.metadata.annotations = { 'yard.dev/pod-ip': s.ip };
  if (s.node) p.spec.nodeName = s.node;
  p.spec.terminationGracePeriodSeconds = 5;
  p.spec.containers = [
    {
      name: 'main',
      image: s.image,
      ports: s.ports ?? [{ name: 'http', containerPort: 8080 }],
      ...(s.env ? { env: s.env } : {}),
      ...(s.args ? { args: s.args } : {}),
    },
  ];
  return p;
}

const ready = (core: CoreV1Api, ns: string, name: string): Promise<V1Pod> =>
  waitForPod(
    core,
    ns,
    name,
    'Running and Ready',
    (p) => p.status?.phase === 'Running' && isReady(p),
    {
      timeoutMs: 45_000,
    },
  );

describe('the IM backend on the node agent', () => {
  it('serves a user over pods of im-etcd, im-storage, im-logic and im-access, also with a campus blackholed', async ({
    kube,
    ns,
  }) => {
    // one etcd member per campus, on the first node of each, at a fixed address
    const members = await Promise.all(
      campuses.map(async (campus) => {
        const nodes = await kube.core.listNode({ labelSelector: `${label.zone}=${campus}` });
        const node = nodes.items
          .map((n) => n)
          .sort((x, y) => (x.metadata?.name ?? '').localeCompare(y.metadata?.name ?? ''))[0];
        const ip = (node?.spec?.podCIDR ?? '').replace(/0\/24$/, '250');
        return { campus, name: `etcd-${campus.slice(-1)}`, node: node?.metadata?.name ?? '', ip };
      }),
    );
    const initialCluster = members.map((m) => `${m.name}=http://${m.ip}:2380`).join(',');
    for (const m of members) {
      await kube.core.createNamespacedPod({
        namespace: ns,
        body: imPod(m.name, {
          image: 'registry.local/yard/im-etcd:3.6',
          node: m.node,
          ip: m.ip,
          ports: [
            { name: 'client', containerPort: 2379 },
            { name: 'peer', containerPort: 2380 },
          ],
          args: [
            `--initial-cluster=${initialCluster}`,
            '--initial-cluster-state=new',
            `--initial-cluster-token=${ns}`,
            '--heartbeat-interval=50',
            '--election-timeout=500',
            '--unsafe-no-fsync',
          ],
        }),
      });
    }
    for (const m of members) expect((await ready(kube.core, ns, m.name)).status?.podIP).toBe(m.ip);

    await kube.core.createNamespacedSecret({
      namespace: ns,
      body: {
        metadata: { name: 'ticket' },
        stringData: { secret: randomBytes(24).toString('base64url') },
      },
    });
    const ticket: V1EnvVar = {
      name: 'YARD_TICKET_SECRET',
      valueFrom: { secretKeyRef: { name: 'ticket', key: 'secret' } },
    };
    const tier = async (name: string, image: string, env: V1EnvVar[]): Promise<string> => {
      await kube.core.createNamespacedPod({
        namespace: ns,
        body: imPod(name, { image, campus: 'campus-a', env: [ticket, ...env] }),
      });
      return `http://${(await ready(kube.core, ns, name)).status?.podIP ?? ''}:8080`;
    };
    const storage = await tier('storage', 'registry.local/yard/im-storage:1', [
      { name: 'YARD_ETCD_ENDPOINTS', value: members.map((m) => `http://${m.ip}:2379`).join(',') },
      { name: 'YARD_PASSWORD_COST', value: '1024' },
    ]);
    const logic = await tier('logic', 'registry.local/yard/im-logic:1', [
      { name: 'YARD_STORAGE', value: storage },
    ]);
    const access = await tier('access', 'registry.local/yard/im-access:1', [
      { name: 'YARD_LOGIC', value: logic },
    ]);

    const [alice, bob] = await users(access, ['alice', 'bob']);
    if (!alice || !bob) throw new Error('no users');
    must(await alice.send('bob', 'm1', 'hello'), 'send');
    const first = await drain(bob);
    expect(first.ids).toEqual(['alice/m1']);

    // campus-c holds one etcd member of three: writes go on without it
    await setBlackhole(kc, 'campus-c', 120);
    await waitFor(
      'the agent to hold campus-c',
      () =>
        agent.blackholes().campuses.some((c) => c.campus === 'campus-c')
          ? done(true)
          : notYet(agent.blackholes()),
      { timeoutMs: 5_000 },
    );
    must(await alice.send('bob', 'm2', 'still here'), 'send with campus-c blackholed');
    expect((await drain(bob, first.snapshot)).ids).toEqual(['alice/m2']);
  });
});
