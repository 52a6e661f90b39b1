// How a caller finds the instances of the service it calls, with no central
// registry: it watches the API server's pods itself. EndpointSlices cannot
// carry the loopback addresses our pods have on simulated nodes, and a caller
// that reads pods directly also sees the `yard.dev/serving` condition the
// moment the shield flips it, so it routes away from a blocked campus without
// waiting for anything else.
//
// An endpoint spec is either a list of URLs (`http://a:8080,http://b:8080`)
// or `pods:<label selector>`, optionally followed by `;port=<name|number>`
// and `;namespace=<name>` (default: the kubeconfig context's namespace, which
// the node agent sets to the pod's own).
// client-node is loaded only when a spec names pods: it costs ~80 MiB of
// memory that a service with URL lists does not need
import type { CoreV1Api, KubeConfig, V1Pod, Watch } from '@kubernetes/client-node';

const clientNode = () => import('@kubernetes/client-node');
import { urlList } from './config.ts';
import type { Logger } from './log.ts';
import { silentLogger } from './log.ts';
import { staticEndpoints } from './upstream.ts';
import type { EndpointSource } from './upstream.ts';
import { podCondition } from '../../crds/names.ts';

export type EndpointSpec =
  | { readonly kind: 'static'; readonly urls: readonly string[] }
  | {
      readonly kind: 'pods';
      readonly selector: string;
      /** A container port's name or number; default: the port named `http`, else the first. */
      readonly port: string | undefined;
      readonly namespace: string | undefined;
    };

/** Parses `--logic`-style values; throws a message that says what to write. */
export function parseEndpointSpec(value: string, flag: string): EndpointSpec {
  const v = value.trim();
  if (!v.startsWith('pods:')) return { kind: 'static', urls: urlList(v, flag) };
  const [selector = '', ...params] = v.slice('pods:'.length).split(';');
  if (selector.trim() === '')
    throw new Error(`--${flag}: pods: needs a label selector, e.g. pods:app=im-logic`);
  let port: string | undefined;
  let namespace: string | undefined;
  for (const p of params) {
    const m = /^(port|namespace)=([^;=\s]+)$/.exec(p.trim());
    if (!m?.[1] || !m[2])
      throw new Error(
        `--${flag}: unknown parameter ${JSON.stringify(p)}; use ;port=… or ;namespace=…`,
      );
    if (m[1] === 'port') port = m[2];
    else namespace = m[2];
  }
  return { kind: 'pods', selector: selector.trim(), port, namespace };
}

/**
 * The URL a caller may send to, or undefined while the pod must not get
 * traffic: not running, being deleted, not Ready (Ready includes the readiness
 * gates), or shielded (serving False, even before Ready follows).
 */
export function podEndpoint(pod: V1Pod, port: string | undefined): string | undefined {
  const ip = pod.status?.podIP;
  if (!ip || pod.metadata?.deletionTimestamp || pod.status?.phase !== 'Running') return undefined;
  const conditions = pod.status.conditions ?? [];
  if (!conditions.some((c) => c.type === 'Ready' && c.status === 'True')) return undefined;
  if (conditions.some((c) => c.type === podCondition.serving && c.status !== 'True'))
    return undefined;
  const number = containerPort(pod, port);
  return number === undefined ? undefined : `http://${ip}:${number}`;
}

function containerPort(pod: V1Pod, port: string | undefined): number | undefined {
  if (port !== undefined && /^\d+$/.test(port)) return Number(port);
  const ports = (pod.spec?.containers ?? []).flatMap((c) => c.ports ?? []);
  const named = ports.find((p) => p.name === (port ?? 'http'));
  if (named) return named.containerPort;
  return port === undefined ? ports[0]?.containerPort : undefined;
}

export interface PodEndpoints extends EndpointSource {
  /** Resolves once the first list arrived. */
  readonly synced: Promise<void>;
  /** Why the last list or watch failed, if it did. */
  lastError(): string | undefined;
  stop(): void;
}

export interface WatchOptions {
  readonly kubeConfig: KubeConfig;
  readonly namespace: string;
  readonly selector: string;
  readonly port?: string | undefined;
  readonly log?: Logger;
  /** The server ends each watch after this long and we start another: a stalled watch cannot last. */
  readonly watchSeconds?: number;
  /** Wait before listing again after an error (doubles up to 10 s). */
  readonly retryMs?: number;
}

/**
 * Watches the pods of a selector and keeps the endpoints of those that serve.
 * A list, then a watch from its resourceVersion; any error or expiry (410
 * Gone) or the server's timeout starts a fresh list, so nothing is missed.
 */
