// The node agent as a process (main.ts): a campus blackhole set on the Campus
// and shown by its `status` command, a clean stop on SIGTERM, and its reaper
// when it is killed.
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { CoreV1Api, V1Pod } from '@kubernetes/client-node';
import { afterEach, beforeAll, describe, expect, inject } from 'vitest';
import { freePort } from '../control-plane/process.ts';
import { it, kubeConfig } from '../harness/kube.ts';
import { done, notYet, waitFor } from '../harness/wait.ts';
import { campusNames, ensureYard } from '../harness/yard.ts';
import type { BlackholeState } from './agent.ts';
import { blackholeMoved } from './control.ts';
import { alive, echoPod, isReady, reach, setBlackhole, waitForPod } from './fixtures.ts';
import type { PodReport } from './pod-run.ts';
import { label } from '../../crds/names.ts';

const run = promisify(execFile);
const main = join(import.meta.dirname, 'main.ts');
const campuses = ['campus-a', 'campus-b', 'campus-c'] as const;

interface AgentProcess {
  readonly child: ChildProcess;
  readonly control: string;
  readonly exited: Promise<number | null>;
  stderr(): string;
}

const kc = kubeConfig();
beforeAll(async () => {
  await ensureYard(kc);
});

const started: { child: ChildProcess; dir: string }[] = [];
afterEach(async () => {
  for (const c of campusNames) await setBlackhole(kc, c, null);
  for (const { child, dir } of started.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      child.kill('SIGKILL'); // its reaper ends what it ran
    }
    await rm(dir, { recursive: true, force: true });
  }
});

async function startAgent(): Promise<AgentProcess> {
  const dir = await mkdtemp(join(tmpdir(), 'yard-node-agent-test-'));
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      main,
      'run',
      '--kubeconfig',
      inject('kubeconfig'),
      '--dir',
      dir,
      '--control',
      `127.0.0.1:${port}`,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, YARD_REAPER_POLL_MS: '100' } },
  );
  started.push({ child, dir });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-20_000)));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const line = await new Promise<string>((resolve, reject) => {
    child.stdout?.once('data', (d: Buffer) => resolve(d.toString()));
    void exited.then((code) =>
      reject(new Error(`the agent exited (${code}) before it was up:\n${err}`)),
    );
  });
  const { control } = JSON.parse(line) as { control: string };
  expect(control).toBe(`http://127.0.0.1:${port}`);
  return { child, control, exited, stderr: () => err };
}

async function cli<T>(agent: AgentProcess, ...args: string[]): Promise<T> {
  const { stdout } = await run(process.execPath, [main, ...args, '--control', agent.control], {
    timeout: 15_000,
  });
  return JSON.parse(stdout) as T;
}

const ipOf = (p: V1Pod): string => p.status?.podIP ?? '';

/** One Ready echo pod per campus, by campus. */
async function podPerCampus(core: CoreV1Api, ns: string): Promise<Map<string, V1Pod>> {
  for (const c of campuses) {
    await core.createNamespacedPod({ namespace: ns, body: echoPod(`in-${c}`, { campus: c }) });
  }
  const out = new Map<string, V1Pod>();
  for (const c of campuses) {
    out.set(
      c,
      await waitForPod(
        core,
        ns,
        `in-${c}`,
        'Running and Ready',
        (p) => p.status?.phase === 'Running' && isReady(p),
      ),
    );
  }
  return out;
}

async function pidsOf(agent: AgentProcess): Promise<number[]> {
  const status = await cli<{ pods: PodReport[] }>(agent, 'status');
  return status.pods.flatMap((p) => p.containers.flatMap((c) => c.pid ?? []));
}

