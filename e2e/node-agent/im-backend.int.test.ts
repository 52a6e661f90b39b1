// The README's sample backend (crds/samples/im-backend.yaml) applied with
// kubectl, as a platform team would: the operator makes the IMServices'
// Deployments, Yard's scheduler places every pod, the node agent runs them as
// real processes, and the tiers find each other by watching pods. Under the
// prober's dial tests, shielding a campus moves traffic off it — its access
// instance gets no further requests — without failed dial tests or lost
// messages.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import type { V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject } from 'vitest';
import type { IMService } from '../../crds/index.ts';
import { addCampusController } from '../../operator/campus/reconcile.ts';
import { addIMServiceController } from '../../operator/imservice/reconcile.ts';
import { yardKinds } from '../../crds/index.ts';
import { kinds, RestClient } from '../../runtime/index.ts';
import { runScheduler, setShield } from '../harness/scheduler.ts';
import type { RunningScheduler } from '../harness/scheduler.ts';
import type { ProberReport } from '../../services/prober/prober.ts';
import { findBinaries } from '../control-plane/binaries.ts';
import { repoRoot } from '../control-plane/cluster.ts';
import { it, kubeConfig } from '../harness/kube.ts';
import { runOperator } from '../harness/operator.ts';
import type { RunningOperator } from '../harness/operator.ts';
import { done, notYet, waitFor } from '../harness/wait.ts';
import { ensureYard } from '../harness/yard.ts';
import { startNodeAgent } from './agent.ts';
import type { NodeAgent } from './agent.ts';
import { testLog } from './fixtures.ts';

const run = promisify(execFile);
let agent: NodeAgent;
let operator: RunningOperator;
let scheduler: RunningScheduler;

beforeAll(async () => {
  const kc = kubeConfig();
  await ensureYard(kc);
  operator = runOperator(kc, (m) => {
    addCampusController(m);
    addIMServiceController(m);
  });
  scheduler = runScheduler(kc);
  agent = await startNodeAgent({ kubeConfig: kc, ...testLog });
});
afterAll(async () => {
  await setShield(kubeConfig(), 'campus-a', null);
  await agent?.stop();
  await scheduler?.stop();
  await operator?.stop();
});

/** A counter's total over its series, from Prometheus text. */
function total(metrics: string, name: string): number {
  return metrics
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
    .reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

async function get(url: string): Promise<Response> {
  return fetch(url, { signal: AbortSignal.timeout(3000) });
}

describe('the sample IM backend', () => {
  it('runs from crds/samples/im-backend.yaml, and a shielded campus gets no traffic while dial tests go on', async ({
    ns,
  }) => {
    const kc = kubeConfig();
    const rest = new RestClient(kc);
    // etcd members at addresses of their own, so that a demo on this machine cannot collide
    const sample = (
      await readFile(join(repoRoot, 'crds/samples/im-backend.yaml'), 'utf8')
    ).replaceAll('127.15.0.', '127.15.77.');
    const file = join(tmpdir(), `${ns}-im-backend.yaml`);
    await writeFile(file, sample);
    await rest.create(kinds.Secret, {
      metadata: { name: 'im-ticket', namespace: ns },
      stringData: { secret: randomBytes(32).toString('base64') },
    });
    const kubectl = (await findBinaries()).kubectl ?? 'kubectl';
    await run(kubectl, ['--kubeconfig', inject('kubeconfig'), 'apply', '-n', ns, '-f', file], {
      timeout: 60_000,
    });

    const pods = async (selector: string): Promise<V1Pod[]> =>
      (await rest.list<V1Pod>(kinds.Pod, { namespace: ns, labelSelector: selector })).items;
    const report = async (): Promise<ProberReport | undefined> => {
      const ip = (await pods('app=im-prober'))[0]?.status?.podIP;
      if (!ip) return undefined;
      const res = await get(`http://${ip}:9090/report`).catch(() => undefined);
      return res?.ok ? ((await res.json()) as ProberReport) : undefined;
    };

    await waitFor(
      'three IMServices Available and the prober running',
      async () => {
        const list = (await rest.list<IMService>(yardKinds.IMService, { namespace: ns })).items;
        const available = list.filter((s) =>
          s.status?.conditions?.some((c) => c.type === 'Available' && c.status === 'True'),
        );
        const r = await report();
        return available.length === 3 && r?.phase === 'running' && r.totals.ok >= 20
          ? done(true)
          : notYet({ available: available.map((s) => s.metadata?.name), prober: r?.totals });
      },
      { timeoutMs: 150_000 },
    );
    // every pod of the sample was placed by Yard
    for (const p of await pods('yard.dev/runtime=process'))
      expect(p.spec?.schedulerName, p.metadata?.name).toBe('yard');

    const accessA = (await pods('yard.dev/imservice=im-access,yard.dev/campus=campus-a'))[0];
    const accessAMetrics = `http://${accessA?.status?.podIP ?? ''}:8080/metrics`;
    const served = async (): Promise<number> =>
      total(await (await get(accessAMetrics)).text(), 'yard_im_requests_total');
    expect(await served()).toBeGreaterThan(0);

    await setShield(kc, 'campus-a', 300);
    try {
      await waitFor(
        "campus-a's pods out of traffic",
        async () => {
          const gated = await pods('yard.dev/campus=campus-a');
          const serving = gated.filter((p) =>
            p.status?.conditions?.some((c) => c.type === 'yard.dev/serving' && c.status === 'True'),
          );
          return gated.length > 0 && serving.length === 0 ? done(true) : notYet(serving.length);
        },
        { timeoutMs: 30_000 },
      );
      // in-flight requests finish; after that the prober's discovery has dropped campus-a
      await sleep(2000);
      const before = await report();
      const servedBefore = await served();
      await sleep(6000);
      const after = await report();
      if (!before || !after) throw new Error('no prober report');
      const ok = after.totals.ok - before.totals.ok;
      const failed = after.totals.failed - before.totals.failed;
      expect(ok).toBeGreaterThan(20);
      expect(failed, JSON.stringify(after.recentFailures)).toBe(0);
      // the shielded access instance is alive but nobody calls it
      expect(await served()).toBe(servedBefore);
    } finally {
      await setShield(kc, 'campus-a', null);
    }
    await waitFor(
      'campus-a serving again',
      async () => {
        const open = (await pods('yard.dev/campus=campus-a')).filter((p) =>
          p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
        );
        return open.length === 3 ? done(true) : notYet(open.length);
      },
      { timeoutMs: 30_000 },
    );
    const back = await served();
    await waitFor(
      'campus-a access called again',
      async () => ((await served()) > back ? done(true) : notYet('no new requests')),
      { timeoutMs: 20_000 },
    );
    const final = await report();
    expect(final?.delivery.lost).toBe(0);
    expect(final?.delivery.duplicates).toBe(0);
  });
});
