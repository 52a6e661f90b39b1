// The work queue of a controller, with client-go's semantics:
//
// - `dirty` holds every key that needs processing; adding a key already in
//   it does nothing (a key queued twice is processed once);
// - `processing` holds the keys handed to a worker; a key added while it is
//   processing waits in `dirty` and is queued again by `done`, so no key is
//   ever processed by two workers at once, and a change that arrived during
//   a reconcile is never lost;
// - delays (`addAfter`) and per-key exponential back-off (`addRateLimited`,
//   cleared by `forget`) run on an injected clock.
//
// Concurrency is bounded by the number of workers calling `get` (see
// controller.ts), not here.
import { KeyedBackoff, reconcileBackoff } from './backoff.ts';
import type { BackoffPolicy } from './backoff.ts';
import { realClock } from './clock.ts';
import type { Cancel, Clock } from './clock.ts';

/** What the queue reports; metrics.ts implements it with Prometheus. */
export interface WorkQueueMetrics {
  depth(n: number): void;
  added(): void;
  /** Seconds a key waited between being queued and handed to a worker. */
  queued(seconds: number): void;
  /** Seconds a worker held a key. */
  worked(seconds: number): void;
  retried(): void;
}

export interface WorkQueueOptions {
  readonly name: string;
  readonly clock?: Clock;
  readonly backoff?: BackoffPolicy;
  readonly random?: () => number;
  readonly metrics?: WorkQueueMetrics;
}

const noMetrics: WorkQueueMetrics = {
  depth: () => {},
  added: () => {},
  queued: () => {},
  worked: () => {},
  retried: () => {},
};

export class WorkQueue {
  readonly name: string;
  readonly #clock: Clock;
  readonly #metrics: WorkQueueMetrics;
  readonly #backoff: KeyedBackoff;
  #queue: string[] = [];
  readonly #dirty = new Set<string>();
  /** key → when a worker took it */
  readonly #processing = new Map<string, number>();
  /** key → when it entered #queue */
  readonly #queuedAt = new Map<string, number>();
  readonly #delayed = new Map<string, { readonly at: number; readonly cancel: Cancel }>();
  #getters: ((key: string | undefined) => void)[] = [];
  #idle: (() => void)[] = [];
  #shuttingDown = false;
  #draining = false;

  constructor(opts: WorkQueueOptions) {
    this.name = opts.name;
    this.#clock = opts.clock ?? realClock;
    this.#metrics = opts.metrics ?? noMetrics;
    this.#backoff = new KeyedBackoff(opts.backoff ?? reconcileBackoff, opts.random);
  }

