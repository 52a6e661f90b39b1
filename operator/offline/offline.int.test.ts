// The OfflineJob and OfflineQueue controllers with Yard's scheduler, against
// the local control plane: a job fills the cluster, loses pods to an online
// surge, replaces them and completes (kwok finishes each pod after the run
// time it declares); a job in a missing queue says so; a queue's use, fair
// share and pending demand, and a job's admitted share, are the scheduler's
// published numbers — checked against what the pods really request.
import type { V1Pod } from '@kubernetes/client-node';
import { afterEach, beforeAll, describe, expect } from 'vitest';
import type { OfflineJob, OfflineQueue } from '../../crds/index.ts';
import { pod } from '../../e2e/harness/builders.ts';
import { it, kubeConfig, uniqueName } from '../../e2e/harness/kube.ts';
import type { Clients } from '../../e2e/harness/kube.ts';
import { runOperator } from '../../e2e/harness/operator.ts';
import type { RunningOperator } from '../../e2e/harness/operator.ts';
import { done, notYet, waitFor } from '../../e2e/harness/wait.ts';
import { ensureYard } from '../../e2e/harness/yard.ts';
import {
  allBound,
  createQueue,
  deleteQueue,
  eventsIn,
  podsOf,
  quietNodes,
  runScheduler,
} from '../../e2e/harness/scheduler.ts';
import type { RunningScheduler } from '../../e2e/harness/scheduler.ts';
import { yardKinds } from '../../crds/index.ts';
import { kinds, mergePatch, RestClient } from '../../runtime/index.ts';
import { cpuQuantity, memoryQuantity, podRequests } from '../../runtime/quantity.ts';
import { addOfflineJobController, addOfflineQueueController } from './reconcile.ts';

let op: RunningOperator | undefined;
let sched: RunningScheduler | undefined;
const cleanup: (() => Promise<void>)[] = [];

beforeAll(async () => {
  await ensureYard(kubeConfig());
});
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
  await op?.stop();
  await sched?.stop();
  op = undefined;
  sched = undefined;
});

/**
 * The controllers and the scheduler. The jobs of `ns` are deleted while the
 * controller still runs: it must take its finalizers off their pods, or the
 * namespace could never go.
 */
function startAll(ns: string): void {
  const kc = kubeConfig();
  op = runOperator(kc, (m) => {
    addOfflineJobController(m);
    addOfflineQueueController(m);
  });
  sched = runScheduler(kc);
  cleanup.push(async () => {
    const r = new RestClient(kc);
    const jobs = await r.list<OfflineJob>(yardKinds.OfflineJob, { namespace: ns });
    for (const j of jobs.items) await r.delete(yardKinds.OfflineJob, ns, j.metadata.name ?? '');
    await waitFor(`pods of ${ns} released by the job controller`, async () => {
      const held = (await r.list<V1Pod>(kinds.Pod, { namespace: ns })).items.filter(
        (p) => (p.metadata?.finalizers ?? []).length > 0,
      );
      return held.length === 0 ? done(true) : notYet(held.map((p) => p.metadata?.name));
    });
  });
}

async function queue(name: string, spec: OfflineQueue['spec'] = {}): Promise<string> {
  const kc = kubeConfig();
  await createQueue(kc, name, spec);
  cleanup.push(() => deleteQueue(kc, name));
  return name;
}

function job(name: string, queueName: string, spec: Partial<OfflineJob['spec']>): OfflineJob {
  return {
    apiVersion: 'yard.dev/v1alpha1',
    kind: 'OfflineJob',
    metadata: { name },
    spec: {
      queue: queueName,
      template: {
        spec: {
          containers: [
            {
              name: 'work',
              image: 'registry.local/yard/batch:1',
              resources: { requests: { cpu: '8', memory: '4Gi' } },
            },
          ],
          terminationGracePeriodSeconds: 0,
        },
      },
      ...spec,
    },
  };
}

const rest = () => new RestClient(kubeConfig());
const createJob = (ns: string, j: OfflineJob) =>
  rest().create<OfflineJob>(yardKinds.OfflineJob, {
    ...j,
    metadata: { ...j.metadata, namespace: ns },
  });
const readJob = (ns: string, name: string) =>
  rest().get<OfflineJob>(yardKinds.OfflineJob, ns, name);
const readQueue = (name: string) =>
  rest().get<OfflineQueue>(yardKinds.OfflineQueue, undefined, name);
const condition = (j: { status?: { conditions?: { type: string }[] } }, type: string) =>
  j.status?.conditions?.find((c) => c.type === type) as
    { type: string; status: string; reason: string; message: string } | undefined;

const surge = (name: string): V1Pod =>
  pod(name)
    .scheduler('yard')
    .campus('campus-a')
    .requests({ cpu: '8', memory: '1Gi' })
    .labels({ 'yard.dev/imservice': 'surge', 'yard.dev/business-priority': 'payment' })
    .build();

async function jobPods(kube: Clients, ns: string, name: string): Promise<V1Pod[]> {
  return podsOf(kube.core, ns, `yard.dev/offline-job=${name}`);
}

