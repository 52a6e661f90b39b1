// The scheduler publishes what it decided, against the local control plane:
// `kubectl get campus` shows exactly the scheduler's own grants (its numbers,
// from its own books), those match what the pods really request (pod overhead
// included), a shield raises the others' ceilings there too, and CampusSafe,
// computed by the campus controller from those numbers, turns Unknown once
// nobody publishes them.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { CoreV1Api, V1Pod } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, inject } from 'vitest';
import type { Campus } from '../../crds/index.ts';
import { findBinaries } from '../../e2e/control-plane/binaries.ts';
import { pod } from '../../e2e/harness/builders.ts';
import { it, kubeConfig } from '../../e2e/harness/kube.ts';
import { runOperator } from '../../e2e/harness/operator.ts';
import type { RunningOperator } from '../../e2e/harness/operator.ts';
import {
  allBound,
  quietNodes,
  requestedOn,
  runScheduler,
  setShield,
} from '../../e2e/harness/scheduler.ts';
import type { RunningScheduler } from '../../e2e/harness/scheduler.ts';
import { done, notYet, waitFor } from '../../e2e/harness/wait.ts';
import { campusNames, ensureYard, readCampus } from '../../e2e/harness/yard.ts';
import { addCampusController } from '../../operator/campus/reconcile.ts';
import { isNotFound, RestClient } from '../../runtime/index.ts';
import { cpuQuantity, memoryQuantity } from '../../runtime/quantity.ts';
import { defaultPolicy, standing } from '../core/index.ts';
import { campusNumbers, type CampusNumbers } from './publish.ts';

const exec = promisify(execFile);
let op: RunningOperator | undefined;
let sched: RunningScheduler | undefined;
const runtimeClass = 'yard-test-overhead';

beforeAll(async () => {
  await ensureYard(kubeConfig());
  // pod overhead comes from a RuntimeClass: the API sets spec.overhead from it
  const rest = new RestClient(kubeConfig());
  try {
    await rest.request('POST', '/apis/node.k8s.io/v1/runtimeclasses', {
      body: {
        apiVersion: 'node.k8s.io/v1',
        kind: 'RuntimeClass',
        metadata: { name: runtimeClass },
        handler: 'runc',
        overhead: { podFixed: { cpu: '250m', memory: '64Mi' } },
      },
    });
  } catch (err) {
    if (!/already exists|409/.test(String(err))) throw err;
  }
});
afterEach(async () => {
  for (const c of campusNames) await setShield(kubeConfig(), c, null);
  await op?.stop();
  await sched?.stop();
  op = undefined;
  sched = undefined;
});

function start(staleAfterMs?: number): void {
  const kc = kubeConfig();
  op = runOperator(kc, (m) =>
    addCampusController(m, staleAfterMs === undefined ? {} : { staleAfterMs }),
  );
  sched = runScheduler(kc, { publish: { intervalMs: 250 } });
}

/** The scheduler's own numbers for a campus, from its books as they stand. */
function granted(campus: string): CampusNumbers | undefined {
  const s = sched?.scheduler;
  if (!s || s.cache.stale) return undefined;
  const g = standing(s.cache.ledger(), defaultPolicy).campuses.find((c) => c.campus === campus);
  return g && campusNumbers(g);
}

const publishedPart = (c: Campus, like: CampusNumbers): Record<string, unknown> =>
  Object.fromEntries(Object.keys(like).map((k) => [k, (c.status as Record<string, unknown>)?.[k]]));

/** `kubectl get campus -o wide`, as rows of column → cell. */
async function kubectlCampuses(): Promise<Map<string, Record<string, string>>> {
  const kubectl = (await findBinaries()).kubectl ?? 'kubectl';
  const { stdout } = await exec(
    kubectl,
    ['--kubeconfig', inject('kubeconfig'), 'get', 'campuses', '-o', 'wide'],
    { timeout: 30_000 },
  );
  // columns are aligned under their headers, and an empty cell is blank: cut at the headers
  const [head = '', ...rows] = stdout.trimEnd().split('\n');
  const cols = [...head.matchAll(/\S+/g)].map((m) => ({ name: m[0], at: m.index }));
  return new Map(
    rows.map((r) => {
      const row = Object.fromEntries(
        cols.map((c, i) => [c.name, r.slice(c.at, cols[i + 1]?.at ?? r.length).trim()]),
      );
      return [row['NAME'] ?? '', row];
    }),
  );
}

/** Waits until every campus's status shows exactly what the scheduler grants, and returns them. */
function waitPublished(
  what: string,
  check: (name: string, n: CampusNumbers) => boolean = () => true,
) {
  return waitFor(
    what,
    async () => {
      const out = new Map<string, CampusNumbers>();
      const diffs: unknown[] = [];
      for (const name of campusNames) {
        const want = granted(name);
        const c = await readCampus(kubeConfig(), name);
        if (!want) return notYet('the scheduler’s books are not built yet');
        const got = publishedPart(c, want);
        if (JSON.stringify(got) !== JSON.stringify(want) || !check(name, want))
          diffs.push({ name, got, want });
        out.set(name, want);
      }
      return diffs.length === 0 ? done(out) : notYet(diffs);
    },
    { timeoutMs: 30_000, intervalMs: 300 },
  );
}