export function watchPodEndpoints(opts: WatchOptions): PodEndpoints {
  const log = opts.log ?? silentLogger;
  let clients: { core: CoreV1Api; watcher: Watch } | undefined;
  const pods = new Map<string, V1Pod>();
  let list: readonly string[] = [];
  let stopped = false;
  let current: AbortController | undefined;
  let wake: (() => void) | undefined;
  let lastError: string | undefined;
  let markSynced!: () => void;
  const synced = new Promise<void>((resolve) => (markSynced = resolve));

  const recompute = (): void => {
    const next = [...pods.values()]
      .map((p) => podEndpoint(p, opts.port))
      .filter((u): u is string => u !== undefined)
      .sort();
    if (next.length !== list.length || next.some((u, i) => u !== list[i])) {
      log.info('endpoints changed', { selector: opts.selector, endpoints: next });
      list = next;
    }
  };

  const keyOf = (p: V1Pod): string => p.metadata?.uid ?? p.metadata?.name ?? '';

  async function once(): Promise<void> {
    if (!clients) {
      const k8s = await clientNode();
      clients = {
        core: opts.kubeConfig.makeApiClient(k8s.CoreV1Api),
        watcher: new k8s.Watch(opts.kubeConfig),
      };
    }
    const { core, watcher } = clients;
    const listed = await core.listNamespacedPod({
      namespace: opts.namespace,
      labelSelector: opts.selector,
    });
    pods.clear();
    for (const p of listed.items) pods.set(keyOf(p), p);
    recompute();
    markSynced();
    await new Promise<void>((resolve, reject) => {
      wake = resolve;
      watcher
        .watch(
          `/api/v1/namespaces/${encodeURIComponent(opts.namespace)}/pods`,
          {
            labelSelector: opts.selector,
            resourceVersion: listed.metadata?.resourceVersion ?? '',
            allowWatchBookmarks: true,
            timeoutSeconds: opts.watchSeconds ?? 60,
          },
          (type: string, obj: V1Pod) => {
            if (type === 'ADDED' || type === 'MODIFIED') pods.set(keyOf(obj), obj);
            else if (type === 'DELETED') pods.delete(keyOf(obj));
            else if (type === 'ERROR') {
              reject(new Error(`watch error: ${JSON.stringify(obj)}`));
              return;
            } else return;
            recompute();
          },
          (err: unknown) =>
            err ? reject(err instanceof Error ? err : new Error(JSON.stringify(err))) : resolve(),
        )
        .then((ctl) => {
          current = ctl;
          if (stopped) ctl.abort();
        }, reject);
    });
  }

  async function loop(): Promise<void> {
    let backoff = opts.retryMs ?? 500;
    while (!stopped) {
      try {
        await once();
        backoff = opts.retryMs ?? 500;
      } catch (err) {
        if (stopped) return;
        lastError = err instanceof Error ? err.message : String(err);
        log.warn('watching pods failed; listing again', { selector: opts.selector, err });
        await new Promise((r) => setTimeout(r, backoff).unref());
        backoff = Math.min(backoff * 2, 10_000);
      }
    }
  }
  void loop();

  return {
    endpoints: () => list,
    synced,
    lastError: () => lastError,
    stop() {
      stopped = true;
      current?.abort();
      wake?.();
    },
  };
}

export interface ResolveOptions {
  readonly flag: string;
  /** Loads the kubeconfig only when a spec needs it (default: $KUBECONFIG or in-cluster). */
  readonly kubeConfig?: () => KubeConfig | Promise<KubeConfig>;
  readonly log?: Logger;
  /** How long to wait for the first list before giving up. */
  readonly syncTimeoutMs?: number;
}

export interface ResolvedSource {
  readonly source: EndpointSource;
  stop(): void;
}

export async function defaultKubeConfig(): Promise<KubeConfig> {
  const kc = new (await clientNode()).KubeConfig();
  kc.loadFromDefault();
  return kc;
}

/** An EndpointSource for a spec: a static list, or pods watched (waits for the first list). */
export async function resolveEndpoints(
  value: string,
  opts: ResolveOptions,
): Promise<ResolvedSource> {
  const spec = parseEndpointSpec(value, opts.flag);
  if (spec.kind === 'static') return { source: staticEndpoints(spec.urls), stop: () => {} };
  const kc = await (opts.kubeConfig ?? defaultKubeConfig)();
  const namespace =
    spec.namespace ?? kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default';
  const watched = watchPodEndpoints({
    kubeConfig: kc,
    namespace,
    selector: spec.selector,
    port: spec.port,
    ...(opts.log ? { log: opts.log } : {}),
  });
  const limit = opts.syncTimeoutMs ?? 30_000;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      watched.synced,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new Error(
                `--${opts.flag}: could not list pods ${JSON.stringify(spec.selector)} in namespace ${namespace} within ${limit} ms (${watched.lastError() ?? 'no answer'}; is the API server reachable, and may this service account list pods?)`,
              ),
            ),
          limit,
        );
      }),
    ]);
  } catch (err) {
    watched.stop();
    throw err;
  } finally {
    clearTimeout(timer);
  }
  return { source: watched, stop: () => watched.stop() };
}
