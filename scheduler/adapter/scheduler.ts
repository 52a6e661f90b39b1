// The scheduler process: shared informers over nodes, pods (all namespaces),
// Campus, OfflineQueue and OfflineJob objects feed the cache (cache.ts); the
// leader runs the loop — take a batch of pending pods, ask the core for a
// cycle, carry out its decisions (binder.ts) — and a standby keeps warm
// caches to take over at once. Probes and metrics on /healthz /readyz
// /metrics.
//
// The loop never spins: it runs when a pod arrives, capacity is freed, the
// world's shape changes (a node, a shield, a queue), a back-off ends or a
// shield expires, and otherwise sleeps (re-trying unschedulable pods every
// `retryUnschedulableMs` all the same, as kube-scheduler flushes its
// unschedulable queue). Decisions are made in batches; binds go out
// concurrently while the next batch is decided. Beside the loop, the leader
// publishes what it decided to Campus, OfflineQueue and OfflineJob status
// (publish.ts).
import type { KubeConfig, V1Node, V1Pod } from '@kubernetes/client-node';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type {
  Campus as CampusObject,
  OfflineJob,
  OfflineQueue as QueueObject,
} from '../../crds/index.ts';
import { yardKinds } from '../../crds/index.ts';
import {
  EventRecorder,
  InformerFactory,
  jsonLogger,
  keyOf,
  kinds,
  LeaderElectionLostError,
  hookShutdownSignals,
  LeaderElector,
  realClock,
  RestClient,
  RuntimeMetrics,
  serveProbes,
  sleep,
  type Clock,
  type EventSink,
  type Informer,
  type LeaderElectionConfig,
  type Logger,
  type ProbeServer,
} from '../../runtime/index.ts';
import {
  cycle,
  standing,
  defaultPolicy,
  type Decision,
  type Policy,
  type Resources,
} from '../core/index.ts';
import { plan } from './actions.ts';
import { asksFor } from './asks.ts';
import { Reported } from './reported.ts';
import { Binder } from './binder.ts';
import { SchedulerCache, type Change } from './cache.ts';
import { jobKeyOf, podKey, podResources, queueOf } from './mapping.ts';
import { Publisher } from './publish.ts';
import { yardSchedulerName } from '../../crds/names.ts';
import { SchedulerMetrics } from './metrics.ts';

export interface SchedulerOptions {
  readonly kubeConfig: KubeConfig;
  /** Pods whose spec.schedulerName is this are Yard's (default `yard`). */
  readonly schedulerName?: string;
  /** Leader election, or false to schedule at once (one replica, tests). */
  readonly leaderElection?: LeaderElectionConfig | false;
  /** Port of /healthz /readyz /metrics (0: any free; false: none). Default 10251. */
  readonly probePort?: number | false;
  readonly probeHost?: string;
  readonly log?: Logger;
  readonly clock?: Clock;
  readonly registry?: Registry;
  readonly policy?: Policy;
  /** Binds, evictions and status writes in flight at most (default 48). */
  readonly concurrency?: number;
  /** Pending pods per cycle at most (default 2,000; a gang counts whole). */
  readonly batchSize?: number;
  /** Unschedulable pods are tried again at least this often (default 30 s). */
  readonly retryUnschedulableMs?: number;
  /** A failed bind is tried again after this long (default 1 s). */
  readonly bindBackoffMs?: number;
  /** A pending pod's changed reason is reported at most this often (default 10 s). */
  readonly reportIntervalMs?: number;
  /** Taint keys Yard's pods tolerate (default none: every NoSchedule/NoExecute taint keeps them off). */
  readonly toleratedTaints?: readonly string[];
  /**
   * Publish grants and shares to Campus, OfflineQueue and OfflineJob status
   * while leading (default true): at most this often per object (default
   * 1 s), and campuses and queues at least every `heartbeatMs` (default 30 s).
   */
  readonly publish?: false | { readonly intervalMs?: number; readonly heartbeatMs?: number };
  /** Stop gracefully on SIGTERM/SIGINT (default true). */
  readonly handleSignals?: boolean;
  /** Bound on the graceful stop (default 10 s). */
  readonly shutdownTimeoutMs?: number;
  readonly rest?: RestClient;
}

