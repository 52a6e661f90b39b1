// Installs the generated CRDs into a cluster: server-side apply (so several
// callers at once, or an unchanged CRD, are no-ops rather than conflicts),
// then a bounded wait until each is Established.
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ApiException,
  ApiextensionsV1Api,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import type {
  KubeConfig,
  V1CustomResourceDefinition,
  V1CustomResourceDefinitionCondition,
} from '@kubernetes/client-node';
import { parse } from 'yaml';
import { yardResources } from './generated/types.ts';

export const crdFieldManager = 'yard';

export interface InstallOptions {
  /** How long to wait for all CRDs to be Established; default 60 s. */
  readonly timeoutMs?: number;
  readonly fieldManager?: string;
}

/** The generated CRD manifests, as the chart and `kubectl apply -f crds/generated` see them. */
export async function loadCrds(): Promise<V1CustomResourceDefinition[]> {
  return Promise.all(
    yardResources.map(async (r) => {
      const file = new URL(`./generated/${r.group}_${r.plural}.yaml`, import.meta.url);
      return parse(await readFile(file, 'utf8')) as V1CustomResourceDefinition;
    }),
  );
}

// crds/ imports nothing of the other folders (they import it), so the two
// facts of an API error it needs are read here.
function statusCode(err: unknown): number | undefined {
  return err instanceof ApiException ? (err as ApiException<unknown>).code : undefined;
}

function apiMessage(err: unknown): string {
  if (err instanceof ApiException) {
    const body: unknown = (err as ApiException<unknown>).body;
    try {
      const msg = (JSON.parse(String(body)) as { message?: unknown }).message;
      if (typeof msg === 'string') return msg;
    } catch {
      // not a metav1.Status: fall through to the error's own text
    }
  }
  return err instanceof Error ? err.message : String(err);
}

// Worth retrying: a create racing another installer (409), throttling (429),
// and an API server that is busy or restarting (5xx, no response at all).
function transient(err: unknown): boolean {
  const code = statusCode(err);
  return code === undefined || code === 409 || code === 429 || code >= 500;
}

async function apply(
  api: ApiextensionsV1Api,
  crd: V1CustomResourceDefinition,
  fieldManager: string,
  deadline: number,
): Promise<void> {
  const name = crd.metadata?.name ?? '(unnamed)';
  for (let attempt = 1; ; attempt++) {
    try {
      await api.patchCustomResourceDefinition(
        { name, body: crd, fieldManager, force: true },
        setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
      );
      return;
    } catch (err) {
      if (!transient(err) || Date.now() >= deadline) {
        throw new Error(`cannot apply CRD ${name}: ${apiMessage(err)}`, { cause: err });
      }
      await sleep(Math.min(100 * 2 ** attempt, 2000));
    }
  }
}

async function established(api: ApiextensionsV1Api, name: string, deadline: number): Promise<void> {
  let lastSeen = 'not read yet';
  // checks at least once, however little time is left
  for (let first = true; first || Date.now() < deadline; first = false) {
    let conditions: V1CustomResourceDefinitionCondition[] | undefined;
    try {
      conditions = (await api.readCustomResourceDefinition({ name })).status?.conditions ?? [];
    } catch (err) {
      lastSeen = apiMessage(err);
    }
    if (conditions) {
      if (conditions.some((c) => c.type === 'Established' && c.status === 'True')) return;
      const names = conditions.find((c) => c.type === 'NamesAccepted');
      if (names?.status === 'False') {
        // another CRD already claims one of its names: waiting cannot fix that
        throw new Error(`CRD ${name} cannot be served: ${names.message ?? names.reason ?? ''}`);
      }
      lastSeen = conditions.map((c) => `${c.type}=${c.status}`).join(', ') || 'no conditions';
    }
    await sleep(100);
  }
  throw new Error(`CRD ${name} is not Established (last saw: ${lastSeen})`);
}

/**
 * Applies every Yard CRD with server-side apply (field manager `yard`, forced)
 * and waits until each is Established. Idempotent, and safe to run from
 * several processes against one cluster at once.
 */
export async function installCrds(kc: KubeConfig, options: InstallOptions = {}): Promise<void> {
  const api = kc.makeApiClient(ApiextensionsV1Api);
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  const fieldManager = options.fieldManager ?? crdFieldManager;
  const crds = await loadCrds();
  await Promise.all(crds.map((crd) => apply(api, crd, fieldManager, deadline)));
  await Promise.all(
    crds.map((crd) => established(api, crd.metadata?.name ?? '(unnamed)', deadline)),
  );
}
