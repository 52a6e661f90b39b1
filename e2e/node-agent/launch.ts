// What a container is started with, as the kubelet would give it: the
// command for its image (images.ts), its environment with ConfigMap and
// Secret references resolved (env.ts), its address, and a kubeconfig with a
// token of the pod's service account. Called before every start, so a
// ConfigMap created late is picked up on the next try.
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { isNotFound } from '../../runtime/errors.ts';
import type { KubeObject } from '../../runtime/object.ts';
import { kinds } from '../../runtime/resource.ts';
import type { RestClient } from '../../runtime/rest.ts';
import { findBinaries } from '../control-plane/binaries.ts';
import type { Prepared } from './container.ts';
import { expand, references, resolveEnv } from './env.ts';
import type { EnvSources } from './env.ts';
import { findImage, launchProblem, portOf } from './images.ts';
import type { ImageEntry } from './images.ts';
import type { PodRun } from './pod-run.ts';
import type { Container, NodeObject, PodObject } from './types.ts';

export interface LaunchOptions {
  readonly rest: RestClient;
  readonly kubeConfig: KubeConfig;
  readonly images: readonly ImageEntry[];
  /** Give each process a kubeconfig with its service account's token. */
  readonly tokens: boolean;
}

/** Builds a container's command line and environment; `pod` is the latest seen. */
export type Prepare = (
  pod: PodObject,
  run: PodRun,
  c: Container,
  node: NodeObject,
) => Promise<Prepared>;

/** What a pod's process inherits from the agent: enough to run, nothing of the agent's config. */
function hostEnv(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of ['PATH', 'HOME', 'TMPDIR', 'LANG', 'TZ']) {
    const v = process.env[k];
    if (v !== undefined) out[k] = v;
  }
  return out;
}

const noEntry = { reason: 'ErrImagePull', message: 'no command for this image' } as const;

/** What the agent cannot do for any container of the pod. */
function podProblem(pod: PodObject): { reason: string; message: string } | undefined {
  return (pod.spec?.initContainers ?? []).length > 0
    ? {
        reason: 'CreateContainerConfigError',
        message: 'the node agent does not run init containers',
      }
    : undefined;
}

export function launcher(o: LaunchOptions): Prepare {
  const { rest, images } = o;
  let etcd: Promise<string | undefined> | undefined;

  function etcdBinary(): Promise<string | undefined> {
    etcd ??= findBinaries().then((b) => b.etcd);
    return etcd;
  }

  /** What the agent gives every process before the pod's own env: its address and credentials. */
  async function baseEnv(
    run: PodRun,
    pod: PodObject,
    c: Container,
    entry: ImageEntry,
  ): Promise<Record<string, string>> {
    const port = entry.readinessPort ? entry.readinessPort(c) : portOf(c);
    const base: Record<string, string> = { ...hostEnv(), HOSTNAME: run.name };
    if (port !== undefined) base['YARD_LISTEN'] = `${run.podIP}:${port}`;
    if (o.tokens && pod.spec?.automountServiceAccountToken !== false) {
      base['KUBECONFIG'] = await podKubeconfig(run, pod);
    }
    return base;
  }

  async function fetchSources(namespace: string, c: Container): Promise<EnvSources> {
    const refs = references(c);
    const get = async (type: typeof kinds.ConfigMap, name: string) => {
      try {
        return await rest.get<KubeObject & { data?: Record<string, string> }>(
          type,
          namespace,
          name,
        );
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    };
    const configMaps = new Map<string, Record<string, string>>();
    const secrets = new Map<string, Record<string, string>>();
    for (const name of refs.configMaps) {
      const cm = await get(kinds.ConfigMap, name);
      if (cm) configMaps.set(name, cm.data ?? {});
    }
    for (const name of refs.secrets) {
      const s = await get(kinds.Secret, name);
      if (!s) continue;
      const decoded = Object.entries(s.data ?? {}).map(([k, v]) => [
        k,
        Buffer.from(v, 'base64').toString('utf8'),
      ]);
      secrets.set(name, Object.fromEntries(decoded) as Record<string, string>);
    }
    return { configMaps, secrets };
  }

  /**
   * A kubeconfig with a token of the pod's service account, bound to the pod
   * (what the kubelet's projected token volume gives a container): processes
   * that watch the API, as the IM services' callers do, authenticate as their
   * pod and are subject to RBAC.
   */
  async function podKubeconfig(run: PodRun, pod: PodObject): Promise<string> {
    const file = join(run.dir, 'kubeconfig');
    if (existsSync(file)) return file;
    const sa = pod.spec?.serviceAccountName || 'default';
    const res = await rest.request<{ status?: { token?: string } }>(
      'POST',
      `/api/v1/namespaces/${encodeURIComponent(run.namespace)}/serviceaccounts/${encodeURIComponent(sa)}/token`,
      {
        body: {
          apiVersion: 'authentication.k8s.io/v1',
          kind: 'TokenRequest',
          spec: {
            expirationSeconds: 86_400,
            boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: run.name, uid: run.uid },
          },
        },
      },
    );
    const cluster = o.kubeConfig.getCurrentCluster();
    const ca =
      cluster?.caData ??
      (cluster?.caFile ? (await readFile(cluster.caFile)).toString('base64') : undefined);
    const config = {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        {
          name: 'cluster',
          cluster: {
            server: cluster?.server ?? '',
            ...(ca ? { 'certificate-authority-data': ca } : {}),
            ...(cluster?.skipTLSVerify ? { 'insecure-skip-tls-verify': true } : {}),
          },
        },
      ],
      users: [{ name: 'pod', user: { token: res.status?.token ?? '' } }],
      contexts: [
        { name: 'pod', context: { cluster: 'cluster', user: 'pod', namespace: run.namespace } },
      ],
      'current-context': 'pod',
    };
    await writeFile(file, JSON.stringify(config), { mode: 0o600 });
    return file;
  }

  return async (pod, run, c, node) => {
    const entry = findImage(c.image, images);
    const problem = launchProblem(c, images) ?? podProblem(pod);
    if (problem || !entry) return { ok: false, ...(problem ?? noEntry) };
    const env = resolveEnv(
      c,
      {
        pod,
        podIP: run.podIP,
        hostIP: run.hostIP,
        ...(node.status?.allocatable ? { nodeAllocatable: node.status.allocatable } : {}),
      },
      await fetchSources(run.namespace, c),
      await baseEnv(run, pod, c, entry),
    );
    if (!env.ok) return env;
    const launch = entry.launch({
      pod,
      container: c,
      podIP: run.podIP,
      podDir: run.dir,
      env: env.env,
      node: process.execPath,
      binaries: { etcd: entry.needs?.includes('etcd') ? await etcdBinary() : undefined },
    });
    if (!launch.ok) return launch;
    return {
      ok: true,
      file: launch.file,
      args: [...launch.args, ...(c.args ?? []).map((a) => expand(a, env.env))],
      env: env.env,
      cwd: run.dir,
      logFile: join(run.dir, `${c.name}.log`),
    };
  };
}
