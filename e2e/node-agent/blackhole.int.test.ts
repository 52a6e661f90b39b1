// The campus blackhole as API state (Campus.spec.blackhole) against the local
// control plane: the node agent makes a campus's pods unreachable (a real
// HTTP request to them times out) while pods elsewhere answer, reports it on
// the pods (yard.dev/reachable=False and an Event, Ready untouched), and lifts
// it by itself at `until` with nothing touching the Campus again — also after
// the agent was restarted in the middle of it, and at once when the field is
// deleted.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CoreV1Api, V1Pod } from '@kubernetes/client-node';
import { afterEach, beforeAll, describe, expect } from 'vitest';
import { it, kubeConfig } from '../harness/kube.ts';
import { done, notYet, waitFor } from '../harness/wait.ts';
import { campusNames, ensureYard, readCampus } from '../harness/yard.ts';
import { startNodeAgent } from './agent.ts';
import type { NodeAgent } from './agent.ts';
import { reachableCondition } from './blackhole.ts';
import {
  condition,
  echoPod,
  isReady,
  reach,
  setBlackhole,
  setCondition,
  testLog,
  waitForPod,
} from './fixtures.ts';

const kc = kubeConfig();
const agents: NodeAgent[] = [];
const dirs: string[] = [];

async function agent(dir?: string): Promise<NodeAgent> {
  const a = await startNodeAgent({
    kubeConfig: kc,
    ...(dir ? { dir } : {}),
    blackholeRecheckMs: 1_000,
    ...testLog,
  });
  agents.push(a);
  return a;
}

beforeAll(async () => {
  await ensureYard(kc);
  for (const c of campusNames) await setBlackhole(kc, c, null);
});

