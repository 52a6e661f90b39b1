// The manager runs an operator process: it owns the shared informers, the
// controllers, leader election, the probe/metrics server and shutdown.
//
// Order of life: the probe server and the informers start at once (a standby
// replica keeps warm caches, so taking over is quick); controllers start
// only while this replica leads, after the caches synced. On SIGTERM/SIGINT:
// not ready, controllers take no new keys, in-flight reconciles finish (within
// `shutdownTimeoutMs`), the lease is released (a standby takes over at its
// next retry), informers stop, the server closes. If leadership is lost, the
// controllers stop at once and `start()` rejects with LeaderElectionLostError:
// the process should exit and be restarted clean, as controller-runtime does.
import type { KubeConfig } from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import { realClock } from './clock.ts';
import type { Clock } from './clock.ts';
import { Controller } from './controller.ts';
import type { ControllerOptions, KeyMapper } from './controller.ts';
import { EventRecorder, restEventSink } from './events.ts';
import { InformerFactory } from './informer-factory.ts';
import type { InformerDefaults } from './informer-factory.ts';
import type { InformerScope } from './informer.ts';
import { LeaderElectionLostError, LeaderElector } from './leader-election.ts';
import type { LeaderElectionConfig } from './leader-election.ts';
import { jsonLogger } from './logger.ts';
import { hookShutdownSignals } from './process.ts';
import type { Logger } from './logger.ts';
import { collectProcessMetrics, RuntimeMetrics } from './metrics.ts';
import type { KubeObject } from './object.ts';
import { ownerKey } from './owner.ts';
import { defaultOwnedPredicate, defaultPrimaryPredicate } from './predicates.ts';
import type { Predicate } from './predicates.ts';
import { serveProbes } from './probe-server.ts';
import type { ProbeServer } from './probe-server.ts';
import { informerRules, mergeRules, runtimeRules, validateRules } from './rbac.ts';
import type { PolicyRule } from './rbac.ts';
import type { ResourceType } from './resource.ts';
import { RestClient } from './rest.ts';

export interface ForSpec<T extends KubeObject> {
  readonly type: ResourceType;
  /** Default: defaultPrimaryPredicate (no reconcile on status-only changes). */
  readonly predicates?: readonly Predicate<T>[];
  readonly scope?: InformerScope;
}

export interface OwnsSpec {
  /** Objects of this kind whose managing controller is a primary object wake it. */
  readonly type: ResourceType;
  /** Default: defaultOwnedPredicate (every real change). */
  readonly predicates?: readonly Predicate[];
  readonly scope?: InformerScope;
}

export interface WatchesSpec<T extends KubeObject = KubeObject> {
  readonly type: ResourceType;
  /** The primary keys an object of this kind concerns (e.g. every IMService, for a Campus). */
  readonly map: KeyMapper<T>;
  readonly predicates?: readonly Predicate<T>[];
  readonly scope?: InformerScope;
  /** Coalesce: a mapped key waits this long, and every event meanwhile joins one reconcile. */
  readonly delayMs?: number;
}

/**
 * A watch of another kind with its object type erased, so that one list
 * holds watches of several kinds while each map and predicate was checked
 * against its own kind. Made by `watch()`.
 */
export interface Watch {
  readonly type: ResourceType;
  /** Hooks the watch to `controller`, on the shared informer of its type and scope. */
  readonly hook: (controller: Controller, informers: InformerFactory) => void;
}

/**
 * A typed watch for `ControllerSpec.watches`: `map` and `predicates` see
 * objects of `T`, the kind `type` names.
 *
 * ```ts
 * watches: [watch<V1Node>({ type: kinds.Node, map: (n) => campusesOf(n) })],
 * ```
 */
export function watch<T extends KubeObject>(spec: WatchesSpec<T>): Watch {
  return {
    type: spec.type,
    hook: (controller, informers) =>
      controller.watchMapped(
        informers.informerFor<T>(spec.type, spec.scope),
        spec.map,
        spec.predicates ?? [defaultOwnedPredicate],
        spec.delayMs,
      ),
  };
}

/** A controller as the manager builds it (controller-runtime's builder). */
export interface ControllerSpec<T extends KubeObject = KubeObject> extends Omit<
  ControllerOptions,
  'clock' | 'log' | 'metrics' | 'random'
> {
  readonly for: ForSpec<T>;
  readonly owns?: readonly OwnsSpec[];
  readonly watches?: readonly Watch[];
  /**
   * The API calls the reconciler makes itself (rbac.ts): its writes, and any
   * read that is not through an informer. The list and watch of every
   * informer, events and the lease are the runtime's (`Manager.rbacRules`).
   * Declared beside the controller, so a test can run it with nothing more.
   */
  readonly rbac: readonly PolicyRule[];
}