/** What one cycle did, for tests and logs. */
export interface CycleReport {
  readonly asks: number;
  readonly pods: number;
  readonly decisions: Readonly<Partial<Record<Decision['kind'], number>>>;
}

type State = 'new' | 'running' | 'stopping' | 'stopped';

export class YardScheduler {
  readonly rest: RestClient;
  readonly informers: InformerFactory;
  readonly metrics: SchedulerMetrics;
  readonly runtimeMetrics: RuntimeMetrics;
  readonly log: Logger;
  readonly elector: LeaderElector | undefined;
  readonly cache: SchedulerCache;
  readonly #o: SchedulerOptions;
  readonly #clock: Clock;
  readonly #name: string;
  readonly #policy: Policy;
  readonly #binder: Binder;
  readonly #events: EventRecorder;
  readonly #pods: Informer<V1Pod>;
  readonly #campuses: Informer<CampusObject>;
  readonly #jobs: Informer<OfflineJob>;
  readonly #queues: Informer<QueueObject>;
  readonly #publisher: Publisher | undefined;
  /** What each pending pod requests, read once per pod object. */
  readonly #requests = new WeakMap<V1Pod, Resources>();
  readonly #stopping = new AbortController();
  /** What Yard last wrote to a pending pod's status, ahead of the cache. */
  readonly #reported = new Reported();
  #state: State = 'new';
  #server: ProbeServer | undefined;
  #loop: Promise<void> | undefined;
  #leading = false;
  #freed = false;
  #wake: (() => void) | undefined;
  #lastFlush = 0;
  #stopped: Promise<void> | undefined;
  readonly #finished = Promise.withResolvers<void>();
  #unhook: (() => void) | undefined;