afterEach(async () => {
  for (const c of campusNames) await setBlackhole(kc, c, null);
  await Promise.all(agents.splice(0).map((a) => a.stop()));
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

const ipOf = (p: V1Pod): string => p.status?.podIP ?? '';
const running = (p: V1Pod): boolean => p.status?.phase === 'Running' && isReady(p);

async function held(a: NodeAgent, node: string): Promise<void> {
  await waitFor(
    `the agent to hold node ${node}`,
    () => (a.blackholes().nodes.includes(node) ? done(true) : notYet(a.blackholes())),
    { timeoutMs: 5_000 },
  );
}

/** Waits for `ip` to answer, and says how long after `until` it first did. */
async function answersAfter(ip: string, until: Date, slackMs: number): Promise<number> {
  await waitFor(
    `${ip} to answer again after ${until.toISOString()}`,
    async () => ((await reach(ip, 500)) === 'answers' ? done(true) : notYet('not answering')),
    { timeoutMs: until.getTime() - Date.now() + slackMs, intervalMs: 100 },
  );
  return Date.now() - until.getTime();
}

async function eventReasons(core: CoreV1Api, ns: string, pod: string): Promise<string[]> {
  const list = await core.listNamespacedEvent({
    namespace: ns,
    fieldSelector: `involvedObject.name=${pod}`,
  });
  return list.items.map((e) => e.reason ?? '');
}

describe('a campus blackhole set in the API', () => {
  it('makes the campus unreachable, leaves other campuses alone, and lifts by itself at until', async ({
    kube,
    ns,
  }) => {
    const a = await agent();
    await kube.core.createNamespacedPod({
      namespace: ns,
      body: echoPod('held', { campus: 'campus-b', gate: 'g' }),
    });
    await kube.core.createNamespacedPod({
      namespace: ns,
      body: echoPod('free', { campus: 'campus-a' }),
    });
    await setCondition(kube.core, ns, 'held', 'g', 'True');
    const before = await waitForPod(kube.core, ns, 'held', 'Ready', running);
    const free = await waitForPod(kube.core, ns, 'free', 'Ready', running);

    const until = await setBlackhole(kc, 'campus-b', 8);
    if (!until) throw new Error('no until');
    await held(a, before.spec?.nodeName ?? '');
    expect(await reach(ipOf(before))).toBe('times out');
    expect(await reach(ipOf(free))).toBe('answers');
    expect(a.blackholes().campuses).toEqual([
      expect.objectContaining({ campus: 'campus-b', by: 'node-agent-test' }),
    ]);
    // shown in kubectl, without routing anything away: Ready stays True
    const marked = await waitForPod(
      kube.core,
      ns,
      'held',
      `${reachableCondition}=False`,
      (p) => condition(p, reachableCondition) === 'False',
      { timeoutMs: 5_000 },
    );
    expect(isReady(marked)).toBe(true);
    expect(marked.status?.conditions?.find((c) => c.type === reachableCondition)?.message).toBe(
      `campus campus-b is blackholed until ${until.toISOString().replace('.000', '')} by node-agent-test: node agent test`,
    );
    expect(
      condition(
        await kube.core.readNamespacedPod({ name: 'free', namespace: ns }),
        reachableCondition,
      ),
    ).toBeUndefined();
    // cut off like a partitioned kubelet: a closed gate is not reported while held
    await setCondition(kube.core, ns, 'held', 'g', 'False');

    const late = await answersAfter(ipOf(before), until, 5_000);
    console.log(`[blackhole] lifted ${late} ms after until (real HTTP answer)`);
    expect(late).toBeGreaterThanOrEqual(0);
    // nobody touched the Campus: its blackhole is still there, expired
    expect((await readCampus(kc, 'campus-b')).spec?.blackhole?.until).toBe(
      until.toISOString().replace('.000', ''),
    );
    const after = await waitForPod(
      kube.core,
      ns,
      'held',
      `${reachableCondition}=True, and not Ready (the gate closed meanwhile)`,
      (p) => condition(p, reachableCondition) === 'True' && !isReady(p),
      { timeoutMs: 5_000 },
    );
    // the same process, frozen and thawed
    expect(after.status?.containerStatuses?.[0]?.containerID).toBe(
      before.status?.containerStatuses?.[0]?.containerID,
    );
    const reasons = await eventReasons(kube.core, ns, 'held');
    expect(reasons.filter((r) => r === 'Blackholed')).toHaveLength(1);
    expect(reasons.filter((r) => r === 'BlackholeLifted')).toHaveLength(1);
    expect(a.blackholes()).toEqual({ campuses: [], nodes: [] });
  });

  it('holds across an agent restart in the middle of it, and still lifts on time', async ({
    kube,
    ns,
  }) => {
    const dir = await mkdtemp(join(tmpdir(), 'yard-node-agent-bh-'));
    dirs.push(dir);
    const first = await agent(dir);
    await kube.core.createNamespacedPod({
      namespace: ns,
      body: echoPod('held', { campus: 'campus-c' }),
    });
    await kube.core.createNamespacedPod({
      namespace: ns,
      body: echoPod('free', { campus: 'campus-a' }),
    });
    const pod = await waitForPod(kube.core, ns, 'held', 'Ready', running);
    const free = await waitForPod(kube.core, ns, 'free', 'Ready', running);
    const node = pod.spec?.nodeName ?? '';

    const until = await setBlackhole(kc, 'campus-c', 15);
    if (!until) throw new Error('no until');
    await held(first, node);
    expect(await reach(ipOf(pod))).toBe('times out');

    await first.stop();
    const second = await agent(dir);
    // restored from the API before its first pod starts
    expect(second.blackholes().nodes).toContain(node);
    await waitFor(
      'the pod elsewhere to answer through the new agent',
      async () => ((await reach(ipOf(free))) === 'answers' ? done(true) : notYet('no answer')),
      { timeoutMs: 10_000 },
    );
    expect(until.getTime() - Date.now()).toBeGreaterThan(2_000); // the block is checked while it holds
    expect(await reach(ipOf(pod))).not.toBe('answers');
    expect(second.pods().find((p) => p.namespace === ns && p.name === 'held')?.frozen).toBe(true);
    // the new agent finds yard.dev/reachable=False already there: no second Event
    expect(
      condition(
        await kube.core.readNamespacedPod({ name: 'held', namespace: ns }),
        reachableCondition,
      ),
    ).toBe('False');

    const late = await answersAfter(ipOf(pod), until, 10_000);
    console.log(`[blackhole] after a restart, lifted: answering ${late} ms after until`);
    await waitForPod(
      kube.core,
      ns,
      'held',
      `${reachableCondition}=True`,
      (p) => condition(p, reachableCondition) === 'True',
      { timeoutMs: 5_000 },
    );
    expect(
      (await eventReasons(kube.core, ns, 'held')).filter((r) => r === 'Blackholed'),
    ).toHaveLength(1);
  });

  it('lifts at once when the field is deleted', async ({ kube, ns }) => {
    const a = await agent();
    await kube.core.createNamespacedPod({
      namespace: ns,
      body: echoPod('held', { campus: 'campus-b' }),
    });
    const pod = await waitForPod(kube.core, ns, 'held', 'Ready', running);
    await setBlackhole(kc, 'campus-b', 300);
    await held(a, pod.spec?.nodeName ?? '');
    expect(await reach(ipOf(pod))).toBe('times out');
    const deleted = Date.now();
    await setBlackhole(kc, 'campus-b', null);
    await waitFor(
      'the pod to answer once the blackhole is deleted',
      async () => ((await reach(ipOf(pod), 500)) === 'answers' ? done(true) : notYet('no answer')),
      { timeoutMs: 3_000, intervalMs: 100 },
    );
    console.log(`[blackhole] deleted field: answering after ${Date.now() - deleted} ms`);
  });
});
