// The node agent against the local control plane: real processes for pods of
// the echo image on kwok's simulated nodes — addresses, status, Ready with
// readiness gates and probes, restarts, stops — and nothing left running
// afterwards (the blackhole has its own file, blackhole.int.test.ts). One agent, in-process, for the whole file.
import { existsSync, readFileSync } from 'node:fs';
import { CoreV1Api, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { statusCode } from '../../runtime/errors.ts';
import { deployment } from '../harness/builders.ts';
import { it, kubeConfig } from '../harness/kube.ts';
import { done, notYet, waitFor } from '../harness/wait.ts';
import { ensureYard } from '../harness/yard.ts';
import { startNodeAgent } from './agent.ts';
import type { NodeAgent } from './agent.ts';
import {
  alive,
  condition,
  echoPod,
  get,
  isReady,
  reach,
  setCondition,
  summary,
  testLog,
  waitForPod,
  whoIs,
} from './fixtures.ts';

let agent: NodeAgent;

beforeAll(async () => {
  await ensureYard(kubeConfig());
  agent = await startNodeAgent({
    kubeConfig: kubeConfig(),
    backoff: { baseMs: 500, maxMs: 2_000, resetAfterMs: 60_000 },
    ...testLog,
  });
});

afterAll(async () => {
  if (!agent) return;
  const pids = agent.pods().flatMap((p) => p.containers.flatMap((c) => c.pid ?? []));
  await agent.stop();
  expect(pids.filter(alive)).toEqual([]);
  expect(existsSync(agent.dir)).toBe(false);
});

const ipOf = (p: V1Pod): string => p.status?.podIP ?? '';
const running = (p: V1Pod): boolean => p.status?.phase === 'Running' && isReady(p);
const pidOf = (p: V1Pod): number =>
  Number(/^process:\/\/(\d+)$/.exec(p.status?.containerStatuses?.[0]?.containerID ?? '')?.[1]);

describe('node agent', () => {
  it('runs a Deployment of the echo image as processes on their pod addresses, and stops the ones scaled away', async ({
    kube,
    ns,
  }) => {
    await kube.apps.createNamespacedDeployment({
      namespace: ns,
      body: deployment('echo', 3, echoPod('echo')),
    });
    const pods = await waitFor('3 Running, Ready echo pods', async () => {
      const list = (await kube.core.listNamespacedPod({ namespace: ns })).items;
      const ok = list.filter(running);
      return ok.length === 3 ? done(ok) : notYet(list.map(summary));
    });
    expect(new Set(pods.map(ipOf)).size).toBe(3);
    for (const p of pods) {
      const node = await kube.core.readNode({ name: p.spec?.nodeName ?? '' });
      const prefix = (node.spec?.podCIDR ?? '').replace(/\.0\/24$/, '.');
      expect(ipOf(p).startsWith(prefix)).toBe(true);
      // from the top of the node's range: kwok takes the bottom
      expect(Number(ipOf(p).slice(prefix.length))).toBeGreaterThan(200);
      const me = await whoIs(ipOf(p));
      expect(me).toMatchObject({ pod: p.metadata?.name, pid: pidOf(p) });
      expect(p.status?.hostIP).toBe('127.0.0.1');
      expect(p.status?.containerStatuses?.[0]).toMatchObject({ ready: true, restartCount: 0 });
    }

    await kube.apps.patchNamespacedDeployment(
      { name: 'echo', namespace: ns, body: { spec: { replicas: 1 } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    const outcome = await waitFor(
      '2 of the 3 processes gone and their addresses refusing',
      async () => {
        const left = (await kube.core.listNamespacedPod({ namespace: ns })).items.map(ipOf);
        const gone = pods.filter((p) => !left.includes(ipOf(p)));
        const reaches = await Promise.all(gone.map((p) => reach(ipOf(p))));
        const stopped = gone.filter((p, i) => reaches[i] === 'refused' && !alive(pidOf(p)));
        return gone.length === 2 && stopped.length === 2 ? done(left) : notYet({ left, reaches });
      },
    );
    expect(outcome).toHaveLength(1);
    expect(await reach(outcome[0] ?? '')).toBe('answers');
  });

  it('makes Ready follow the yard.dev/serving readiness gate within a second or two', async ({
    kube,
    ns,
  }) => {
    const gate = 'yard.dev/serving';
    await kube.core.createNamespacedPod({ namespace: ns, body: echoPod('gated', { gate }) });
    const unset = await waitForPod(
      kube.core,
      ns,
      'gated',
      'running, not Ready while its gate is unset',
      (p) => p.status?.phase === 'Running' && condition(p, 'ContainersReady') === 'True',
    );
    expect(unset.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'False',
      reason: 'ReadinessGatesNotReady',
    });
    await setCondition(kube.core, ns, 'gated', gate, 'True');
    await waitForPod(kube.core, ns, 'gated', 'Ready once the gate opens', isReady, {
      timeoutMs: 2_000,
    });

    await setCondition(kube.core, ns, 'gated', gate, 'False');
    const closed = await waitForPod(
      kube.core,
      ns,
      'gated',
      'not Ready once the gate closes',
      (p) => !isReady(p),
      {
        timeoutMs: 2_000,
      },
    );
    expect(condition(closed, gate)).toBe('False'); // the agent's writes keep others' conditions
    expect(await reach(ipOf(closed))).toBe('answers'); // the gate is about traffic, not the process

    await setCondition(kube.core, ns, 'gated', gate, 'True');
    const open = await waitForPod(kube.core, ns, 'gated', 'Ready again', isReady, {
      timeoutMs: 2_000,
    });
    expect(condition(open, gate)).toBe('True');
  });

  it("makes Ready follow the process's own readiness check", async ({ kube, ns }) => {
    await kube.core.createNamespacedPod({ namespace: ns, body: echoPod('probed') });
    const p = await waitForPod(kube.core, ns, 'probed', 'Ready', running);
    await fetch(`http://${ipOf(p)}:8080/readyz?ready=false`, { method: 'POST' });
    const unready = await waitForPod(
      kube.core,
      ns,
      'probed',
      'not Ready after 3 failed checks',
      (x) => !isReady(x),
      {
        timeoutMs: 10_000,
      },
    );
    expect(unready.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({
      reason: 'ContainersNotReady',
      message: 'containers with unready status: [echo]',
    });
    await fetch(`http://${ipOf(p)}:8080/readyz?ready=true`, { method: 'POST' });
    await waitForPod(kube.core, ns, 'probed', 'Ready again', isReady, { timeoutMs: 5_000 });
  });

  it('restarts a killed process (restartPolicy Always) and counts it', async ({ kube, ns }) => {
    await kube.core.createNamespacedPod({ namespace: ns, body: echoPod('crashy') });
    let p = await waitForPod(kube.core, ns, 'crashy', 'Ready', running);
    const ip = ipOf(p);
    for (let n = 1; n <= 2; n++) {
      const before = await whoIs(ip);
      process.kill(before.pid, 'SIGKILL');
      p = await waitForPod(kube.core, ns, 'crashy', `restarted ${n} time(s) and Ready`, (x) => {
        const c = x.status?.containerStatuses?.[0];
        return c?.restartCount === n && running(x) && pidOf(x) !== before.pid;
      });
      expect(p.status?.containerStatuses?.[0]?.lastState?.terminated).toMatchObject({
        exitCode: 137,
        reason: 'Error',
      });
      expect(ipOf(p)).toBe(ip); // a restart keeps the pod's address
      expect((await whoIs(ip)).pid).toBe(pidOf(p));
    }
    const events = await waitFor('the Started and BackOff events', async () => {
      const list = await kube.core.listNamespacedEvent({
        namespace: ns,
        fieldSelector: 'involvedObject.name=crashy',
      });
      const reasons = list.items.map((e) => e.reason ?? '');
      const started = reasons.filter((r) => r === 'Started').length;
      return started >= 3 && reasons.includes('BackOff') ? done(reasons) : notYet(reasons);
    });
    expect(events).toContain('BackOff');
  });

  it('ends a pod per restartPolicy Never and OnFailure, with the exit code', async ({
    kube,
    ns,
  }) => {
    const create = (body: V1Pod) => kube.core.createNamespacedPod({ namespace: ns, body });
    await create(echoPod('killed', { restartPolicy: 'Never' }));
    await create(
      echoPod('finishes', { restartPolicy: 'Never', args: ['--exit-after-ms', '1500'] }),
    );
    await create(echoPod('retries', { restartPolicy: 'OnFailure' }));

    const killed = await waitForPod(kube.core, ns, 'killed', 'Ready', running);
    process.kill(pidOf(killed), 'SIGKILL');
    const failed = await waitForPod(
      kube.core,
      ns,
      'killed',
      'Failed',
      (p) => p.status?.phase === 'Failed',
    );
    expect(failed.status?.containerStatuses?.[0]).toMatchObject({
      restartCount: 0,
      ready: false,
      state: { terminated: { exitCode: 137, reason: 'Error' } },
    });
    expect(condition(failed, 'Ready')).toBe('False');

    const ok = await waitForPod(
      kube.core,
      ns,
      'finishes',
      'Succeeded',
      (p) => p.status?.phase === 'Succeeded',
    );
    expect(ok.status?.containerStatuses?.[0]?.state?.terminated).toMatchObject({
      exitCode: 0,
      reason: 'Completed',
    });
    expect(await reach(ipOf(ok))).toBe('refused');

    const retries = await waitForPod(kube.core, ns, 'retries', 'Ready', running);
    await fetch(`http://${ipOf(retries)}:8080/exit?code=3`, { method: 'POST' });
    await waitForPod(
      kube.core,
      ns,
      'retries',
      'restarted after exit 3',
      (p) => p.status?.containerStatuses?.[0]?.restartCount === 1 && running(p),
    );
    await fetch(`http://${ipOf(retries)}:8080/exit?code=0`, { method: 'POST' });
    const succeeded = await waitForPod(
      kube.core,
      ns,
      'retries',
      'Succeeded after exit 0',
      (p) => p.status?.phase === 'Succeeded',
    );
    expect(succeeded.status?.containerStatuses?.[0]).toMatchObject({
      restartCount: 1,
      state: { terminated: { exitCode: 0 } },
      lastState: { terminated: { exitCode: 3 } },
    });
  });

  it('stops the process when its pod is deleted', async ({ kube, ns }) => {
    await kube.core.createNamespacedPod({ namespace: ns, body: echoPod('doomed') });
    const p = await waitForPod(kube.core, ns, 'doomed', 'Ready', running);
    const pid = pidOf(p);
    expect(alive(pid)).toBe(true);
    await kube.core.deleteNamespacedPod({ name: 'doomed', namespace: ns });
    await waitFor('the process gone and its address refusing', async () => {
      const r = await reach(ipOf(p));
      return r === 'refused' && !alive(pid) ? done(true) : notYet({ reach: r, alive: alive(pid) });
    });
    expect(agent.pods().some((x) => x.name === 'doomed' && x.namespace === ns)).toBe(false);
  });

  it("gives the process the pod's env, YARD_LISTEN and its service account's credentials", async ({
    kube,
    ns,
  }) => {
    await kube.core.createNamespacedConfigMap({
      namespace: ns,
      body: { metadata: { name: 'settings' }, data: { level: 'debug' } },
    });
    const body = echoPod('env');
    const c = body.spec?.containers[0];
    if (c) {
      c.env = [
        { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
        { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
        { name: 'NS', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
        { name: 'LEVEL', valueFrom: { configMapKeyRef: { name: 'settings', key: 'level' } } },
        { name: 'URL', value: 'http://$(YARD_LISTEN)/' },
      ];
    }
    await kube.core.createNamespacedPod({ namespace: ns, body });
    const p = await waitForPod(kube.core, ns, 'env', 'Ready', running);
    const ip = ipOf(p);
    const env = (await (await get(ip, '/env')).json()) as Record<string, string>;
    expect(env).toMatchObject({
      POD_IP: ip,
      NODE: p.spec?.nodeName,
      NS: ns,
      LEVEL: 'debug',
      URL: `http://${ip}:8080/`,
      YARD_LISTEN: `${ip}:8080`,
      HOSTNAME: 'env',
    });
    // the agent's own settings do not leak into pods
    expect(Object.keys(env).filter((k) => k.startsWith('VITEST'))).toEqual([]);

    // authenticated as the pod's service account, which has no RBAC grants: 403, not 401
    const kc = new KubeConfig();
    kc.loadFromString(readFileSync(env['KUBECONFIG'] ?? '', 'utf8'));
    const err = await kc
      .makeApiClient(CoreV1Api)
      .listNamespacedPod({ namespace: ns })
      .catch((e: unknown) => e);
    expect(statusCode(err)).toBe(403);
    expect(String((err as Error).message)).toContain(`system:serviceaccount:${ns}:default`);
  });

  it('says why it cannot run a pod of an image it has no command for', async ({ kube, ns }) => {
    await kube.core.createNamespacedPod({
      namespace: ns,
      body: echoPod('unknown', { image: 'registry.local/yard/nope:1' }),
    });
    const p = await waitForPod(kube.core, ns, 'unknown', 'waiting with a reason', (x) =>
      Boolean(x.status?.containerStatuses?.[0]?.state?.waiting?.message),
    );
    expect(p.status?.phase).toBe('Pending');
    expect(p.status?.containerStatuses?.[0]?.state?.waiting).toMatchObject({
      reason: 'ErrImagePull',
      message: expect.stringContaining(
        'no command for image "registry.local/yard/nope:1"',
      ) as unknown,
    });
  });
});
