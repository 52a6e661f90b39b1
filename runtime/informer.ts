// A shared informer: lists a resource, then watches it from the list's
// resourceVersion, keeps the result in a Store, and tells handlers what
// changed. One per resource and scope, shared by every controller that needs
// it (informer-factory.ts).
//
// The traps of a long-lived watch, handled here rather than found in
// production:
// - the watch ends (the server's timeoutSeconds, a dropped connection, an
//   API server restart): it is opened again from the last resourceVersion
//   seen, with back-off, and without relisting;
// - 410 Gone (that resourceVersion was compacted away, typically after a
//   long disconnection or restart): relist, and report the difference with
//   the cache as adds, updates and deletes, so no delete is lost;
// - a silent stall (a half-open connection that never errors): a watchdog
//   restarts the watch when neither an event nor a bookmark arrived within
//   `stallTimeoutMs`. Bookmarks (`allowWatchBookmarks`) arrive about once a
//   minute on a healthy watch of a cached resource, and keep the
//   resourceVersion fresh so a re-watch rarely needs a relist.
import { watchBackoff, backoffDelay } from './backoff.ts';
import type { BackoffPolicy } from './backoff.ts';
import { Store } from './cache.ts';
import type { IndexFunc, StoreReader } from './cache.ts';
import { realClock, sleep } from './clock.ts';
import type { Clock } from './clock.ts';
import { ApiError, isGone, statusCode } from './errors.ts';
import { nullLogger } from './logger.ts';
import type { Logger } from './logger.ts';
import type { InformerMetrics } from './metrics.ts';
import { keyOf } from './object.ts';
import type { KubeObject } from './object.ts';
import { apiVersionOf, resourceId, resourcePath } from './resource.ts';
import type { ResourceType } from './resource.ts';
import type { RestClient } from './rest.ts';

export interface EventHandler<T> {
  /** `initial`: the object was already there when the handler was added or the cache first synced. */
  onAdd?(obj: T, initial: boolean): void;
  onUpdate?(old: T, obj: T): void;
  /** `finalStateUnknown`: the delete was found by a relist; `obj` is the last state seen. */
  onDelete?(obj: T, finalStateUnknown: boolean): void;
}

export interface InformerScope {
  /** Only this namespace (namespaced kinds); all namespaces when absent. */
  readonly namespace?: string | undefined;
  readonly labelSelector?: string | undefined;
  readonly fieldSelector?: string | undefined;
}

export interface InformerOptions<T> extends InformerScope {
  readonly rest: RestClient;
  readonly type: ResourceType;
  readonly indexers?: Readonly<Record<string, IndexFunc<T>>>;
  readonly clock?: Clock;
  readonly random?: () => number;
  readonly log?: Logger;
  readonly metrics?: InformerMetrics;
  /** Restart a watch that delivered nothing (no event, no bookmark) for this long. Default 2 min. */
  readonly stallTimeoutMs?: number;
  /** Back-off of failed lists and watches (default 800 ms doubling to 30 s). */
  readonly backoff?: BackoffPolicy;
  /** Deadline of each list page (default 60 s). */
  readonly listTimeoutMs?: number;
  /** The server ends each watch after a random time in this range, in seconds (default 300–600). */
  readonly watchTimeoutSeconds?: readonly [number, number];
  /** Objects per list page (default 500). */
  readonly pageSize?: number;
}

export type WatchEndReason = 'closed' | 'error' | 'stall';

export interface InformerStats {
  /** Completed lists, the first one included. */
  readonly lists: number;
  /** Lists after a 410 Gone. */
  readonly relistsAfterGone: number;
  readonly watchesOpened: number;
  readonly watchRestarts: Readonly<Record<WatchEndReason, number>>;
  readonly resourceVersion: string | undefined;
  readonly lastError: unknown;
}

interface WatchEvent {
  readonly type?: string;
  readonly object?: KubeObject & { readonly code?: number; readonly message?: string };
}

type WatchOutcome =
  | { readonly kind: 'stopped' }
  | { readonly kind: 'gone' }
  | { readonly kind: WatchEndReason; readonly healthy: boolean; readonly err?: unknown };

/** A watch open this long counts as healthy even if the resource was quiet. */
const healthyAfterMs = 10_000;

class StallError extends Error {
  constructor(ms: number) {
    super(`no event or bookmark for ${ms} ms`);
    this.name = 'StallError';
  }
}

