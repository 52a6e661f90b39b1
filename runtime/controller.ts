// A controller: a work queue of object keys, fed by informer events through
// filters and mappings, drained by a bounded number of workers that call the
// reconciler. Metrics and logs per reconcile.
import { reconcileBackoff } from './backoff.ts';
import type { BackoffPolicy } from './backoff.ts';
import { realClock, sleep } from './clock.ts';
import { describeError, isExpectedConflict } from './errors.ts';
import type { Clock } from './clock.ts';
import type { EventHandler, Informer } from './informer.ts';
import { nullLogger } from './logger.ts';
import type { Logger } from './logger.ts';
import type { ControllerMetrics, ReconcileResultLabel, RuntimeMetrics } from './metrics.ts';
import { keyOf, splitKey } from './object.ts';
import type { KubeObject } from './object.ts';
import { passes } from './predicates.ts';
import type { Predicate } from './predicates.ts';
import { WorkQueue } from './workqueue.ts';

/** What a reconciler is asked: which object, never what happened to it. */
export interface ReconcileRequest {
  /** `namespace/name`, or `name` for cluster-scoped objects. */
  readonly key: string;
  readonly namespace: string | undefined;
  readonly name: string;
  /** Aborted when the controller stops (shutdown, lost leadership): stop early, write nothing more. */
  readonly signal: AbortSignal;
  /** A logger with `controller` and `key` set. */
  readonly log: Logger;
}

export interface ReconcileResult {
  /** Look at this key again after this many ms (waiting on time, not on failure). */
  readonly requeueAfter?: number;
  /** Look again soon, with back-off, without counting it as an error. */
  readonly requeue?: boolean;
}

/**
 * A reconciler is **level-based**: it is told which object to look at, not
 * what happened to it. The request won't tell you an object was created,
 * changed or deleted — read the current state (from the cache; a deleted
 * object is simply absent), compute what should exist, make it so, write
 * status. It must give the same result however many times and in whatever
 * order it is called, since events are merged and may be missed (a relist
 * repairs the cache, not the history).
 *
 * Return `{ requeueAfter }` to look again later; throw to retry with
 * exponential back-off (the error is logged and counted). A key is never
 * reconciled by two workers at once.
 */
export type Reconciler = (req: ReconcileRequest) => Promise<ReconcileResult | void>;

/** Maps an event's object to the keys to reconcile. */
export type KeyMapper<T> = (obj: T) => readonly string[];

export interface ControllerOptions {
  readonly name: string;
  readonly reconcile: Reconciler;
  /** Workers, i.e. reconciles at once (default 1). */
  readonly maxConcurrentReconciles?: number;
  readonly backoff?: BackoffPolicy;
  /** Every key of the primary kind is reconciled again this often (default 10 h; 0: never). */
  readonly resyncPeriodMs?: number;
  /** How long `start` waits for in-flight reconciles once stopped (default 30 s). */
  readonly drainTimeoutMs?: number;
  readonly clock?: Clock;
  readonly random?: () => number;
  readonly log?: Logger;
  readonly metrics?: RuntimeMetrics;
}

interface Source {
  readonly informer: Informer<KubeObject>;
  readonly handler: EventHandler<KubeObject>;
  readonly primary: boolean;
}

export class Controller {
  readonly name: string;
  readonly #reconcile: Reconciler;
  readonly #workers: number;
  readonly #backoff: BackoffPolicy;
  readonly #resyncMs: number;
  readonly #drainMs: number;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #log: Logger;
  readonly #runtimeMetrics: RuntimeMetrics | undefined;
  readonly #metrics: ControllerMetrics | undefined;
  readonly #sources: Source[] = [];
  #queue: WorkQueue;
  #running = false;

  constructor(opts: ControllerOptions) {
    this.name = opts.name;
    this.#reconcile = opts.reconcile;
    this.#workers = Math.max(1, opts.maxConcurrentReconciles ?? 1);
    this.#backoff = opts.backoff ?? reconcileBackoff;
    this.#resyncMs = opts.resyncPeriodMs ?? 10 * 3600_000;
    this.#drainMs = opts.drainTimeoutMs ?? 30_000;
    this.#clock = opts.clock ?? realClock;
    this.#random = opts.random ?? Math.random;
    this.#log = (opts.log ?? nullLogger).child({ controller: this.name });
    this.#runtimeMetrics = opts.metrics;
    this.#metrics = opts.metrics?.controller(this.name, this.#workers);
    this.#queue = this.#newQueue();
  }

  /** The queue of the current (or next) run. */
  get queue(): WorkQueue {
    return this.#queue;
  }

  get running(): boolean {
    return this.#running;
  }

