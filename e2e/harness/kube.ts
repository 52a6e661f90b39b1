import { randomBytes } from 'node:crypto';
import { AppsV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { inject, test as base } from 'vitest';
import { isNotFound } from '../../runtime/errors.ts';
import { done, notYet, waitFor } from './wait.ts';

/** The KubeConfig of the cluster this test run uses (own or existing). */
export function kubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(inject('kubeconfig'));
  return kc;
}

export interface Clients {
  readonly kc: KubeConfig;
  readonly core: CoreV1Api;
  readonly apps: AppsV1Api;
}

export function clients(kc: KubeConfig = kubeConfig()): Clients {
  return { kc, core: kc.makeApiClient(CoreV1Api), apps: kc.makeApiClient(AppsV1Api) };
}

/** A namespace name unique to one test: readable prefix, random suffix. */
export function uniqueName(prefix: string): string {
  const clean = prefix
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40);
  return `${clean || 't'}-${randomBytes(3).toString('hex')}`;
}

/**
 * Creates a namespace and waits until pods can be created in it (its default
 * ServiceAccount exists, which the ServiceAccount admission plugin requires).
 */
export async function createNamespace(core: CoreV1Api, name: string): Promise<string> {
  await core.createNamespace({ body: { metadata: { name, labels: { 'yard.dev/test': 'true' } } } });
  await waitFor(`the default ServiceAccount of namespace ${name}`, async () => {
    try {
      await core.readNamespacedServiceAccount({ name: 'default', namespace: name });
      return done(true);
    } catch (err) {
      if (isNotFound(err)) return notYet('no default ServiceAccount yet');
      throw err;
    }
  });
  return name;
}

export async function deleteNamespace(core: CoreV1Api, name: string): Promise<void> {
  try {
    await core.deleteNamespace({ name });
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}

/**
 * `it` with fixtures: `kube` (clients of the run's cluster) and `ns` (a fresh
 * namespace per test, deleted afterwards without waiting).
 */
export const it = base.extend<{ kube: Clients; ns: string }>({
  // eslint-disable-next-line no-empty-pattern
  kube: async ({}, use) => {
    await use(clients());
  },
  ns: async ({ kube, task }, use) => {
    const name = await createNamespace(kube.core, uniqueName(`t-${task.name}`));
    await use(name);
    await deleteNamespace(kube.core, name);
  },
});