class GoneError extends Error {
  constructor(message: string) {
    super(`410 Gone: ${message}`);
    this.name = 'GoneError';
  }
}

export class Informer<T extends KubeObject = KubeObject> {
  readonly type: ResourceType;
  readonly scope: InformerScope;
  readonly #store: Store<T>;
  readonly #rest: RestClient;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #log: Logger;
  readonly #metrics: InformerMetrics | undefined;
  readonly #stallMs: number;
  readonly #backoff: BackoffPolicy;
  readonly #listTimeoutMs: number;
  readonly #watchTimeout: readonly [number, number];
  readonly #pageSize: number;
  readonly #handlers = new Set<EventHandler<T>>();
  #synced = false;
  #syncWaiters: (() => void)[] = [];
  #stop: AbortController | undefined;
  #loop: Promise<void> | undefined;
  #rv: string | undefined;
  #lastError: unknown;
  #lists = 0;
  #gone = 0;
  #watches = 0;
  readonly #restarts: Record<WatchEndReason, number> = { closed: 0, error: 0, stall: 0 };

  constructor(opts: InformerOptions<T>) {
    this.type = opts.type;
    this.scope = {
      namespace: opts.type.namespaced ? opts.namespace : undefined,
      labelSelector: opts.labelSelector,
      fieldSelector: opts.fieldSelector,
    };
    this.#store = new Store<T>(opts.indexers);
    this.#rest = opts.rest;
    this.#clock = opts.clock ?? realClock;
    this.#random = opts.random ?? Math.random;
    this.#log = (opts.log ?? nullLogger).child({ informer: this.describe() });
    this.#metrics = opts.metrics;
    this.#stallMs = opts.stallTimeoutMs ?? 120_000;
    this.#backoff = opts.backoff ?? watchBackoff;
    this.#listTimeoutMs = opts.listTimeoutMs ?? 60_000;
    this.#watchTimeout = opts.watchTimeoutSeconds ?? [300, 600];
    this.#pageSize = opts.pageSize ?? 500;
  }

  /** `configmaps.v1 in ns-a with app=x`, for logs and errors. */
  describe(): string {
    const s = this.scope;
    return [
      resourceId(this.type),
      s.namespace ? `in ${s.namespace}` : '',
      s.labelSelector ? `labels ${s.labelSelector}` : '',
      s.fieldSelector ? `fields ${s.fieldSelector}` : '',
    ]
      .filter(Boolean)
      .join(' ');
  }

  get store(): StoreReader<T> {
    return this.#store;
  }