  constructor(opts: SchedulerOptions) {
    this.#o = opts;
    this.#clock = opts.clock ?? realClock;
    this.#name = opts.schedulerName ?? yardSchedulerName;
    this.#policy = opts.policy ?? defaultPolicy;
    this.log = opts.log ?? jsonLogger({ fields: { component: 'yard-scheduler' } });
    let registry = opts.registry;
    if (!registry) {
      registry = new Registry();
      collectDefaultMetrics({ register: registry });
    }
    this.runtimeMetrics = new RuntimeMetrics(registry, () => this.#clock.now());
    this.rest = opts.rest ?? new RestClient(opts.kubeConfig, { userAgent: 'yard-scheduler' });
    this.informers = new InformerFactory({
      rest: this.rest,
      clock: this.#clock,
      log: this.log,
      metrics: this.runtimeMetrics,
    });
    const jobs = this.informers.informerFor<OfflineJob>(yardKinds.OfflineJob);
    this.#jobs = jobs;
    this.cache = new SchedulerCache({
      schedulerName: this.#name,
      tolerated: new Set(opts.toleratedTaints ?? []),
      now: () => this.#clock.now(),
      job: (key) => jobs.store.get(key),
      onChange: (c) => this.#changed(c),
    });
    this.metrics = new SchedulerMetrics(registry, () => this.cache.queue.counts());
    const le = opts.leaderElection;
    this.elector = le
      ? new LeaderElector({
          ...le,
          rest: this.rest,
          clock: this.#clock,
          log: this.log,
          metrics: this.runtimeMetrics.leaderElection(le.name),
          onStartedLeading: (signal) => this.#lead(signal),
          onStoppedLeading: (reason) => {
            if (reason === 'lost' && this.#state === 'running')
              void this.#shutdown(new LeaderElectionLostError());
          },
          onNewLeader: (id) => this.log.info('leader observed', { leader: id }),
        })
      : undefined;
    // Events and status conditions go through the binder's lowest lane, so a
    // burst of unschedulable pods cannot crowd out binds
    const sink: EventSink = {
      create: (e) =>
        this.#binder.run('report', () => {
          this.metrics.wrote('event');
          return this.rest.create(kinds.Event, e).then(() => undefined);
        }),
      patchSeries: (namespace, name, series) =>
        this.#binder.run('report', () => {
          this.metrics.wrote('event');
          return this.rest
            .request('PATCH', `/apis/events.k8s.io/v1/namespaces/${namespace}/events/${name}`, {
              body: { series },
              contentType: 'application/merge-patch+json',
            })
            .then(() => undefined);
        }),
    };
    this.#events = new EventRecorder({
      sink,
      reportingController: 'yard.dev/scheduler',
      reportingInstance: this.elector?.identity ?? process.env['POD_NAME'] ?? 'yard-scheduler',
      clock: this.#clock,
      log: this.log,
    });
    this.#pods = this.informers.informerFor<V1Pod>(kinds.Pod);
    this.#binder = new Binder({
      rest: this.rest,
      concurrency: opts.concurrency ?? 48,
      clock: this.#clock,
      log: this.log,
      pod: (key) => this.#pods.store.get(key),
      events: this.#events,
      onBind: (pod, node, err, started) => this.#bound(pod, node, err, started),
      onEvict: (pod, err) => {
        if (err !== undefined) this.cache.evictionFailed(pod);
      },
      onWrite: (kind) => this.metrics.wrote(kind),
    });
    this.#campuses = this.informers.informerFor<CampusObject>(yardKinds.Campus);
    this.#queues = this.informers.informerFor<QueueObject>(yardKinds.OfflineQueue);
    const publish = opts.publish ?? {};
    this.#publisher =
      publish === false
        ? undefined
        : new Publisher({
            rest: this.rest,
            clock: this.#clock,
            log: this.log,
            campuses: this.#campuses,
            queues: this.#queues,
            jobs: this.#jobs,
            grants: () =>
              this.cache.stale ? undefined : standing(this.cache.ledger(), this.#policy),
            pending: () => this.#pendingOffline(),
            run: (write) => this.#binder.run('report', write),
            onWrite: () => this.metrics.wrote('publish'),
            ...publish,
          });
    this.#watch();
  }

  *#pendingOffline(): Iterable<{ queue: string; requests: Resources }> {
    for (const pod of this.cache.queue.offlinePending()) {
      let requests = this.#requests.get(pod);
      if (!requests) this.#requests.set(pod, (requests = podResources(pod)));
      const job = jobKeyOf(pod);
      yield {
        queue: queueOf(pod, job === undefined ? undefined : this.#jobs.store.get(job)),
        requests,
      };
    }
  }

  #watch(): void {
    const c = this.cache;
    const jobs = this.#jobs;
    const campuses = this.#campuses;
    campuses.addHandler({
      onAdd: () => c.setCampuses(campuses.store.list()),
      onUpdate: () => c.setCampuses(campuses.store.list()),
      onDelete: () => c.setCampuses(campuses.store.list()),
    });
    this.informers.informerFor<V1Node>(kinds.Node).addHandler({
      onAdd: (n) => c.setNode(n),
      onUpdate: (_, n) => c.setNode(n),
      onDelete: (n) => c.deleteNode(n.metadata?.name ?? ''),
    });
    this.#queues.addHandler({
      onAdd: (q) => c.setQueue(q),
      onUpdate: (_, q) => c.setQueue(q),
      onDelete: (q) => c.deleteQueue(q.metadata.name ?? ''),
    });
    jobs.addHandler({
      onAdd: (j) => c.setJob(j),
      onUpdate: (_, j) => c.setJob(j),
      onDelete: (j) => c.deleteJob(keyOf(j)),
    });
    this.#pods.addHandler({
      onAdd: (p) => c.setPod(p),
      onUpdate: (_, p) => c.setPod(p),
      onDelete: (p) => {
        const key = podKey(p);
        this.#reported.forget(key);
        c.deletePod(key);
      },
    });
  }

  get port(): number | undefined {
    return this.#server?.port;
  }

  /** True while this replica schedules. */
  get leading(): boolean {
    return this.#leading;
  }

  /** Runs until stopped; rejects with LeaderElectionLostError if leadership is lost. */
  async start(): Promise<void> {
    if (this.#state !== 'new') throw new Error(`scheduler already ${this.#state}`);
    this.#state = 'running';
    if (this.#o.handleSignals ?? true) this.#hookSignals();
    if (this.#o.probePort !== false) {
      try {
        this.#server = await serveProbes({
          port: this.#o.probePort ?? 10251,
          ...(this.#o.probeHost ? { host: this.#o.probeHost } : {}),
          registry: this.metrics.registry,
          log: this.log,
          healthz: { ping: () => undefined },
          readyz: {
            scheduler: () =>
              this.#state === 'running' ? undefined : `scheduler is ${this.#state}`,
            informers: () => {
              const u = this.informers.unsynced();
              return u.length ? `not synced: ${u.join('; ')}` : undefined;
            },
            ...(this.elector ? { 'leader-election': () => this.elector?.unhealthy() } : {}),
          },
        });
      } catch (err) {
        void this.#shutdown(new Error('could not serve probes', { cause: err }));
        return this.#finished.promise;
      }
    }
    this.informers.start();
    if (this.elector) this.elector.start();
    else void this.#lead(this.#stopping.signal);
    this.log.info('started', {
      scheduler: this.#name,
      leaderElection: this.elector?.identity ?? false,
    });
    return this.#finished.promise;
  }

  stop(): Promise<void> {
    return this.#shutdown();
  }

  // --- the loop -------------------------------------------------------------------

  #changed(c: Change): void {
    if (c === 'freed') this.#freed = true;
    this.#wake?.();
  }

  #lead(leading: AbortSignal): Promise<void> {
    const signal = AbortSignal.any([leading, this.#stopping.signal]);
    this.#loop = (async () => {
      while (!signal.aborted) {
        try {
          await this.informers.waitForSync({ signal, timeoutMs: 30_000 });
          break;
        } catch (err) {
          if (signal.aborted) return;
          this.log.warn('waiting for caches to sync', { err, unsynced: this.informers.unsynced() });
        }
      }
      if (signal.aborted) return;
      this.#leading = true;
      this.log.info('caches synced; scheduling');
      try {
        await Promise.all([this.#run(signal), this.#publisher?.run(signal)]);
      } finally {
        this.#leading = false;
      }
    })();
    return this.#loop;
  }

  async #run(signal: AbortSignal): Promise<void> {
    const onAbort = (): void => this.#wake?.();
    signal.addEventListener('abort', onAbort);
    this.#lastFlush = this.#clock.now();
    try {
      while (!signal.aborted) {
        const wait = this.#idleFor();
        if (wait > 0) await this.#sleep(wait, signal);
        if (signal.aborted) break;
        if (this.#idleFor() > 0) continue;
        try {
          const report = this.runOnce();
          if (report.pods > 0 || report.decisions.revoke)
            this.log.debug('cycle', { ...report.decisions, pods: report.pods });
        } catch (err) {
          // a bug must not stop scheduling for good: say so, rebuild the books, go on
          this.log.error('scheduling cycle failed; rebuilding the books', { err });
          this.metrics.attempt('error', 0);
          this.cache.invalidate();
          await this.#sleep(1_000, signal);
        }
        // let responses and watch events in before the next batch
        await new Promise<void>((r) => setImmediate(r));
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  /** 0 when a cycle is due; otherwise how long the loop may sleep. */
  #idleFor(): number {
    const now = this.#clock.now();
    const q = this.cache.queue;
    const backoff = q.promote(now);
    this.cache.refreshTime(); // a shield that just lifted
    if (this.#freed || this.cache.stale || q.hasActive()) return 0;
    const retry = this.#o.retryUnschedulableMs ?? 30_000;
    if (now - this.#lastFlush >= retry) {
      this.#lastFlush = now;
      this.cache.expireInFlight(now - 5 * 60_000);
      if (q.activateAll() > 0) return 0;
    }
    const shield = this.cache.nextTimeChange();
    const next = Math.min(
      this.#lastFlush + retry,
      backoff ?? Infinity,
      shield === undefined ? Infinity : shield + 1,
    );
    return Math.max(1, next - now);
  }

  async #sleep(ms: number, signal: AbortSignal): Promise<void> {
    await new Promise<void>((resolve) => {
      const cancel = this.#clock.setTimer(ms, done);
      function done(): void {
        cancel();
        resolve();
      }
      this.#wake = done;
      if (signal.aborted) done();
    });
    this.#wake = undefined;
  }

  /**
   * One cycle, synchronous: the pods taken, the core's decisions, the books
   * updated and the writes queued (not awaited). Exposed so tests can step.
   */
  runOnce(): CycleReport {
    const started = this.#clock.now();
    const q = this.cache.queue;
    this.cache.refreshTime();
    const ledger = this.cache.ledger();
    if (this.#freed) {
      this.#freed = false;
      q.activateAll();
    }
    q.promote(started);
    const { online, gangs } = q.pop(this.#o.batchSize ?? 2_000);
    const asks = asksFor(
      { ledger, campuses: this.#campuses.store.list(), job: (k) => this.#jobs.store.get(k) },
      online,
      gangs,
    );
    const taking = new Set<string>([...online, ...[...gangs.values()].flat()].map(podKey));

    const result = cycle(ledger, asks, this.#policy);
    const decided = this.#clock.now();
    this.metrics.cycle((decided - started) / 1000);
    const counts = this.#record(result.decisions, taking, (decided - started) / 1000);
    for (const key of taking) q.park(key);
    this.metrics.grants(result.grants);
    const now = this.#clock.now();
    const statusOf = (key: string) =>
      this.#reported.statusOf(key, this.cache.queue.get(key) ?? this.#pods.store.get(key));
    const actions = plan(result.decisions, statusOf, {
      now,
      minIntervalMs: this.#o.reportIntervalMs ?? 10_000,
    });
    for (const a of actions) {
      if (a.kind === 'nominate') this.#reported.remember(a.pod, { nominated: a.node });
      if (a.kind === 'report')
        this.#reported.remember(a.pod, { message: a.reason, at: now, never: a.never });
    }
    this.#binder.submit(actions, started);
    return { asks: asks.length, pods: taking.size + (counts.bind ?? 0), decisions: counts };
  }

  /** Books the decisions: binds in flight, metrics; returns their counts. `taking` loses the bound. */
  #record(
    decisions: readonly Decision[],
    taking: Set<string>,
    seconds: number,
  ): Partial<Record<Decision['kind'], number>> {
    const counts: Partial<Record<Decision['kind'], number>> = {};
    let unschedulable = 0;
    for (const d of decisions) {
      counts[d.kind] = (counts[d.kind] ?? 0) + 1;
      if (d.kind === 'bind') {
        this.cache.binding(d.pod, d.node);
        this.#reported.forget(d.pod);
        taking.delete(d.pod);
      } else if (d.kind === 'preempt' || d.kind === 'revoke') {
        if (d.kind === 'preempt') {
          this.metrics.preemption(d.victims.length);
          unschedulable++;
        }
        for (const _ of d.victims)
          this.metrics.evicted(d.kind === 'preempt' ? 'preemption' : 'revocation');
      } else {
        unschedulable += d.pods.length;
      }
    }
    if (unschedulable > 0) this.metrics.attempt('unschedulable', seconds, unschedulable);
    return counts;
  }

  #bound(pod: string, node: string, err: unknown, started: number): void {
    const seconds = (this.#clock.now() - started) / 1000;
    if (err === undefined) {
      this.cache.bindLanded(pod);
      this.metrics.attempt('scheduled', seconds);
      return;
    }
    this.metrics.attempt('error', seconds);
    const retryAt = this.#clock.now() + (this.#o.bindBackoffMs ?? 1_000);
    this.cache.bindFailed(pod, this.#pods.store.get(pod), retryAt);
    this.log.debug('bind rolled back', { pod, node });
  }

  // --- stopping -----------------------------------------------------------------------

  #shutdown(failure?: Error): Promise<void> {
    this.#stopped ??= this.#doShutdown(failure);
    return this.#stopped;
  }

  async #doShutdown(failure: Error | undefined): Promise<void> {
    const was = this.#state;
    this.#state = 'stopping';
    this.log.info('stopping', failure ? { reason: failure.message } : {});
    const bound = this.#o.shutdownTimeoutMs ?? 10_000;
    const within = (p: Promise<unknown>): Promise<unknown> =>
      Promise.race([p, sleep(this.#clock, bound)]);
    try {
      this.#stopping.abort();
      await within(this.#loop ?? Promise.resolve());
      // writes already decided finish (a bind half-sent is the API's to settle)
      await within(this.#binder.idle());
      await within(this.#events.close());
      if (was !== 'new')
        await within(this.elector?.stop({ release: !failure }) ?? Promise.resolve());
      await this.informers.stop();
      await this.#server?.close();
    } catch (err) {
      this.log.error('error while stopping', { err });
    } finally {
      this.#unhook?.();
      this.#state = 'stopped';
      this.log.info('stopped');
      if (failure) this.#finished.reject(failure);
      else this.#finished.resolve();
    }
  }

  #hookSignals(): void {
    this.#unhook = hookShutdownSignals(this.log, () => this.stop());
  }
}