const web = (name: string, campus: string): V1Pod => {
  const p = pod(name)
    .scheduler('yard')
    .campus(campus)
    .requests({ cpu: '1', memory: '1Gi' })
    .labels({ 'yard.dev/imservice': 'published', 'yard.dev/business-priority': 'message' })
    .build();
  return { ...p, spec: { ...(p.spec ?? { containers: [] }), runtimeClassName: runtimeClass } };
};

async function nodesOf(kube: { core: CoreV1Api }, campus: string) {
  const nodes = await kube.core.listNode({
    labelSelector: `topology.kubernetes.io/zone=${campus}`,
  });
  return new Set(nodes.items.map((n) => n.metadata?.name ?? ''));
}

describe('the scheduler publishes what it decided', () => {
  it('kubectl get campus shows the scheduler’s grants, which count what the pods request, overhead included', async ({
    kube,
    ns,
  }) => {
    await quietNodes(kube.core, [ns]);
    start();
    for (let i = 0; i < 3; i++)
      await kube.core.createNamespacedPod({ namespace: ns, body: web(`web-${i}`, 'campus-a') });
    const bound = await allBound(kube.core, ns, 3);
    // the API set the overhead from the RuntimeClass: each pod holds 1.25 CPU, 1Gi + 64Mi
    expect(bound.map((p) => p.spec?.overhead)).toEqual(
      Array(3).fill({ cpu: '250m', memory: '64Mi' }),
    );

    const all = await waitPublished('every campus’s status to be the scheduler’s numbers');
    const a = all.get('campus-a');
    const really = await requestedOn(kube.core, await nodesOf(kube, 'campus-a'));
    expect(a?.onlineRequests).toEqual({
      cpu: cpuQuantity(really.online.cpu),
      memory: memoryQuantity(really.online.memory),
    });
    expect(really.online.cpu).toBe(3750);
    expect(a?.onlineCeilingPercent).toBe('66.7');
    expect(a?.allocatable).toEqual({ cpu: '64', memory: '256Gi' });

    const rows = await kubectlCampuses();
    for (const name of campusNames) {
      const n = all.get(name);
      expect(rows.get(name)).toMatchObject({
        CEILING: n?.onlineCeilingPercent,
        HEADROOM: n?.headroom.cpu,
        ONLINE: n?.onlineRequests.cpu,
        OFFLINE: n?.offlineRequests.cpu,
      });
    }
    const c = await readCampus(kubeConfig(), 'campus-a');
    expect(c.status?.publishedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    const safe = c.status?.conditions?.find((x) => x.type === 'CampusSafe');
    expect(safe).toMatchObject({ status: 'True', reason: 'OthersCanAbsorb' });
    expect(safe?.message).toMatch(/^if campus-a is lost, its online load \(3\.8 CPU, /);
  });

  it('under a shield, the others’ raised ceilings are what kubectl shows, and what CampusSafe weighs', async ({
    kube,
    ns,
  }) => {
    await quietNodes(kube.core, [ns]);
    start();
    await waitPublished('the scheduler’s numbers before the shield');
    await setShield(kubeConfig(), 'campus-a', 300);
    const all = await waitPublished(
      'campus-b and campus-c raised to 100% while campus-a is shielded',
      (name, n) => name === 'campus-a' || n.onlineCeilingPercent === '100',
    );
    expect(all.get('campus-b')?.onlineCeiling).toEqual({ cpu: '64', memory: '256Gi' });
    expect(all.get('campus-a')?.offlineGrant).toEqual({ cpu: '0', memory: '0' });
    const rows = await kubectlCampuses();
    expect(rows.get('campus-b')?.['CEILING']).toBe('100');
    expect(rows.get('campus-c')?.['CEILING']).toBe('100');
    const b = await waitFor('campus-b’s CampusSafe to count campus-a as lost', async () => {
      const c = await readCampus(kubeConfig(), 'campus-b');
      const safe = c.status?.conditions?.find((x) => x.type === 'CampusSafe');
      return safe?.message?.includes('shielded campus-a') ? done(safe) : notYet(safe);
    });
    expect(b.status).toBe('True');
    expect(b.message).toMatch(/fits in campus-c/);
  });

  it('CampusSafe turns Unknown when nobody publishes any more', async ({ kube, ns }) => {
    await quietNodes(kube.core, [ns]);
    start(3_000);
    await waitPublished('the scheduler’s numbers');
    await sched?.stop();
    sched = undefined;
    const safe = await waitFor(
      'CampusSafe Unknown once the numbers are 3 s old',
      async () => {
        const c = await readCampus(kubeConfig(), 'campus-b');
        const s = c.status?.conditions?.find((x) => x.type === 'CampusSafe');
        return s?.status === 'Unknown' ? done(s) : notYet(s);
      },
      { timeoutMs: 20_000 },
    );
    expect(safe).toMatchObject({ reason: 'SchedulerStale' });
    expect(safe.message).toMatch(/is it running\?$/);
  });
});

afterAll(async () => {
  // leave no RuntimeClass behind for other test files
  try {
    await new RestClient(kubeConfig()).request(
      'DELETE',
      `/apis/node.k8s.io/v1/runtimeclasses/${runtimeClass}`,
    );
  } catch (err) {
    if (!isNotFound(err) && !/404/.test(String(err))) throw err;
  }
});
