// The manager: probes, metrics, leader-gated controllers, graceful stop —
// in-process, and as a real process that receives SIGTERM and SIGKILL.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, inject } from 'vitest';
import { it } from '../e2e/harness/kube.ts';
import type { Clients } from '../e2e/harness/kube.ts';
import { done, notYet, waitFor } from '../e2e/harness/wait.ts';
import type { Lease } from './leader-election.ts';
import { nullLogger } from './logger.ts';
import { Manager } from './manager.ts';
import type { ManagerOptions } from './manager.ts';
import { kinds } from './resource.ts';
import type { ResourceType } from './resource.ts';
import { RestClient } from './rest.ts';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

function manager(kube: Clients, ns: string, over: Partial<ManagerOptions> = {}): Manager {
  return new Manager({
    kubeConfig: kube.kc,
    namespace: ns,
    probePort: 0,
    probeHost: '127.0.0.1',
    handleSignals: false,
    log: nullLogger,
    shutdownTimeoutMs: 5_000,
    leaderElection: {
      namespace: ns,
      name: 'yard-test',
      identity: 'in-process',
      leaseDurationMs: 3_000,
      renewDeadlineMs: 2_000,
      retryPeriodMs: 300,
    },
    ...over,
  });
}

async function get(m: Manager, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${m.port}${path}`, {
    signal: AbortSignal.timeout(5_000),
  });
  return { status: res.status, body: await res.text() };
}

it('serves /healthz, /readyz and /metrics, reconciles while leading, and releases the lease on stop', async ({
  kube,
  ns,
}) => {
  const m = manager(kube, ns);
  const reconciled = new Set<string>();
  m.add({
    name: 'seen',
    for: { type: kinds.ConfigMap },
    rbac: [],
    reconcile: ({ key }) => {
      reconciled.add(key);
      return Promise.resolve();
    },
  });
  const running = m.start();
  cleanup.push(async () => {
    await m.stop();
    await running;
  });
  await waitFor('ready', async () => {
    const r = await get(m, '/readyz');
    return r.status === 200 ? done(r) : notYet(r);
  });
  expect(await get(m, '/healthz')).toEqual({ status: 200, body: 'ok\n' });
  expect((await get(m, '/readyz?verbose')).body).toContain('[+]leader-election ok');
  await waitFor('a reconcile of the namespace’s ConfigMap', () =>
    reconciled.has(`${ns}/kube-root-ca.crt`) ? done(true) : notYet([...reconciled]),
  );

  const metrics = (await get(m, '/metrics')).body;
  for (const want of [
    'controller_runtime_reconcile_total{controller="seen",result="success"}',
    'controller_runtime_reconcile_errors_total{controller="seen"} 0',
    'controller_runtime_reconcile_time_seconds_bucket{le="0.005",controller="seen"}',
    'controller_runtime_max_concurrent_reconciles{controller="seen"} 1',
    'controller_runtime_active_workers{controller="seen"}',
    'workqueue_depth{name="seen"}',
    'workqueue_adds_total{name="seen"}',
    'workqueue_queue_duration_seconds_bucket{le="1e-8",name="seen"}',
    'workqueue_work_duration_seconds_count{name="seen"}',
    'workqueue_retries_total{name="seen"} 0',
    'workqueue_unfinished_work_seconds{name="seen"}',
    'workqueue_longest_running_processor_seconds{name="seen"}',
    'leader_election_master_status{name="yard-test"} 1',
    'process_cpu_seconds_total',
  ]) {
    expect(metrics).toContain(want);
  }

  await m.stop();
  await running;
  const lease = await new RestClient(kube.kc).get<Lease>(kinds.Lease, ns, 'yard-test');
  expect(lease.spec?.holderIdentity ?? '').toBe(''); // released
  await expect(fetch(`http://127.0.0.1:${m.port}/healthz`)).rejects.toThrow(); // server closed
});