export interface ManagerOptions {
  readonly kubeConfig: KubeConfig;
  /** For logs and the default lease name (default `yard-operator`). */
  readonly name?: string;
  /** Namespace scope of namespaced kinds (default: all namespaces). */
  readonly namespace?: string;
  /** Leader election, or false to run controllers at once (one replica, tests). */
  readonly leaderElection?: LeaderElectionConfig | false;
  /** Port of /healthz, /readyz and /metrics (default 8080; 0: any free; false: none). */
  readonly probePort?: number | false;
  readonly probeHost?: string;
  /** Default: a new registry with the process metrics in it. */
  readonly registry?: Registry;
  readonly log?: Logger;
  readonly clock?: Clock;
  /** Bound on the whole graceful shutdown (default 30 s). */
  readonly shutdownTimeoutMs?: number;
  /** Stop gracefully on SIGTERM and SIGINT (default true). */
  readonly handleSignals?: boolean;
  /** Informer tuning: stall timeout, back-off, page size. */
  readonly informers?: Partial<Omit<InformerDefaults, 'rest' | 'clock' | 'log'>>;
  readonly rest?: RestClient;
}

export { LeaderElectionLostError } from './leader-election.ts';

type State = 'new' | 'running' | 'stopping' | 'stopped';

export class Manager {
  readonly name: string;
  readonly rest: RestClient;
  readonly informers: InformerFactory;
  readonly metrics: RuntimeMetrics;
  readonly log: Logger;
  readonly elector: LeaderElector | undefined;
  readonly #o: ManagerOptions;
  readonly #clock: Clock;
  readonly #controllers: Controller[] = [];
  readonly #recorders = new Map<string, EventRecorder>();
  readonly #rbac = new Map<string, readonly PolicyRule[]>();
  readonly #stopping = new AbortController();
  #state: State = 'new';
  #server: ProbeServer | undefined;
  #running: Promise<void> | undefined;
  #finished: PromiseWithResolvers<void> = Promise.withResolvers<void>();
  #stopped: Promise<void> | undefined;
  #unhookSignals: (() => void) | undefined;