describe('the node agent process', () => {
  it('is what runs opted-in pods: kwok leaves them Pending without an agent', async ({
    kube,
    ns,
  }) => {
    const plain = echoPod('plain', { campus: 'campus-a' });
    delete plain.metadata?.labels?.['yard.dev/runtime'];
    await kube.core.createNamespacedPod({ namespace: ns, body: plain });
    await kube.core.createNamespacedPod({
      namespace: ns,
      body: echoPod('opted-in', { campus: 'campus-a' }),
    });
    // kwok makes the plain one Running at once; by then it has had every chance with the other
    await waitForPod(
      kube.core,
      ns,
      'plain',
      'Running (kwok)',
      (p) => p.status?.phase === 'Running',
    );
    await new Promise((r) => setTimeout(r, 1_000));
    const waiting = await kube.core.readNamespacedPod({ name: 'opted-in', namespace: ns });
    expect(waiting.spec?.nodeName).toBeTruthy();
    expect(waiting.status?.phase).toBe('Pending');
    expect(waiting.status?.podIP).toBeUndefined();

    await startAgent();
    const p = await waitForPod(kube.core, ns, 'opted-in', 'Running and Ready (agent)', (x) =>
      isReady(x),
    );
    expect(await reach(ipOf(p))).toBe('answers');
  });

  it('takes its pods over after a restart: same address, a new process, one more restart', async ({
    kube,
    ns,
  }) => {
    const first = await startAgent();
    await kube.core.createNamespacedPod({
      namespace: ns,
      body: echoPod('kept', { campus: 'campus-b' }),
    });
    const before = await waitForPod(kube.core, ns, 'kept', 'Ready', (p) => isReady(p));
    const oldPids = await pidsOf(first);
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(await reach(ipOf(before))).toBe('refused');

    await startAgent();
    const after = await waitForPod(
      kube.core,
      ns,
      'kept',
      'restarted once by the new agent, and Ready',
      (p) => p.status?.containerStatuses?.[0]?.restartCount === 1 && isReady(p),
    );
    expect(ipOf(after)).toBe(ipOf(before));
    expect(after.status?.startTime).toEqual(before.status?.startTime);
    expect(await reach(ipOf(after))).toBe('answers');
    expect(oldPids.filter(alive)).toEqual([]);
  });

  it('enforces a blackhole set on the Campus, shows it in its status, lifts it when the field goes, and leaves nothing running after SIGTERM', async ({
    kube,
    ns,
  }) => {
    const agent = await startAgent();
    const pods = await podPerCampus(kube.core, ns);
    const ip = (c: string): string => ipOf(pods.get(c) ?? {});

    await setBlackhole(kc, 'campus-b', 120);
    const inB = await kube.core.listNode({ labelSelector: `${label.zone}=campus-b` });
    const blackholed = await waitFor(
      'the agent to hold campus-b',
      async () => {
        const s = (await cli<{ blackholes: BlackholeState }>(agent, 'status')).blackholes;
        return s.nodes.length > 0 ? done(s) : notYet(s);
      },
      { timeoutMs: 5_000 },
    );
    expect(blackholed.campuses.map((c) => c.campus)).toEqual(['campus-b']);
    expect(blackholed.nodes).toEqual(inB.items.map((n) => n.metadata?.name).sort());
    const during = await Promise.all(campuses.map((c) => reach(ip(c))));
    expect(during).toEqual(['answers', 'times out', 'answers']);
    const status = await cli<{ pods: PodReport[] }>(agent, 'status');
    const frozen = status.pods.filter((p) => p.namespace === ns && p.frozen).map((p) => p.name);
    expect(frozen).toEqual(['in-campus-b']);

    await setBlackhole(kc, 'campus-b', null);
    await waitFor(
      'every campus to answer once the blackhole is deleted',
      async () => {
        const after = await Promise.all(campuses.map((c) => reach(ip(c), 500)));
        return after.every((r) => r === 'answers') ? done(after) : notYet(after);
      },
      { timeoutMs: 3_000 },
    );
    expect((await cli<{ blackholes: BlackholeState }>(agent, 'status')).blackholes.nodes).toEqual(
      [],
    );

    const pids = await pidsOf(agent);
    expect(pids.length).toBeGreaterThanOrEqual(3);
    agent.child.kill('SIGTERM');
    expect(await agent.exited).toBe(0);
    expect(pids.filter(alive)).toEqual([]);
    expect(await Promise.all(campuses.map((c) => reach(ip(c))))).toEqual([
      'refused',
      'refused',
      'refused',
    ]);
  });

  it('has its reaper kill what it ran, frozen processes too, when the agent is killed', async ({
    kube,
    ns,
  }) => {
    const agent = await startAgent();
    const pods = await podPerCampus(kube.core, ns);
    await setBlackhole(kc, 'campus-a', 120);
    await waitFor(
      'campus-a frozen',
      async () =>
        (await reach(ipOf(pods.get('campus-a') ?? {}))) === 'times out'
          ? done(true)
          : notYet('answers'),
      { timeoutMs: 5_000 },
    );
    const pids = await pidsOf(agent);
    expect(pids.length).toBeGreaterThanOrEqual(3);
    agent.child.kill('SIGKILL');
    await agent.exited;
    await waitFor(
      'every process of the killed agent to be gone',
      () => {
        const left = pids.filter(alive);
        return left.length === 0 ? done(true) : notYet({ alive: left });
      },
      { timeoutMs: 10_000 },
    );
  });

  it.each(['blackhole --campus campus-b', 'thaw'])(
    'says where a blackhole is set now when asked to `%s`',
    async (command) => {
      const err: { code?: number; stderr?: string } = await run(
        process.execPath,
        [main, ...command.split(' ')],
        { timeout: 15_000 },
      ).then(
        () => ({}),
        (e: unknown) => e as { code?: number; stderr?: string },
      );
      expect(err.code).toBe(2);
      expect(String(err.stderr)).toContain(blackholeMoved);
    },
  );
});