describe('OfflineJob and OfflineQueue', () => {
  it('fills the cluster, survives an online surge’s preemptions and completes', async ({
    kube,
    ns,
  }) => {
    await quietNodes(kube.core, [ns]);
    const q = await queue(uniqueName('q-batch'));
    startAll(ns);
    // 24 × 8 CPU fill all six nodes; each pod runs 10 s
    await createJob(ns, job('etl', q, { parallelism: 24, completions: 24, runDuration: '10s' }));
    const running = await allBound(kube.core, ns, 24, 'yard.dev/offline-job=etl');
    const sample = running[0];
    expect(sample?.spec?.schedulerName).toBe('yard');
    expect(sample?.spec?.priorityClassName).toBe('yard-offline');
    expect(sample?.metadata?.annotations?.['yard.dev/run-duration']).toBe('10s');
    expect(sample?.metadata?.labels?.['yard.dev/queue']).toBe(q);

    await kube.core.createNamespacedPod({ namespace: ns, body: surge('pay-0') });
    await kube.core.createNamespacedPod({ namespace: ns, body: surge('pay-1') });
    await allBound(kube.core, ns, 2, 'yard.dev/imservice=surge');

    const finished = await waitFor(
      'etl Succeeded',
      async () => {
        const j = await readJob(ns, 'etl');
        return j.status?.phase === 'Succeeded' ? done(j) : notYet(j.status);
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    expect(finished.status).toMatchObject({ succeeded: 24, failed: 0, progress: '24/24' });
    expect(finished.status?.preemptions).toBeGreaterThanOrEqual(2);
    expect(condition(finished, 'Complete')).toMatchObject({
      status: 'True',
      reason: 'CompletionsReached',
    });
    const events = await eventsIn(kubeConfig(), ns);
    const recreated = events.filter(
      (e) => e.reason === 'PodPreempted' && e.regarding.name === 'etl',
    );
    expect(recreated.length).toBe(finished.status?.preemptions);
    const evictions = events.filter((e) => e.reason === 'Preempted');
    expect(evictions.length).toBe(finished.status?.preemptions);
    // every pod that ran to the end is kept, none holds a finalizer any more
    const pods = await jobPods(kube, ns, 'etl');
    expect(pods.filter((p) => p.status?.phase === 'Succeeded')).toHaveLength(24);
    expect(pods.filter((p) => (p.metadata?.finalizers ?? []).length > 0)).toEqual([]);
  });

  it('says when a job’s queue does not exist, and runs it once the queue is created', async ({
    kube,
    ns,
  }) => {
    const q = uniqueName('q-missing');
    startAll(ns);
    await createJob(ns, job('lost', q, { parallelism: 2, completions: 2, runDuration: '1h' }));
    const admitted = await waitFor('Admitted=False', async () => {
      const j = await readJob(ns, 'lost');
      const c = condition(j, 'Admitted');
      return c?.status === 'False' ? done(c) : notYet(j.status);
    });
    expect(admitted).toMatchObject({ reason: 'QueueNotFound' });
    expect(admitted.message).toMatch(new RegExp(`^queue ${q} does not exist`));
    const said = await waitFor('the scheduler’s reason on the pods', async () => {
      const pods = await jobPods(kube, ns, 'lost');
      const msgs = pods.map(
        (p) => p.status?.conditions?.find((c) => c.type === 'PodScheduled')?.message,
      );
      return pods.length === 2 && msgs.every(Boolean) ? done(msgs) : notYet(msgs);
    });
    expect(said).toEqual([`queue ${q} does not exist`, `queue ${q} does not exist`]);

    await queue(q);
    await allBound(kube.core, ns, 2, 'yard.dev/offline-job=lost');
    await waitFor('Admitted=True and Running', async () => {
      const j = await readJob(ns, 'lost');
      return condition(j, 'Admitted')?.status === 'True' && j.status?.phase === 'Running'
        ? done(true)
        : notYet(j.status);
    });
  });

  it('fails after more real failures than its back-off limit, and stops its pods', async ({
    kube,
    ns,
  }) => {
    const q = await queue(uniqueName('q-fail'));
    startAll(ns);
    await createJob(
      ns,
      job('flaky', q, { parallelism: 2, completions: 4, backoffLimit: 1, runDuration: '1h' }),
    );
    const failOne = async (seen: Set<string>): Promise<void> => {
      const [victim] = (await allBound(kube.core, ns, 2, 'yard.dev/offline-job=flaky')).filter(
        (p) => !seen.has(p.metadata?.name ?? '') && p.status?.phase !== 'Failed',
      );
      const name = victim?.metadata?.name ?? '';
      seen.add(name);
      // what a kubelet writes when the container exits non-zero
      await mergePatch(
        rest(),
        kinds.Pod,
        { namespace: ns, name },
        { status: { phase: 'Failed', reason: 'Error' } },
        { subresource: 'status' },
      );
    };
    const seen = new Set<string>();
    await failOne(seen);
    await waitFor('one failure counted, and a replacement', async () => {
      const j = await readJob(ns, 'flaky');
      return j.status?.failed === 1 && j.status.active === 2 ? done(j) : notYet(j.status);
    });
    await failOne(seen);
    const failed = await waitFor('flaky Failed', async () => {
      const j = await readJob(ns, 'flaky');
      return j.status?.phase === 'Failed' ? done(j) : notYet(j.status);
    });
    expect(failed.status).toMatchObject({ failed: 2, succeeded: 0, preemptions: 0, active: 0 });
    expect(condition(failed, 'Failed')).toMatchObject({
      status: 'True',
      reason: 'BackoffLimitExceeded',
    });
    await waitFor('no pod of flaky left running', async () => {
      const live = (await jobPods(kube, ns, 'flaky')).filter(
        (p) => p.status?.phase !== 'Failed' && !p.metadata?.deletionTimestamp,
      );
      return live.length === 0 ? done(true) : notYet(live.map((p) => p.metadata?.name));
    });
  });

  it('shows the scheduler’s numbers for queues and jobs: what the pods request, fair shares, what waits', async ({
    kube,
    ns,
  }) => {
    await quietNodes(kube.core, [ns]);
    const parent = await queue(uniqueName('q-org'));
    const heavy = await queue(uniqueName('q-heavy'), {
      parent,
      weight: 2,
      guaranteed: { cpu: '8', memory: '16Gi' },
      max: { cpu: '160', memory: '640Gi' },
    });
    const light = await queue(uniqueName('q-light'), { parent, weight: 1 });
    startAll(ns);
    const worker = (cpu: string, memory: string) => ({
      spec: {
        containers: [
          {
            name: 'w',
            image: 'registry.local/yard/batch:1',
            resources: { requests: { cpu, memory } },
          },
        ],
      },
    });
    await createJob(
      ns,
      job('model', heavy, {
        parallelism: 4,
        completions: 4,
        runDuration: '1h',
        template: worker('4', '8Gi'),
      }),
    );
    await allBound(kube.core, ns, 4, 'yard.dev/offline-job=model');
    // a gang no node can hold (2 × 40 CPU on 32-CPU nodes, all at once): it waits whole
    await createJob(
      ns,
      job('huge', light, {
        parallelism: 2,
        completions: 2,
        minAvailable: 2,
        runDuration: '1h',
        template: worker('40', '1Gi'),
      }),
    );
    // what the pods really request, read from the API
    const requested = async (name: string) => {
      const pods = (await jobPods(kube, ns, name)).filter(
        (p) => p.spec?.nodeName && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed',
      );
      const sum = pods.reduce(
        (acc, p) => {
          const r = podRequests(p);
          return { cpu: acc.cpu + r.cpu, memory: acc.memory + r.memory };
        },
        { cpu: 0, memory: 0 },
      );
      return { cpu: cpuQuantity(sum.cpu), memory: memoryQuantity(sum.memory) };
    };
    const status = await waitFor('the queues’ and jobs’ published status', async () => {
      const [h, l, p] = await Promise.all([readQueue(heavy), readQueue(light), readQueue(parent)]);
      const model = await readJob(ns, 'model');
      const want = await requested('model');
      const ok =
        JSON.stringify(h.status?.used) === JSON.stringify(want) &&
        JSON.stringify(p.status?.used) === JSON.stringify(want) &&
        JSON.stringify(model.status?.admitted) === JSON.stringify(want) &&
        l.status?.pendingDemand?.cpu === '80' &&
        h.status?.runningJobs === 1;
      return ok ? done({ h, l, p, model, want }) : notYet([h.status, l.status, model.status, want]);
    });
    const { h, l, p, model, want } = status;
    expect(want).toEqual({ cpu: '16', memory: '32Gi' });
    expect(l.status?.used).toEqual({ cpu: '0', memory: '0' });
    expect(l.status?.pendingDemand).toEqual({ cpu: '80', memory: '2Gi' });
    expect(p.status?.pendingDemand).toEqual({ cpu: '80', memory: '2Gi' });
    expect(h.status?.pendingDemand).toEqual({ cpu: '0', memory: '0' });
    // weight 2 against 1 under one parent: twice the fair share (neither reaches its max)
    const cpu = (x: OfflineQueue) => Number(x.status?.fairShare?.cpu ?? NaN);
    expect(cpu(h) / cpu(l)).toBeCloseTo(2, 1);
    expect(Number(h.status?.fairDominantShare)).toBeCloseTo(
      2 * Number(l.status?.fairDominantShare),
      2,
    );
    expect(h.status?.publishedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(condition(h, 'Ready')).toMatchObject({
      status: 'True',
      reason: 'InQueueTree',
      message: 'guaranteed 8 CPU, 16Gi; maximum 160 CPU, 640Gi',
    });
    // the job's share: all of its queue's use, and its dominant share of the pool
    expect(model.status?.queueShare).toBe('1');
    expect(model.status?.admittedShare).toBe(h.status?.dominantShare);
    expect(model.status?.phase).toBe('Running');
  });
});