  /** Queues `key` unless it is already waiting; ignored after shutdown. */
  add(key: string): void {
    if (this.#shuttingDown || this.#dirty.has(key)) return;
    this.#metrics.added();
    this.#dirty.add(key);
    if (this.#processing.has(key)) return; // `done` queues it again
    this.#push(key);
  }

  /**
   * Queues `key` after `ms`. A key already waiting for an earlier time keeps
   * that time; one waiting for a later time is moved forward.
   */
  addAfter(key: string, ms: number): void {
    if (this.#shuttingDown) return;
    if (ms <= 0) return this.add(key);
    const at = this.#clock.now() + ms;
    const existing = this.#delayed.get(key);
    if (existing && existing.at <= at) return;
    existing?.cancel();
    const cancel = this.#clock.setTimer(ms, () => {
      this.#delayed.delete(key);
      this.add(key);
    });
    this.#delayed.set(key, { at, cancel });
  }

  /** Queues `key` after its next back-off delay (a failure). */
  addRateLimited(key: string): void {
    if (this.#shuttingDown) return;
    this.#metrics.retried();
    this.addAfter(key, this.#backoff.next(key));
  }

  /** The key succeeded: its back-off starts from the base again. */
  forget(key: string): void {
    this.#backoff.forget(key);
  }

  /** Failures of `key` since it was last forgotten. */
  numRequeues(key: string): number {
    return this.#backoff.failures(key);
  }

  /**
   * The next key to process, waiting for one if need be; `undefined` once the
   * queue shuts down. Every key returned must be handed back with `done`.
   */
  get(): Promise<string | undefined> {
    const key = this.#take();
    if (key !== undefined || this.#closedForGet()) return Promise.resolve(key);
    return new Promise((resolve) => this.#getters.push(resolve));
  }

  /** The worker finished `key`; if it was added meanwhile, it is queued again. */
  done(key: string): void {
    const started = this.#processing.get(key);
    if (started === undefined) return;
    this.#processing.delete(key);
    this.#metrics.worked((this.#clock.now() - started) / 1000);
    if (this.#dirty.has(key)) this.#push(key);
    if (this.#processing.size === 0) {
      const idle = this.#idle;
      this.#idle = [];
      for (const f of idle) f();
    }
    if (this.#closedForGet()) this.#wakeAll();
  }

  /** Keys ready to be handed out (not the delayed, not the ones processing). */
  len(): number {
    return this.#queue.length;
  }

  /** Keys waiting for a delay or back-off to pass. */
  delayedLen(): number {
    return this.#delayed.size;
  }

  /** When each key now processing was taken (for the "stuck worker" metrics). */
  processingSince(): number[] {
    return [...this.#processing.values()];
  }

  isProcessing(key: string): boolean {
    return this.#processing.has(key);
  }

  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /**
   * Stops taking work: adds are ignored, delayed keys are dropped, and `get`
   * returns `undefined` at once, even with keys queued (a level-based
   * controller loses nothing: whoever runs next relists). Keys being
   * processed finish; `drained` says when.
   */
  shutDown(): void {
    this.#shuttingDown = true;
    for (const d of this.#delayed.values()) d.cancel();
    this.#delayed.clear();
    this.#wakeAll();
  }

  /**
   * client-go's ShutDownWithDrain: no new keys, but the queued ones are still
   * handed out; resolves when all of them were processed (true) or after
   * `timeoutMs` (false).
   */
  async shutDownWithDrain(timeoutMs: number): Promise<boolean> {
    this.#draining = true;
    this.#shuttingDown = true;
    for (const d of this.#delayed.values()) d.cancel();
    this.#delayed.clear();
    const emptied = new Promise<void>((resolve) => {
      const check = (): void => {
        if (this.#queue.length === 0 && this.#processing.size === 0) resolve();
        else this.#idle.push(check);
      };
      check();
    });
    const ok = await this.#within(emptied, timeoutMs);
    this.#draining = false;
    this.#wakeAll();
    return ok;
  }

  /** Resolves true when no key is processing, or false after `timeoutMs`. */
  drained(timeoutMs: number): Promise<boolean> {
    if (this.#processing.size === 0) return Promise.resolve(true);
    return this.#within(new Promise<void>((resolve) => this.#idle.push(resolve)), timeoutMs);
  }

  #within(p: Promise<void>, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const cancel = this.#clock.setTimer(timeoutMs, () => resolve(false));
      void p.then(() => {
        cancel();
        resolve(true);
      });
    });
  }

  #closedForGet(): boolean {
    return this.#shuttingDown && (!this.#draining || this.#queue.length === 0);
  }

  #push(key: string): void {
    this.#queue.push(key);
    this.#queuedAt.set(key, this.#clock.now());
    this.#metrics.depth(this.#queue.length);
    const getter = this.#getters.shift();
    if (getter) getter(this.#take());
  }

  #take(): string | undefined {
    if (this.#shuttingDown && !this.#draining) return undefined;
    const key = this.#queue.shift();
    if (key === undefined) return undefined;
    const now = this.#clock.now();
    this.#metrics.depth(this.#queue.length);
    this.#metrics.queued((now - (this.#queuedAt.get(key) ?? now)) / 1000);
    this.#queuedAt.delete(key);
    this.#dirty.delete(key);
    this.#processing.set(key, now);
    return key;
  }

  #wakeAll(): void {
    const getters = this.#getters;
    this.#getters = [];
    for (const g of getters) g(undefined);
  }
}
