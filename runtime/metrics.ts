// Prometheus metrics under the names controller-runtime and client-go use, so
// the dashboards and alerts platform teams already have work unchanged.
// Everything registers in a registry passed in (one per manager), never only
// the global one: two managers in one process, or two tests, do not collide.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { realClock } from './clock.ts';
import type { WorkQueueMetrics } from './workqueue.ts';

/**
 * prom-client's process metrics that break the exposition format's rules:
 * gauges named `_total` (promtool: "non-counter metrics should not have _total
 * suffix"). Each is the sum of `nodejs_active_{handles,requests,resources}`
 * over its `type` label, which stays, so nothing is lost by dropping them.
 */
export const nonConformingDefaultMetrics = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
] as const;

/**
 * The process metrics (CPU, memory, event loop, GC) in `registry`, under
 * names that pass `promtool check metrics`. Use this, not prom-client's
 * collectDefaultMetrics, in every component that serves /metrics.
 */
export function collectProcessMetrics(registry: Registry): void {
  collectDefaultMetrics({ register: registry });
  dropNonConformingMetrics(registry);
}

/** Removes the metrics of `nonConformingDefaultMetrics` from `registry`, if there. */
export function dropNonConformingMetrics(registry: Registry): void {
  for (const name of nonConformingDefaultMetrics) {
    if (registry.getSingleMetric(name)) registry.removeSingleMetric(name);
  }
}

/** What the REST client reports of each request (client-go's `rest_client_*`). */
export interface RestClientMetrics {
  /**
   * One request answered (`code` is the HTTP status) or failed without an
   * answer (`code` undefined: client-go's `<error>`). For a watch, `seconds`
   * is the time to the response headers, as client-go measures it.
   */
  request(method: string, host: string, code: number | undefined, seconds: number): void;
}

/** The `result` label of controller_runtime_reconcile_total. */
export const reconcileResults = ['success', 'error', 'requeue', 'requeue_after'] as const;
export type ReconcileResultLabel = (typeof reconcileResults)[number];

export interface ControllerMetrics {
  reconciled(result: ReconcileResultLabel, seconds: number): void;
  activeWorkers(delta: number): void;
}

export interface InformerMetrics {
  listed(): void;
  /** The watch ended and was opened again: `closed`, `error`, `stall`. */
  watchRestarted(reason: string): void;
  /** A full list that replaced the cache after the first: `gone`, `error`. */
  relisted(reason: string): void;
}

export interface LeaderMetrics {
  leading(is: boolean): void;
}

// controller-runtime's buckets for reconcile time
const reconcileBuckets = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9,
  1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60,
];
// client-go's rest_client_request_duration_seconds buckets
const restBuckets = [0.005, 0.025, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0];
// client-go's workqueue buckets: 10 ns to 10 s, ×10
const queueBuckets = Array.from({ length: 10 }, (_, i) => 1e-8 * 10 ** i);

const counter = <L extends string>(
  r: Registry,
  name: string,
  help: string,
  labelNames: L[],
): Counter<L> => new Counter({ name, help, labelNames, registers: [r] });
const gauge = <L extends string>(
  r: Registry,
  name: string,
  help: string,
  labelNames: L[],
): Gauge<L> => new Gauge({ name, help, labelNames, registers: [r] });
const histogram = <L extends string>(
  r: Registry,
  name: string,
  help: string,
  labelNames: L[],
  buckets: number[],
): Histogram<L> => new Histogram({ name, help, labelNames, buckets, registers: [r] });

export class RuntimeMetrics {
  readonly registry: Registry;
  readonly #queues = new Map<string, () => readonly number[]>();
  readonly #now: () => number;

  readonly #reconcileTotal: Counter<'controller' | 'result'>;
  readonly #reconcileErrors: Counter<'controller'>;
  readonly #reconcileTime: Histogram<'controller'>;
  readonly #maxConcurrent: Gauge<'controller'>;
  readonly #activeWorkers: Gauge<'controller'>;
  readonly #depth: Gauge<'name'>;
  readonly #adds: Counter<'name'>;
  readonly #queueDuration: Histogram<'name'>;
  readonly #workDuration: Histogram<'name'>;
  readonly #retries: Counter<'name'>;
  readonly #leader: Gauge<'name'>;
  readonly #lists: Counter<'resource'>;
  readonly #relists: Counter<'resource' | 'reason'>;
  readonly #watchRestarts: Counter<'resource' | 'reason'>;
  readonly #restRequests: Counter<'code' | 'method' | 'host'>;
  readonly #restLatency: Histogram<'verb' | 'host'>;