  constructor(opts: ManagerOptions) {
    this.#o = opts;
    this.name = opts.name ?? 'yard-operator';
    this.#clock = opts.clock ?? realClock;
    this.log =
      opts.log ??
      jsonLogger({ fields: { manager: this.name }, now: () => new Date(this.#clock.now()) });
    let registry = opts.registry;
    if (!registry) {
      registry = new Registry();
      collectProcessMetrics(registry);
    }
    this.metrics = new RuntimeMetrics(registry, () => this.#clock.now());
    this.rest =
      opts.rest ??
      new RestClient(opts.kubeConfig, {
        userAgent: this.name,
        clock: this.#clock,
        metrics: this.metrics.restClient(),
      });
    this.informers = new InformerFactory({
      ...opts.informers,
      rest: this.rest,
      clock: this.#clock,
      log: this.log,
      metrics: this.metrics,
      ...(opts.namespace ? { defaultNamespace: opts.namespace } : {}),
    });
    const le = opts.leaderElection;
    this.elector = le
      ? new LeaderElector({
          ...le,
          rest: this.rest,
          clock: this.#clock,
          log: this.log,
          metrics: this.metrics.leaderElection(le.name),
          onStartedLeading: (signal) => this.#runControllers(signal),
          onStoppedLeading: (reason) => {
            if (reason === 'lost' && this.#state === 'running') {
              void this.#shutdown(new LeaderElectionLostError());
            }
          },
          onNewLeader: (id) => this.log.info('leader observed', { leader: id }),
        })
      : undefined;
  }

  /** Builds a controller: its informers are made (and warmed) now, it runs while leading. */
  add<T extends KubeObject>(spec: ControllerSpec<T>): Controller {
    if (this.#state !== 'new') throw new Error('add controllers before start()');
    validateRules(`controller ${spec.name}`, spec.rbac);
    if (this.#controllers.some((c) => c.name === spec.name)) {
      throw new Error(`a controller named ${spec.name} exists already`);
    }
    const c = new Controller({
      ...spec,
      clock: this.#clock,
      log: this.log,
      metrics: this.metrics,
      drainTimeoutMs: spec.drainTimeoutMs ?? this.#o.shutdownTimeoutMs ?? 30_000,
    });
    const primary = this.informers.informerFor<T>(spec.for.type, spec.for.scope);
    c.watchPrimary(primary, spec.for.predicates ?? [defaultPrimaryPredicate as Predicate<T>]);
    for (const owned of spec.owns ?? []) {
      c.watchMapped(
        this.informers.informerFor(owned.type, owned.scope),
        (o) => {
          const k = ownerKey(o, spec.for.type);
          return k === undefined ? [] : [k];
        },
        owned.predicates ?? [defaultOwnedPredicate],
      );
    }
    for (const w of spec.watches ?? []) w.hook(c, this.informers);
    this.#controllers.push(c);
    this.#rbac.set(c.name, spec.rbac);
    return c;
  }

  /**
   * Every RBAC rule this process needs, merged: what each controller
   * declared, list and watch of every informer made so far (call it after
   * adding the controllers), and the runtime's own (events; the lease if
   * leader election is on). The Helm chart's ClusterRole is generated from it.
   */
  rbacRules(): PolicyRule[] {
    return mergeRules(
      runtimeRules({ leaderElection: this.elector !== undefined }),
      informerRules(this.informers.informers().map((i) => i.type)),
      ...this.#rbac.values(),
    );
  }

  /** One recorder per reporting controller (`yard.dev/campus-controller`). */
  eventRecorder(reportingController: string): EventRecorder {
    let r = this.#recorders.get(reportingController);
    if (!r) {
      r = new EventRecorder({
        sink: restEventSink(this.rest),
        reportingController,
        reportingInstance: this.elector?.identity ?? process.env['POD_NAME'] ?? this.name,
        clock: this.#clock,
        log: this.log,
      });
      this.#recorders.set(reportingController, r);
    }
    return r;
  }

  controllers(): readonly Controller[] {
    return this.#controllers;
  }

  /** The probe server's port (after start). */
  get port(): number | undefined {
    return this.#server?.port;
  }

  /** Why the manager is not ready, or undefined when it is. */
  notReady(): string | undefined {
    if (this.#state !== 'running') return `manager is ${this.#state}`;
    const unsynced = this.informers.unsynced();
    if (unsynced.length) return `caches not synced: ${unsynced.join('; ')}`;
    return this.elector?.unhealthy();
  }

  /**
   * Runs until stopped: resolves after a graceful stop, rejects with
   * LeaderElectionLostError (after stopping everything) if leadership is lost.
   */
  async start(): Promise<void> {
    if (this.#state !== 'new') throw new Error(`manager already ${this.#state}`);
    this.#state = 'running';
    if (this.#o.handleSignals ?? true) this.#hookSignals();
    try {
      if (this.#o.probePort !== false) {
        this.#server = await serveProbes({
          port: this.#o.probePort ?? 8080,
          ...(this.#o.probeHost ? { host: this.#o.probeHost } : {}),
          registry: this.metrics.registry,
          log: this.log,
          healthz: { ping: () => undefined },
          readyz: {
            manager: () => (this.#state === 'running' ? undefined : `manager is ${this.#state}`),
            informers: () => {
              const u = this.informers.unsynced();
              return u.length ? `not synced: ${u.join('; ')}` : undefined;
            },
            ...(this.elector ? { 'leader-election': () => this.elector?.unhealthy() } : {}),
          },
        });
      }
    } catch (err) {
      await this.#shutdown(new Error('could not serve probes', { cause: err }));
      return this.#finished.promise;
    }
    this.informers.start();
    if (this.elector) this.elector.start();
    else this.#running = this.#runControllers(this.#stopping.signal);
    this.log.info('started', {
      controllers: this.#controllers.map((c) => c.name),
      leaderElection: this.elector ? this.elector.identity : false,
    });
    return this.#finished.promise;
  }

  /** Graceful stop (idempotent); resolves when everything stopped. */
  stop(): Promise<void> {
    return this.#shutdown();
  }

  #runControllers(leading: AbortSignal): Promise<void> {
    const signal = AbortSignal.any([leading, this.#stopping.signal]);
    this.#running = (async () => {
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
      this.log.info('caches synced; starting controllers');
      await Promise.all(this.#controllers.map((c) => c.start(signal)));
    })();
    return this.#running;
  }

  #shutdown(failure?: Error): Promise<void> {
    this.#stopped ??= this.#doShutdown(failure);
    return this.#stopped;
  }

  async #doShutdown(failure: Error | undefined): Promise<void> {
    const was = this.#state;
    this.#state = 'stopping';
    this.log.info('stopping', failure ? { reason: failure.message } : {});
    const bound = this.#o.shutdownTimeoutMs ?? 30_000;
    const timedOut = Symbol('timeout');
    const within = async (p: Promise<unknown>): Promise<unknown> => {
      let cancel = (): void => {};
      const t = new Promise(
        (resolve) => (cancel = this.#clock.setTimer(bound, () => resolve(timedOut))),
      );
      const r = await Promise.race([p, t]);
      cancel();
      return r;
    };
    try {
      // 1. take no new keys; let in-flight reconciles finish
      this.#stopping.abort();
      if ((await within(this.#running ?? Promise.resolve())) === timedOut) {
        this.log.warn('controllers did not stop in time', { timeoutMs: bound });
      }
      await within(Promise.all([...this.#recorders.values()].map((r) => r.close())));
      // 2. hand the lease over (not ours any more if it was lost)
      if (was !== 'new')
        await within(this.elector?.stop({ release: !failure }) ?? Promise.resolve());
      // 3. caches and the server
      await this.informers.stop();
      await this.#server?.close();
    } catch (err) {
      this.log.error('error while stopping', { err });
    } finally {
      this.#unhookSignals?.();
      this.#state = 'stopped';
      this.log.info('stopped');
      if (failure) this.#finished.reject(failure);
      else this.#finished.resolve();
    }
  }

  #hookSignals(): void {
    this.#unhookSignals = hookShutdownSignals(this.log, () => this.stop());
  }
}
