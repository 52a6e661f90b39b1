// Two scheduler processes under leader election; the leader is killed with
// SIGKILL in the middle of a burst. The standby takes over once the lease
// expires and binds the rest. No pod may be bound twice: the API would refuse
// the second binding (409), which the scheduler logs as "bind failed" and
// counts as an error; and every pod ends on a node of its campus with room.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { V1Pod } from '@kubernetes/client-node';
import { afterEach, beforeAll, expect, inject } from 'vitest';
import { pod } from '../../e2e/harness/builders.ts';
import { it, kubeConfig } from '../../e2e/harness/kube.ts';
import { done, notYet, waitFor } from '../../e2e/harness/wait.ts';
import { ensureYard } from '../../e2e/harness/yard.ts';
import { kinds, RestClient } from '../../runtime/index.ts';
import type { Lease } from '../../runtime/index.ts';
import { cpuByNode, nodeOf, podsOf, quietNodes } from '../../e2e/harness/scheduler.ts';

const main = fileURLToPath(new URL('../main.ts', import.meta.url));
const cleanup: (() => Promise<void>)[] = [];
beforeAll(async () => {
  await ensureYard(kubeConfig());
});
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

interface Proc {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  /** Its JSON log lines so far. */
  lines(): { msg?: string; level?: string; port?: number; [k: string]: unknown }[];
}

function startScheduler(ns: string, identity: string): Proc {
  const child = spawn(
    process.execPath,
    [
      main,
      `--kubeconfig=${inject('kubeconfig')}`,
      `--lease-namespace=${ns}`,
      '--lease-name=yard-scheduler',
      '--lease-duration=3s',
      `--identity=${identity}`,
      '--metrics-port=0',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  cleanup.push(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  return {
    child,
    exited,
    lines: () =>
      log
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as ReturnType<Proc['lines']>[number]),
  };
}

const logged = (p: Proc, msg: string) => p.lines().some((l) => l.msg === msg);

async function holder(rest: RestClient, ns: string): Promise<string> {
  try {
    return (await rest.get<Lease>(kinds.Lease, ns, 'yard-scheduler')).spec?.holderIdentity ?? '';
  } catch {
    return '';
  }
}

const campuses = ['campus-a', 'campus-b', 'campus-c'] as const;
const burst = (i: number): V1Pod =>
  pod(`p-${String(i).padStart(3, '0')}`)
    .scheduler('yard')
    .campus(campuses[i % 3] ?? 'campus-a')
    .requests({ cpu: '250m', memory: '256Mi' })
    .labels({ 'yard.dev/imservice': `svc-${i % 7}` })
    .build();

it('a standby takes over from a leader killed mid-burst, and no pod is bound twice', async ({
  kube,
  ns,
}) => {
  await quietNodes(kube.core, [ns]);
  const rest = new RestClient(kubeConfig());
  const a = startScheduler(ns, 'sched-a');
  await waitFor('sched-a to lead', async () =>
    (await holder(rest, ns)) === 'sched-a' && logged(a, 'caches synced; scheduling')
      ? done(true)
      : notYet(await holder(rest, ns)),
  );
  const b = startScheduler(ns, 'sched-b');
  await waitFor('sched-b to stand by', () =>
    logged(b, 'waiting to lead') ? done(true) : notYet(b.lines().slice(-3)),
  );

  // 400 pods, created 8 at a time while the leader binds them
  const total = 400;
  let next = 0;
  const creating = Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let i = next++; i < total; i = next++)
        await kube.core.createNamespacedPod({ namespace: ns, body: burst(i) });
    }),
  );
  const boundAtKill = await waitFor(
    'the leader to bind some',
    async () => {
      const n = (await podsOf(kube.core, ns)).filter((p) => nodeOf(p)).length;
      return n >= 60 ? done(n) : notYet(n);
    },
    { intervalMs: 50 },
  );
  a.child.kill('SIGKILL');
  await a.exited;
  const createdAtKill = next;
  await creating;
  expect(boundAtKill).toBeLessThan(total); // it died mid-burst

  const pods = await waitFor(
    `all ${total} pods bound`,
    async () => {
      const ps = await podsOf(kube.core, ns);
      const bound = ps.filter((p) => nodeOf(p));
      return bound.length === total ? done(ps) : notYet(`${bound.length} bound`);
    },
    { timeoutMs: 60_000, intervalMs: 250 },
  );
  expect(await holder(rest, ns)).toBe('sched-b');
  expect(logged(b, 'caches synced; scheduling')).toBe(true);
  // nobody's binding was refused: none was a second binding
  for (const p of [a, b]) expect(p.lines().filter((l) => l.msg === 'bind failed')).toEqual([]);
  // the standby did real work: it bound what the leader left and what came after
  const port = b.lines().find((l) => l.msg === 'serving /healthz, /readyz and /metrics')?.port;
  const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  expect(metrics).toContain('scheduler_schedule_attempts_total{result="error",profile="yard"} 0');
  const scheduled = Number(
    /scheduler_schedule_attempts_total\{result="scheduled",profile="yard"\} (\d+)/.exec(
      metrics,
    )?.[1],
  );
  expect(scheduled).toBeGreaterThanOrEqual(total - createdAtKill);
  expect(scheduled).toBeLessThanOrEqual(total - boundAtKill);
  // every pod on a node of its campus, and no node over its 32 CPU
  for (const p of pods) {
    const want =
      p.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution
        ?.nodeSelectorTerms[0]?.matchExpressions?.[0]?.values?.[0];
    expect(nodeOf(p)).toMatch(new RegExp(`^${want}-node-`));
  }
  for (const cpu of cpuByNode(pods).values()) expect(cpu).toBeLessThanOrEqual(32);
  b.child.kill('SIGTERM');
  expect(await b.exited).toBe(0);
});