  /** Adds indexes (allowed at any time; existing objects are indexed). */
  addIndexers(indexers: Readonly<Record<string, IndexFunc<T>>>): void {
    const fresh = Object.fromEntries(
      Object.entries(indexers).filter(([name]) => !this.#store.hasIndex(name)),
    );
    this.#store.addIndexers(fresh);
  }

  /**
   * Adds a handler; if the cache has synced, it is first told about every
   * cached object as an add (client-go's behaviour, so a controller that
   * starts late still sees everything). Returns the function that removes it.
   */
  addHandler(handler: EventHandler<T>): () => void {
    this.#handlers.add(handler);
    if (this.#synced) {
      for (const obj of this.#store.list()) this.#call(handler, (h) => h.onAdd?.(obj, true));
    }
    return () => void this.#handlers.delete(handler);
  }

  hasSynced(): boolean {
    return this.#synced;
  }

  /** Resolves once the first list is in the cache; rejects on timeout or abort. */
  waitForSync(
    opts: { readonly timeoutMs?: number; readonly signal?: AbortSignal } = {},
  ): Promise<void> {
    if (this.#synced) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const finish = (err?: Error): void => {
        cancel?.();
        opts.signal?.removeEventListener('abort', onAbort);
        this.#syncWaiters = this.#syncWaiters.filter((w) => w !== onSync);
        if (err) reject(err);
        else resolve();
      };
      const onSync = (): void => finish();
      const onAbort = (): void =>
        finish(new Error(`stopped waiting for ${this.describe()} to sync`));
      const cancel =
        opts.timeoutMs === undefined
          ? undefined
          : this.#clock.setTimer(opts.timeoutMs, () =>
              finish(
                new Error(`${this.describe()} did not sync within ${opts.timeoutMs} ms`, {
                  cause: this.#lastError,
                }),
              ),
            );
      this.#syncWaiters.push(onSync);
      if (opts.signal?.aborted) return onAbort();
      opts.signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  get stats(): InformerStats {
    return {
      lists: this.#lists,
      relistsAfterGone: this.#gone,
      watchesOpened: this.#watches,
      watchRestarts: { ...this.#restarts },
      resourceVersion: this.#rv,
      lastError: this.#lastError,
    };
  }

  get running(): boolean {
    return this.#loop !== undefined;
  }

  /** Starts listing and watching (again after `stop`); does nothing if running. */
  start(): void {
    if (this.#loop) return;
    const stop = new AbortController();
    this.#stop = stop;
    this.#loop = this.#run(stop.signal).catch((err: unknown) => {
      this.#log.error('informer loop failed', { err });
    });
  }

  /** Stops the watch and waits for the loop to end. The cache keeps its content. */
  async stop(): Promise<void> {
    this.#stop?.abort();
    await this.#loop;
    this.#loop = undefined;
    this.#stop = undefined;
  }

  async #run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const rv = await this.#listUntilDone(signal);
      if (rv === undefined) return;
      this.#rv = rv;
      if ((await this.#watchUntilGone(signal)) === 'stopped') return;
      this.#gone++;
      this.#metrics?.relisted('gone');
      this.#log.info('resourceVersion too old (410 Gone); relisting', { rv: this.#rv });
    }
  }

  /** Lists (with back-off on failure) until it works; undefined if stopped first. */
  async #listUntilDone(signal: AbortSignal): Promise<string | undefined> {
    for (let failures = 0; !signal.aborted; failures++) {
      try {
        return await this.#list(signal);
      } catch (err) {
        if (signal.aborted) return undefined;
        this.#lastError = err;
        const delay = backoffDelay(failures, this.#backoff, this.#random);
        this.#log.warn('list failed; retrying', { err, retryInMs: Math.round(delay) });
        await sleep(this.#clock, delay, signal);
      }
    }
    return undefined;
  }

  /** Watches, and watches again from the last resourceVersion, until 410 Gone or stopped. */
  async #watchUntilGone(signal: AbortSignal): Promise<'stopped' | 'gone'> {
    let failures = 0;
    for (;;) {
      const out = await this.#watch(this.#rv, signal);
      if (out.kind === 'stopped' || out.kind === 'gone') return out.kind;
      this.#restarts[out.kind]++;
      this.#metrics?.watchRestarted(out.kind);
      if (out.healthy) failures = 0;
      // a watch the server ended after a healthy while reopens at once; any
      // other end backs off, so a server that drops every watch is not hammered
      const delay =
        out.kind === 'closed' && out.healthy
          ? 0
          : backoffDelay(failures++, this.#backoff, this.#random);
      this.#log[out.kind === 'closed' ? 'debug' : 'warn'](
        'watch ended; watching again from the last resourceVersion',
        {
          reason: out.kind,
          rv: this.#rv,
          retryInMs: Math.round(delay),
          ...(out.err ? { err: out.err } : {}),
        },
      );
      if (delay > 0) await sleep(this.#clock, delay, signal);
      if (signal.aborted) return 'stopped';
    }
  }

  /** Lists every page, replaces the cache, tells handlers; returns the list's resourceVersion. */
  async #list(signal: AbortSignal): Promise<string> {
    const items: T[] = [];
    let cont: string | undefined;
    let rv: string | undefined;
    do {
      const page = await this.#rest.list<T>(this.type, {
        namespace: this.scope.namespace,
        labelSelector: this.scope.labelSelector,
        fieldSelector: this.scope.fieldSelector,
        limit: this.#pageSize,
        continue: cont,
        signal,
        timeoutMs: this.#listTimeoutMs,
      });
      // list items carry no kind; watch events do: make them alike
      for (const item of page.items) {
        items.push(
          stripManagedFields({
            apiVersion: apiVersionOf(this.type),
            kind: this.type.kind,
            ...item,
          }),
        );
      }
      cont = page.metadata?.continue || undefined;
      rv = page.metadata?.resourceVersion;
    } while (cont);
    this.#replace(items, rv ?? '');
    return rv ?? '';
  }

