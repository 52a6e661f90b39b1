// The only place the scheduler writes to the API: it carries out the actions
// `plan` made of a cycle's decisions, over one keep-alive connection pool,
// with a bounded number of requests in flight. Three lanes, served in order:
// evictions and nominations first (an online pod waits on them), then binds,
// then Events and status conditions (best effort; they always keep one slot,
// so they are slowed by a burst of binds, never starved).
import type { V1Pod } from '@kubernetes/client-node';
import type { Clock, EventRecorder, Logger, RestClient } from '../../runtime/index.ts';
import { apiMessage, isNotFound } from '../../runtime/index.ts';
import {
  bindingRequest,
  eventReasons,
  evictionRequest,
  nominateRequest,
  unschedulableRequest,
  type Action,
  type Request,
} from './actions.ts';

export const lanes = ['urgent', 'bind', 'report'] as const;
export type Lane = (typeof lanes)[number];

export interface BinderOptions {
  readonly rest: RestClient;
  /** Requests in flight at most (binds, evictions and reports together). */
  readonly concurrency: number;
  readonly clock: Clock;
  readonly log: Logger;
  /** The cached pod, for its uid and as the object Events are about. */
  readonly pod: (key: string) => V1Pod | undefined;
  readonly events: EventRecorder;
  /** A bind ended: `err` undefined when it landed. `started`: when its cycle began. */
  readonly onBind: (pod: string, node: string, err: unknown, started: number) => void;
  readonly onEvict: (pod: string, err: unknown) => void;
  /** Counts every write sent, by what it writes. */
  readonly onWrite?: (what: WriteKind) => void;
}

export const writeKinds = ['binding', 'eviction', 'status', 'event'] as const;
export type WriteKind = (typeof writeKinds)[number];

const kindOf = (path: string): WriteKind =>
  path.endsWith('/binding') ? 'binding' : path.endsWith('/eviction') ? 'eviction' : 'status';

type Task = () => Promise<void>;

/** A FIFO with O(1) shift. */
class Fifo<T> {
  #items: T[] = [];
  #head = 0;
  get length(): number {
    return this.#items.length - this.#head;
  }
  push(x: T): void {
    this.#items.push(x);
  }
  shift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const x = this.#items[this.#head++];
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return x;
  }
}

export class Binder {
  readonly #o: BinderOptions;
  readonly #lanes: Record<Lane, Fifo<Task>> = {
    urgent: new Fifo(),
    bind: new Fifo(),
    report: new Fifo(),
  };
  #running = 0;
  #reporting = 0;
  #idle: PromiseWithResolvers<void> | undefined;

  constructor(opts: BinderOptions) {
    this.#o = opts;
  }

  /** Tasks queued and running. */
  get backlog(): number {
    return this.#running + lanes.reduce((n, l) => n + this.#lanes[l].length, 0);
  }

  /** Runs `fn` in a lane; resolves or rejects with it. */
  run<T>(lane: Lane, fn: () => Promise<T>): Promise<T> {
    const { promise, resolve, reject } = Promise.withResolvers<T>();
    this.#lanes[lane].push(() => fn().then(resolve, reject));
    this.#pump();
    return promise;
  }

  /** Carries out a cycle's actions (started: when the cycle began, for latency). */
  submit(actions: readonly Action[], started: number): void {
    for (const a of actions) {
      switch (a.kind) {
        case 'bind':
          this.#push('bind', () => this.#bind(a.pod, a.node, started));
          break;
        case 'evict':
          this.#push('urgent', () => this.#evict(a.pod, a.reason));
          break;
        case 'nominate':
          this.#push('urgent', () => this.#status(nominateRequest(a.pod, a.node), a.pod));
          break;
        case 'report':
          this.#report(a);
          break;
      }
    }
    this.#pump();
  }

  /** Resolves when nothing is queued or running. */
  idle(): Promise<void> {
    if (this.backlog === 0) return Promise.resolve();
    this.#idle ??= Promise.withResolvers<void>();
    return this.#idle.promise;
  }

  #push(lane: Lane, task: Task): void {
    this.#lanes[lane].push(task);
  }

  #next(): { task: Task; report: boolean } | undefined {
    const limit = this.#o.concurrency;
    if (this.#running < limit) {
      const t = this.#lanes.urgent.shift() ?? this.#lanes.bind.shift();
      if (t) return { task: t, report: false };
    }
    // reports get what is left, and always one slot of their own
    if (this.#running < limit || this.#reporting === 0) {
      const t = this.#lanes.report.shift();
      if (t) return { task: t, report: true };
    }
    return undefined;
  }

  #pump(): void {
    for (let n = this.#next(); n; n = this.#next()) {
      const { task, report } = n;
      this.#running++;
      if (report) this.#reporting++;
      void task()
        .catch((err: unknown) => this.#o.log.error('scheduler write failed', { err }))
        .finally(() => {
          this.#running--;
          if (report) this.#reporting--;
          this.#pump();
          if (this.backlog === 0 && this.#idle) {
            this.#idle.resolve();
            this.#idle = undefined;
          }
        });
    }
  }

  async #send(r: Request): Promise<void> {
    this.#o.onWrite?.(kindOf(r.path));
    await this.#o.rest.request(r.method, r.path, {
      body: r.body,
      ...(r.contentType ? { contentType: r.contentType } : {}),
    });
  }

  async #bind(key: string, node: string, started: number): Promise<void> {
    const pod = this.#o.pod(key);
    let err: unknown;
    try {
      if (!pod) throw new Error(`pod ${key} is gone`);
      await this.#send(bindingRequest(key, node, pod.metadata?.uid));
    } catch (e) {
      err = e;
      this.#o.log.warn('bind failed', { pod: key, node, err: apiMessage(e) });
    }
    this.#o.onBind(key, node, err, started);
  }

  async #evict(key: string, reason: string): Promise<void> {
    const pod = this.#o.pod(key);
    if (!pod || pod.metadata?.deletionTimestamp) return; // gone, or going already
    try {
      await this.#send(evictionRequest(key, pod.metadata?.uid));
    } catch (err) {
      if (isNotFound(err)) return;
      this.#o.log.warn('eviction failed', { pod: key, err: apiMessage(err) });
      this.#o.onEvict(key, err);
      return;
    }
    this.#o.events.event(pod, {
      type: 'Normal',
      reason: eventReasons.preempted,
      action: 'Preempting',
      note: reason,
    });
    this.#o.onEvict(key, undefined);
  }

  async #status(r: Request, key: string): Promise<void> {
    try {
      await this.#send(r);
    } catch (err) {
      if (!isNotFound(err))
        this.#o.log.warn('pod status write failed', { pod: key, err: apiMessage(err) });
    }
  }

  #report(a: Extract<Action, { kind: 'report' }>): void {
    const pod = this.#o.pod(a.pod);
    if (!pod) return;
    this.#o.events.event(pod, {
      type: 'Warning',
      reason: a.never ? eventReasons.never : eventReasons.unschedulable,
      action: 'Scheduling',
      note: a.reason,
    });
    if (a.condition) {
      const now = new Date(this.#o.clock.now());
      this.#push('report', () => this.#status(unschedulableRequest(a.pod, a.reason, now), a.pod));
    }
  }
}
