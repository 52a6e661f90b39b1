// Discovery against the real API server: a caller's endpoint list follows the
// pods of its selector as they become ready, are shielded (yard.dev/serving
// False), come back and go away; a caller whose service account may not list
// pods is told so.
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { CoreV1Api } from '@kubernetes/client-node';
import { afterEach, describe, expect } from 'vitest';
import { pod } from '../../e2e/harness/builders.ts';
import { it, kubeConfig } from '../../e2e/harness/kube.ts';
import { done, notYet, waitFor } from '../../e2e/harness/wait.ts';
import { resolveEndpoints, watchPodEndpoints } from './discovery.ts';
import type { PodEndpoints } from './discovery.ts';
import { podCondition } from '../../crds/names.ts';

const watches: PodEndpoints[] = [];
afterEach(() => {
  for (const w of watches.splice(0)) w.stop();
});

async function setServing(core: CoreV1Api, ns: string, name: string, status: 'True' | 'False') {
  await core.patchNamespacedPodStatus(
    {
      name,
      namespace: ns,
      body: {
        status: {
          conditions: [{ type: podCondition.serving, status, lastTransitionTime: new Date() }],
        },
      },
    },
    setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
  );
}

const endpointsOf = (w: PodEndpoints, want: number, what: string) =>
  waitFor(
    what,
    () => {
      const list = w.endpoints();
      return list.length === want ? done(list) : notYet(list);
    },
    { timeoutMs: 30_000 },
  );

describe('pod discovery', () => {
  it('follows ready pods, drops a shielded one at once and takes it back', async ({ kube, ns }) => {
    for (const name of ['logic-1', 'logic-2', 'other']) {
      await kube.core.createNamespacedPod({
        namespace: ns,
        body: pod(name)
          .labels({ tier: name === 'other' ? 'access' : 'logic' })
          .readinessGate(podCondition.serving)
          .build(),
      });
    }
    const w = watchPodEndpoints({
      kubeConfig: kubeConfig(),
      namespace: ns,
      selector: 'tier=logic',
      port: '8080',
      watchSeconds: 5,
    });
    watches.push(w);
    await w.synced;
    for (const name of ['logic-1', 'logic-2', 'other'])
      await setServing(kube.core, ns, name, 'True');
    const both = await endpointsOf(w, 2, 'both logic pods listed');
    expect(both.every((u) => /^http:\/\/127\.\d+\.\d+\.\d+:8080$/.test(u))).toBe(true);
    const ip1 = (await kube.core.readNamespacedPod({ name: 'logic-1', namespace: ns })).status
      ?.podIP;

    await setServing(kube.core, ns, 'logic-1', 'False');
    const one = await endpointsOf(w, 1, 'logic-1 dropped when shielded');
    expect(one[0]).not.toBe(`http://${ip1}:8080`);

    // past a watch's server-side timeout (5 s) the list still follows
    await new Promise((r) => setTimeout(r, 6000));
    await setServing(kube.core, ns, 'logic-1', 'True');
    await endpointsOf(w, 2, 'logic-1 back after the shield');

    await kube.core.deleteNamespacedPod({ name: 'logic-2', namespace: ns, gracePeriodSeconds: 0 });
    const left = await endpointsOf(w, 1, 'logic-2 gone');
    expect(left).toEqual([`http://${ip1}:8080`]);
  });

  it('says why when the caller may not list pods', async ({ kube, ns }) => {
    await kube.core.createNamespacedServiceAccount({
      namespace: ns,
      body: { metadata: { name: 'nobody' } },
    });
    const token = await kube.core.createNamespacedServiceAccountToken({
      name: 'nobody',
      namespace: ns,
      body: { spec: { audiences: [], expirationSeconds: 600 } },
    });
    const kc = kubeConfig();
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error('no cluster in the kubeconfig');
    const restricted = kubeConfig();
    restricted.loadFromOptions({
      clusters: [cluster],
      users: [{ name: 'nobody', token: token.status?.token ?? '' }],
      contexts: [{ name: 'c', cluster: cluster.name, user: 'nobody', namespace: ns }],
      currentContext: 'c',
    });
    await expect(
      resolveEndpoints('pods:tier=logic', {
        flag: 'logic',
        kubeConfig: () => restricted,
        syncTimeoutMs: 3000,
      }),
    ).rejects.toThrow(/--logic: could not list pods "tier=logic" in namespace t-.*forbidden|403/is);
  });
});