  /** Makes the cache hold `items`, tells handlers the difference, marks the cache synced. */
  #replace(items: readonly T[], rv: string): void {
    const wasSynced = this.#synced;
    const { added, updated, deleted } = this.#store.replace(items);
    this.#lists++;
    this.#metrics?.listed();
    this.#log.debug('listed', {
      rv,
      count: items.length,
      added: added.length,
      updated: updated.length,
      deleted: deleted.length,
    });
    for (const obj of added) this.#emit((h) => h.onAdd?.(obj, !wasSynced));
    for (const { old, obj } of updated) this.#emit((h) => h.onUpdate?.(old, obj));
    for (const obj of deleted) this.#emit((h) => h.onDelete?.(obj, true));
    if (!wasSynced) {
      this.#synced = true;
      const waiters = this.#syncWaiters;
      this.#syncWaiters = [];
      for (const w of waiters) w();
    }
  }

  /** One watch request, from `rv` until it ends; applies every event to the cache. */
  async #watch(rv: string | undefined, stopSignal: AbortSignal): Promise<WatchOutcome> {
    const attempt = new AbortController();
    const signal = AbortSignal.any([stopSignal, attempt.signal]);
    const started = this.#clock.now();
    let events = 0;
    let disarm = (): void => {};
    const arm = (): void => {
      disarm();
      disarm = this.#clock.setTimer(this.#stallMs, () =>
        attempt.abort(new StallError(this.#stallMs)),
      );
    };
    const [lo, hi] = this.#watchTimeout;
    arm();
    this.#watches++;
    try {
      await this.#rest.watch(
        resourcePath(this.type, { namespace: this.scope.namespace }),
        {
          resourceVersion: rv,
          allowWatchBookmarks: true,
          labelSelector: this.scope.labelSelector,
          fieldSelector: this.scope.fieldSelector,
          timeoutSeconds: Math.floor(lo + this.#random() * (hi - lo)),
        },
        (line) => {
          arm();
          this.#apply(JSON.parse(line) as WatchEvent);
          events++; // an ERROR event throws above: it does not make a watch healthy
        },
        signal,
      );
      const healthy = events > 0 || this.#clock.now() - started >= healthyAfterMs;
      return { kind: 'closed', healthy };
    } catch (err) {
      if (stopSignal.aborted) return { kind: 'stopped' };
      if (err instanceof GoneError || isGone(err)) return { kind: 'gone' };
      this.#lastError = err;
      const healthy = events > 0 || this.#clock.now() - started >= healthyAfterMs;
      if (err instanceof StallError) return { kind: 'stall', healthy, err };
      return { kind: 'error', healthy, err };
    } finally {
      disarm();
      attempt.abort();
    }
  }

  #apply(ev: WatchEvent): void {
    const obj = ev.object;
    if (!obj) return;
    const rv = obj.metadata?.resourceVersion;
    switch (ev.type) {
      case 'ADDED':
      case 'MODIFIED': {
        const typed = stripManagedFields(obj as T);
        const old = this.#store.upsert(typed);
        if (old) this.#emit((h) => h.onUpdate?.(old, typed));
        else this.#emit((h) => h.onAdd?.(typed, false));
        break;
      }
      case 'DELETED': {
        this.#store.remove(keyOf(obj));
        const last = obj as T; // the object's final state, as the server sends it
        this.#emit((h) => h.onDelete?.(last, false));
        break;
      }
      case 'BOOKMARK':
        break;
      case 'ERROR': {
        const code = obj.code ?? statusCode(obj);
        const message = obj.message ?? 'watch error';
        if (code === 410) throw new GoneError(message);
        throw new ApiError('WATCH', this.describe(), code ?? 500, message, obj);
      }
      default:
        this.#log.warn('unknown watch event type', { type: ev.type });
        return;
    }
    if (rv) this.#rv = rv;
  }

  #emit(fn: (h: EventHandler<T>) => void): void {
    for (const h of this.#handlers) this.#call(h, fn);
  }

  #call(h: EventHandler<T>, fn: (h: EventHandler<T>) => void): void {
    try {
      fn(h);
    } catch (err) {
      this.#log.error('event handler failed', { err });
    }
  }
}

/**
 * managedFields is 40-50% of a cached object's JSON and nothing reads it from
 * the cache (server-side apply never sends it back): drop it on the way in,
 * as controller-runtime's TransformStripManagedFields does.
 */
function stripManagedFields<T>(obj: T): T {
  const meta = (obj as { metadata?: { managedFields?: unknown } }).metadata;
  if (meta && 'managedFields' in meta) delete meta.managedFields;
  return obj;
}
