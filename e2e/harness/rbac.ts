// An identity bound to nothing but given RBAC rules: a ServiceAccount, a
// ClusterRole of exactly those rules and its binding, and a kubeconfig with
// the account's token (TokenRequest), so a test can run a controller as the
// Helm chart would and see whether it needed anything more.
import { CoreV1Api, KubeConfig, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import type { PolicyRule } from '../../runtime/index.ts';
import { isNotFound, RestClient } from '../../runtime/index.ts';
import { done, notYet, waitFor } from './wait.ts';

export interface Identity {
  readonly kubeConfig: KubeConfig;
  /** Deletes the ClusterRole and its binding (the account goes with its namespace). */
  remove(): Promise<void>;
}

/** A ServiceAccount `name` in `namespace` with a ClusterRole of `rules` only. */
export async function identityWith(
  admin: KubeConfig,
  namespace: string,
  name: string,
  rules: readonly PolicyRule[],
): Promise<Identity> {
  const core = admin.makeApiClient(CoreV1Api);
  const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
  const roleName = `${namespace}-${name}`;
  await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } });
  await rbac.createClusterRole({
    body: {
      metadata: { name: roleName, labels: { 'yard.dev/test': 'true' } },
      rules: rules.map((r) => ({
        apiGroups: [...r.apiGroups],
        resources: [...r.resources],
        verbs: [...r.verbs],
      })),
    },
  });
  await rbac.createClusterRoleBinding({
    body: {
      metadata: { name: roleName, labels: { 'yard.dev/test': 'true' } },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: roleName },
      subjects: [{ kind: 'ServiceAccount', name, namespace }],
    },
  });
  const token = await core.createNamespacedServiceAccountToken({
    name,
    namespace,
    body: { spec: { audiences: [], expirationSeconds: 3600 } },
  });
  const cluster = admin.getCurrentCluster();
  if (!cluster || !token.status?.token) throw new Error('no cluster, or no token issued');
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [cluster],
    users: [{ name, token: token.status.token }],
    contexts: [{ name, cluster: cluster.name, user: name }],
    currentContext: name,
  });
  // the authorizer learns of the binding through its own informer: wait
  // until the account may do the first thing its rules grant
  const first = rules[0];
  if (first) await waitAllowed(kc, first);
  return {
    kubeConfig: kc,
    remove: async () => {
      for (const del of [
        () => rbac.deleteClusterRoleBinding({ name: roleName }),
        () => rbac.deleteClusterRole({ name: roleName }),
      ]) {
        try {
          await del();
        } catch (err) {
          if (!isNotFound(err)) throw err;
        }
      }
    },
  };
}

async function waitAllowed(kc: KubeConfig, r: PolicyRule): Promise<void> {
  const rest = new RestClient(kc);
  const [resource = '', subresource] = (r.resources[0] ?? '').split('/');
  const attributes = {
    group: r.apiGroups[0] ?? '',
    resource,
    ...(subresource ? { subresource } : {}),
    verb: r.verbs[0] ?? 'get',
  };
  await waitFor(`the new ServiceAccount may ${JSON.stringify(attributes)}`, async () => {
    const review = await rest.request<{ status?: { allowed?: boolean } }>(
      'POST',
      '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
      {
        body: {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SelfSubjectAccessReview',
          spec: { resourceAttributes: attributes },
        },
      },
    );
    return review.status?.allowed ? done(true) : notYet(review.status);
  });
}

/** How many requests of a component's RestClient were answered 403, from its metrics text. */
export function forbiddenCount(metricsText: string): number {
  let n = 0;
  for (const line of metricsText.split('\n')) {
    if (line.startsWith('rest_client_requests_total{code="403"')) {
      n += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return n;
}