  /** Informers this controller reads; all must sync before it starts. */
  informers(): Informer<KubeObject>[] {
    return [...new Set(this.#sources.map((s) => s.informer))];
  }

  /** Reconcile objects of the primary kind, filtered by `predicates`. */
  watchPrimary<T extends KubeObject>(
    informer: Informer<T>,
    predicates: readonly Predicate<T>[],
  ): this {
    return this.#watch(informer, (o) => [keyOf(o)], predicates, true);
  }

  /**
   * Reconcile the keys `map` gives for each (filtered) event of another kind.
   * With `delayMs`, a key waits that long before it is queued, and every
   * event meanwhile rides along: a burst (hundreds of pods changing) becomes
   * one reconcile per key and window instead of one per event.
   */
  watchMapped<T extends KubeObject>(
    informer: Informer<T>,
    map: KeyMapper<T>,
    predicates: readonly Predicate<T>[],
    delayMs = 0,
  ): this {
    return this.#watch(informer, map, predicates, false, delayMs);
  }

  #watch<T extends KubeObject>(
    informer: Informer<T>,
    map: KeyMapper<T>,
    predicates: readonly Predicate<T>[],
    primary: boolean,
    delayMs = 0,
  ): this {
    const enqueue = (objs: readonly T[]): void => {
      for (const obj of objs) {
        for (const key of map(obj)) {
          if (delayMs > 0) this.#queue.addAfter(key, delayMs);
          else this.#queue.add(key);
        }
      }
    };
    const handler: EventHandler<T> = {
      onAdd: (obj) => {
        if (passes(predicates, 'create', obj)) enqueue([obj]);
      },
      // an owned object that changed owner wakes both owners
      onUpdate: (old, obj) => {
        if (passes(predicates, 'update', obj, old)) enqueue([old, obj]);
      },
      onDelete: (obj) => {
        if (passes(predicates, 'delete', obj)) enqueue([obj]);
      },
    };
    // handlers only ever receive objects of their own informer
    this.#sources.push({
      informer: informer as unknown as Informer<KubeObject>,
      handler,
      primary,
    });
    return this;
  }

  /** Queues a key by hand (tests, or a timer outside the informers). */
  enqueue(key: string): void {
    this.#queue.add(key);
  }

  /**
   * Runs until `signal` aborts: hooks the handlers to the informers (each
   * replays what its cache holds, so every object is reconciled once at
   * start), then runs the workers. On abort: takes no new keys, waits for
   * in-flight reconciles up to `drainTimeoutMs`, unhooks. May run again
   * afterwards (a new leadership term) with a fresh queue.
   */
  async start(signal: AbortSignal): Promise<void> {
    if (this.#running) throw new Error(`controller ${this.name} is already running`);
    this.#running = true;
    if (this.#queue.shuttingDown) this.#queue = this.#newQueue();
    const queue = this.#queue;
    const unhook = this.#sources.map((s) => s.informer.addHandler(s.handler));
    this.#log.info('starting workers', { workers: this.#workers });
    const onAbort = (): void => queue.shutDown();
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) queue.shutDown();
    const resync = this.#resync(queue, signal);
    const workers = Array.from({ length: this.#workers }, () => this.#worker(queue, signal));
    try {
      await Promise.race([Promise.all(workers), this.#drained(queue, signal)]);
    } finally {
      for (const u of unhook) u();
      signal.removeEventListener('abort', onAbort);
      await resync;
      this.#running = false;
      this.#log.info('stopped');
    }
  }

  /** Resolves when the queue is shut down and in-flight work finished or timed out. */
  async #drained(queue: WorkQueue, signal: AbortSignal): Promise<void> {
    await new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      else signal.addEventListener('abort', () => resolve(), { once: true });
    });
    if (!(await queue.drained(this.#drainMs))) {
      this.#log.warn('in-flight reconciles did not finish in time', {
        timeoutMs: this.#drainMs,
        keys: queue.processingSince().length,
      });
    }
  }

  async #worker(queue: WorkQueue, signal: AbortSignal): Promise<void> {
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      try {
        await this.#processKey(queue, key, signal);
      } finally {
        queue.done(key);
      }
    }
  }

  /** One reconcile of `key`, and what its result means for the queue. */
  async #processKey(queue: WorkQueue, key: string, signal: AbortSignal): Promise<void> {
    const { namespace, name } = splitKey(key);
    const log = this.#log.child({ key });
    const started = this.#clock.now();
    this.#metrics?.activeWorkers(1);
    let label: ReconcileResultLabel;
    try {
      const result = await this.#reconcile({ key, namespace, name, signal, log });
      if (result?.requeueAfter !== undefined && result.requeueAfter > 0) {
        queue.forget(key);
        queue.addAfter(key, result.requeueAfter);
        label = 'requeue_after';
      } else if (result?.requeue) {
        queue.addRateLimited(key);
        label = 'requeue';
      } else {
        queue.forget(key);
        label = 'success';
      }
    } catch (err) {
      queue.addRateLimited(key);
      if (isExpectedConflict(err)) {
        // a lost race (stale resourceVersion, object deleted meanwhile): the
        // next reconcile reads the cache again; nothing is wrong
        label = 'requeue';
        log.debug('conflict, requeued', { error: describeError(err) });
      } else {
        label = 'error';
        log.error('reconcile failed; retrying with back-off', {
          error: describeError(err),
          failures: queue.numRequeues(key),
        });
      }
    } finally {
      this.#metrics?.activeWorkers(-1);
    }
    const seconds = (this.#clock.now() - started) / 1000;
    this.#metrics?.reconciled(label, seconds);
    log.debug('reconciled', { result: label, seconds });
  }

  /** Queues every primary key every resync period (with 10 % jitter). */
  async #resync(queue: WorkQueue, signal: AbortSignal): Promise<void> {
    if (this.#resyncMs <= 0) return;
    while (!signal.aborted) {
      await sleep(this.#clock, this.#resyncMs * (1 + 0.1 * this.#random()), signal);
      if (signal.aborted) return;
      for (const s of this.#sources) {
        if (s.primary) for (const key of s.informer.store.keys()) queue.add(key);
      }
    }
  }

  #newQueue(): WorkQueue {
    // the metrics read the queue at scrape time, after it exists
    const metrics = this.#runtimeMetrics?.workqueue(this.name, () => queue.processingSince());
    const queue: WorkQueue = new WorkQueue({
      name: this.name,
      clock: this.#clock,
      backoff: this.#backoff,
      random: this.#random,
      ...(metrics ? { metrics } : {}),
    });
    return queue;
  }
}
