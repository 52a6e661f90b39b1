// One informer per resource and scope, shared by every controller that asks
// for it: ten controllers reading Pods cost one list and one watch, and see
// one cache (controller-runtime's cache, client-go's SharedInformerFactory).
import type { IndexFunc } from './cache.ts';
import { Informer } from './informer.ts';
import type { InformerOptions, InformerScope } from './informer.ts';
import type { RuntimeMetrics } from './metrics.ts';
import type { KubeObject } from './object.ts';
import { resourceId } from './resource.ts';
import type { ResourceType } from './resource.ts';

export type InformerDefaults = Omit<
  InformerOptions<KubeObject>,
  'type' | 'indexers' | 'metrics' | keyof InformerScope
>;

export interface InformerFactoryOptions extends InformerDefaults {
  /** Scope of namespaced kinds when a caller names no namespace (a namespace-scoped operator). */
  readonly defaultNamespace?: string;
  readonly metrics?: RuntimeMetrics;
}

export interface InformerRequest<T> extends InformerScope {
  readonly indexers?: Readonly<Record<string, IndexFunc<T>>>;
}

export class InformerFactory {
  readonly #opts: InformerFactoryOptions;
  readonly #informers = new Map<string, Informer>();
  #started = false;

  constructor(opts: InformerFactoryOptions) {
    this.#opts = opts;
    // the process's API traffic is counted where its informers' is
    if (opts.metrics) opts.rest.reportTo(opts.metrics.restClient());
  }

  /** The shared informer of `type` in `scope`, made on first use; started if the factory is. */
  informerFor<T extends KubeObject>(type: ResourceType, req: InformerRequest<T> = {}): Informer<T> {
    const namespace = type.namespaced ? (req.namespace ?? this.#opts.defaultNamespace) : undefined;
    const key = [
      type.group,
      type.version,
      type.resource,
      namespace ?? '',
      req.labelSelector ?? '',
      req.fieldSelector ?? '',
    ].join('|');
    let inf = this.#informers.get(key) as Informer<T> | undefined;
    if (!inf) {
      const { metrics, defaultNamespace: _, ...defaults } = this.#opts;
      inf = new Informer<T>({
        ...defaults,
        type,
        namespace,
        labelSelector: req.labelSelector,
        fieldSelector: req.fieldSelector,
        ...(metrics ? { metrics: metrics.informer(resourceId(type)) } : {}),
      });
      this.#informers.set(key, inf as unknown as Informer);
      if (this.#started) inf.start();
    }
    if (req.indexers) inf.addIndexers(req.indexers);
    return inf;
  }

  informers(): Informer[] {
    return [...this.#informers.values()];
  }

  start(): void {
    this.#started = true;
    for (const inf of this.#informers.values()) inf.start();
  }

  async stop(): Promise<void> {
    this.#started = false;
    await Promise.all([...this.#informers.values()].map((i) => i.stop()));
  }

  hasSynced(): boolean {
    return [...this.#informers.values()].every((i) => i.hasSynced());
  }

  /** Informers not yet synced, described, for readiness messages. */
  unsynced(): string[] {
    return [...this.#informers.values()].filter((i) => !i.hasSynced()).map((i) => i.describe());
  }

  async waitForSync(
    opts: { readonly timeoutMs?: number; readonly signal?: AbortSignal } = {},
  ): Promise<void> {
    await Promise.all([...this.#informers.values()].map((i) => i.waitForSync(opts)));
  }
}