  /**
   * Registers the runtime's metrics in `registry`, and drops from it the
   * process metrics promtool rejects (see `nonConformingDefaultMetrics`), in
   * case a caller registered prom-client's defaults itself.
   */
  constructor(registry: Registry = new Registry(), now: () => number = () => realClock.now()) {
    this.registry = registry;
    this.#now = now;
    dropNonConformingMetrics(registry);
    const r = registry;
    const c = 'controller';
    this.#reconcileTotal = counter(
      r,
      'controller_runtime_reconcile_total',
      'Total number of reconciliations per controller',
      [c, 'result'],
    );
    this.#reconcileErrors = counter(
      r,
      'controller_runtime_reconcile_errors_total',
      'Total number of reconciliation errors per controller',
      [c],
    );
    this.#reconcileTime = histogram(
      r,
      'controller_runtime_reconcile_time_seconds',
      'Length of time per reconciliation per controller',
      [c],
      reconcileBuckets,
    );
    this.#maxConcurrent = gauge(
      r,
      'controller_runtime_max_concurrent_reconciles',
      'Maximum number of concurrent reconciles per controller',
      [c],
    );
    this.#activeWorkers = gauge(
      r,
      'controller_runtime_active_workers',
      'Number of currently used workers per controller',
      [c],
    );
    this.#depth = gauge(r, 'workqueue_depth', 'Current depth of workqueue', ['name']);
    this.#adds = counter(r, 'workqueue_adds_total', 'Total number of adds handled by workqueue', [
      'name',
    ]);
    this.#queueDuration = histogram(
      r,
      'workqueue_queue_duration_seconds',
      'How long in seconds an item stays in workqueue before being requested',
      ['name'],
      queueBuckets,
    );
    this.#workDuration = histogram(
      r,
      'workqueue_work_duration_seconds',
      'How long in seconds processing an item from workqueue takes',
      ['name'],
      queueBuckets,
    );
    this.#retries = counter(
      r,
      'workqueue_retries_total',
      'Total number of retries handled by workqueue',
      ['name'],
    );
    // computed at scrape time from the queues' in-flight keys, so a stuck
    // reconcile shows up even though it never reports back
    const inFlight = (name: string, help: string, sum: (secs: number[]) => number): void => {
      const queues = this.#queues;
      const now = this.#now;
      new Gauge({
        name,
        help,
        labelNames: ['name'],
        registers: [r],
        collect() {
          for (const [queue, since] of queues) {
            this.set({ name: queue }, sum(since().map((t) => (now() - t) / 1000)));
          }
        },
      });
    };
    inFlight(
      'workqueue_unfinished_work_seconds',
      'How many seconds of work has been done that is in progress and has not been observed by work_duration. Large values indicate stuck threads.',
      (secs) => secs.reduce((a, b) => a + b, 0),
    );
    inFlight(
      'workqueue_longest_running_processor_seconds',
      'How many seconds has the longest running processor for workqueue been running.',
      (secs) => Math.max(0, ...secs),
    );
    this.#leader = gauge(
      r,
      'leader_election_master_status',
      'Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master.',
      ['name'],
    );
    this.#lists = counter(
      r,
      'yard_informer_lists_total',
      'Full lists done by informers, the first one included',
      ['resource'],
    );
    this.#relists = counter(
      r,
      'yard_informer_relists_total',
      'Lists that replaced an informer cache after its first sync, by reason (gone: 410)',
      ['resource', 'reason'],
    );
    this.#watchRestarts = counter(
      r,
      'yard_informer_watch_restarts_total',
      'Watches opened again from the last resourceVersion, by reason (closed, error, stall)',
      ['resource', 'reason'],
    );
    this.#restRequests = counter(
      r,
      'rest_client_requests_total',
      'Number of HTTP requests, partitioned by status code, method, and host.',
      ['code', 'method', 'host'],
    );
    this.#restLatency = histogram(
      r,
      'rest_client_request_duration_seconds',
      'Request latency in seconds. Broken down by verb, and host.',
      ['verb', 'host'],
      restBuckets,
    );
  }

  /** The sink of a RestClient's request metrics (one per registry, shared by its clients). */
  restClient(): RestClientMetrics {
    return {
      request: (method, host, code, seconds) => {
        this.#restRequests.inc({
          code: code === undefined ? '<error>' : String(code),
          method,
          host,
        });
        this.#restLatency.observe({ verb: method, host }, seconds);
      },
    };
  }

  /** The metrics of one controller; sets its label values to 0 so they exist before any reconcile. */
  controller(name: string, maxConcurrentReconciles: number): ControllerMetrics {
    const controller = name;
    for (const result of reconcileResults) this.#reconcileTotal.inc({ controller, result }, 0);
    this.#reconcileErrors.inc({ controller }, 0);
    this.#maxConcurrent.set({ controller }, maxConcurrentReconciles);
    this.#activeWorkers.set({ controller }, 0);
    return {
      reconciled: (result, seconds) => {
        this.#reconcileTotal.inc({ controller, result });
        if (result === 'error') this.#reconcileErrors.inc({ controller });
        this.#reconcileTime.observe({ controller }, seconds);
      },
      activeWorkers: (delta) => this.#activeWorkers.inc({ controller }, delta),
    };
  }

  /**
   * The metrics of one work queue. `processingSince` is read at scrape time
   * (the queue's `processingSince`); a queue made again under the same name
   * replaces the old one.
   */
  workqueue(name: string, processingSince: () => readonly number[]): WorkQueueMetrics {
    this.#queues.set(name, processingSince);
    this.#depth.set({ name }, 0);
    this.#adds.inc({ name }, 0);
    this.#retries.inc({ name }, 0);
    return {
      depth: (n) => this.#depth.set({ name }, n),
      added: () => this.#adds.inc({ name }),
      queued: (s) => this.#queueDuration.observe({ name }, s),
      worked: (s) => this.#workDuration.observe({ name }, s),
      retried: () => this.#retries.inc({ name }),
    };
  }

  leaderElection(name: string): LeaderMetrics {
    this.#leader.set({ name }, 0);
    return { leading: (is) => this.#leader.set({ name }, is ? 1 : 0) };
  }

  informer(resource: string): InformerMetrics {
    return {
      listed: () => this.#lists.inc({ resource }),
      relisted: (reason) => this.#relists.inc({ resource, reason }),
      watchRestarted: (reason) => this.#watchRestarts.inc({ resource, reason }),
    };
  }
}