it('is not ready while a cache cannot sync, and says which', async ({ kube, ns }) => {
  const nothing: ResourceType = {
    ...kinds.ConfigMap,
    group: 'runtime-test.yard.dev',
    resource: 'nothings',
    kind: 'Nothing',
  };
  const m = manager(kube, ns, {
    leaderElection: false,
    informers: { backoff: { baseMs: 50, maxMs: 200 } },
  });
  m.add({ name: 'never', for: { type: nothing }, rbac: [], reconcile: () => Promise.resolve() });
  const running = m.start();
  cleanup.push(async () => {
    await m.stop();
    await running;
  });
  await waitFor('the server', async () => done(await get(m, '/healthz')));
  const r = await get(m, '/readyz');
  expect(r.status).toBe(500);
  expect(r.body).toContain('[-]informers failed: not synced: nothings.v1.runtime-test.yard.dev');
  expect(m.controllers()[0]?.running).toBe(false); // controllers wait for their caches
});

// ---- as real processes -----------------------------------------------------

const script = fileURLToPath(new URL('../e2e/harness/manager-process.ts', import.meta.url));

interface Proc {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  readonly log: () => string;
}

function startProcess(ns: string, identity: string): Proc {
  const child = spawn(process.execPath, [script], {
    env: {
      ...process.env,
      KUBECONFIG: inject('kubeconfig'),
      NAMESPACE: ns,
      IDENTITY: identity,
      LEASE_MS: '3000',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  cleanup.push(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  return { child, exited, log: () => log };
}

async function lease(rest: RestClient, ns: string): Promise<Lease | undefined> {
  try {
    return await rest.get<Lease>(kinds.Lease, ns, 'yard-test');
  } catch {
    return undefined;
  }
}

async function holder(rest: RestClient, ns: string): Promise<string> {
  return (await lease(rest, ns))?.spec?.holderIdentity ?? '';
}

/** Waits until `proc` holds the lease. */
function leads(rest: RestClient, ns: string, proc: string, timeoutMs = 30_000): Promise<true> {
  return waitFor(
    `${proc} to lead`,
    async () => {
      const h = await holder(rest, ns);
      return h === proc ? done(true) : notYet(`the lease is held by ${h || 'nobody'}`);
    },
    { timeoutMs, intervalMs: 100 },
  );
}

/** Waits until `p` has started and competes for the lease. */
function standsBy(p: Proc, name: string): Promise<true> {
  return waitFor(
    `${name} to stand by`,
    () => (p.log().includes('waiting to lead') ? done(true) : notYet(p.log().slice(-500))),
    { timeoutMs: 30_000 },
  );
}

it('as a process: SIGTERM stops it gracefully (exit 0, lease released); after SIGKILL the standby takes over when the lease expires', async ({
  kube,
  ns,
}) => {
  const rest = new RestClient(kube.kc);
  const a = startProcess(ns, 'proc-a');
  await leads(rest, ns, 'proc-a');
  const b = startProcess(ns, 'proc-b');
  await standsBy(b, 'proc-b');

  a.child.kill('SIGTERM');
  expect(await a.exited).toBe(0);
  expect(a.log()).toContain('released the lease');
  await leads(rest, ns, 'proc-b', 10_000); // at once, not after the 3 s lease

  const c = startProcess(ns, 'proc-c');
  await standsBy(c, 'proc-c');
  b.child.kill('SIGKILL');
  await b.exited;
  const lastRenew = Date.parse((await lease(rest, ns))?.spec?.renewTime ?? '');
  await leads(rest, ns, 'proc-c', 20_000);
  // the lease (3 s) had to expire first: nobody took it from a leader that might still act
  // (the processes share this machine's clock, so the lease's own times compare)
  const acquired = Date.parse((await lease(rest, ns))?.spec?.acquireTime ?? '');
  expect(acquired - lastRenew).toBeGreaterThanOrEqual(3_000);
  c.child.kill('SIGTERM');
  expect(await c.exited).toBe(0);
});
