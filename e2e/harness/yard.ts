// Yard's own objects for integration tests: the CRDs, and the three Campus
// objects every campus-aware test shares (cluster-scoped, so tests that touch
// them run one file at a time: see vitest.config.ts).
import { CustomObjectsApi } from '@kubernetes/client-node';
import type { KubeConfig } from '@kubernetes/client-node';
import { campusResource, installCrds } from '../../crds/index.ts';
import type { Campus } from '../../crds/index.ts';
import { isConflict } from '../../runtime/errors.ts';

export const campusNames = ['campus-a', 'campus-b', 'campus-c'] as const;

const campusApi = {
  group: campusResource.group,
  version: campusResource.version,
  plural: campusResource.plural,
} as const;

/** Installs the CRDs and makes sure campus-a, -b and -c exist, unshielded. */
export async function ensureYard(kc: KubeConfig): Promise<void> {
  await installCrds(kc);
  const api = kc.makeApiClient(CustomObjectsApi);
  for (const name of campusNames) {
    const body: Campus = {
      apiVersion: campusResource.apiVersion,
      kind: campusResource.kind,
      metadata: { name },
      spec: {},
    };
    try {
      await api.createClusterCustomObject({ ...campusApi, body });
    } catch (err) {
      if (!isConflict(err)) throw err;
    }
  }
}

export async function readCampus(kc: KubeConfig, name: string): Promise<Campus> {
  return (await kc
    .makeApiClient(CustomObjectsApi)
    .getClusterCustomObject({ ...campusApi, name })) as Campus;
}
