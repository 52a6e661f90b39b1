// Prometheus metrics under kube-scheduler's names (so its dashboards and
// alerts work on Yard unchanged), plus Yard's own: what level 1 grants each
// framework per campus, and each offline queue's DRF standing.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Grants } from '../core/index.ts';

export const attemptResults = ['scheduled', 'unschedulable', 'error'] as const;
export type AttemptResult = (typeof attemptResults)[number];

export const profile = 'yard';

// kube-scheduler's buckets: 1 ms doubling to about 16 s
const durationBuckets = Array.from({ length: 15 }, (_, i) => 0.001 * 2 ** i);
// kube-scheduler's preemption_victims buckets: 1, 2, 4, … 512
const victimBuckets = Array.from({ length: 10 }, (_, i) => 2 ** i);

export class SchedulerMetrics {
  readonly registry: Registry;
  readonly #attempts: Counter<'result' | 'profile'>;
  readonly #duration: Histogram<'result' | 'profile'>;
  readonly #victims: Histogram;
  readonly #preemptions: Counter;
  readonly #evictions: Counter<'reason'>;
  readonly #grantCpu: Gauge<'framework' | 'campus'>;
  readonly #grantMemory: Gauge<'framework' | 'campus'>;
  readonly #usedCpu: Gauge<'framework' | 'campus'>;
  readonly #dominant: Gauge<'queue'>;
  readonly #fair: Gauge<'queue'>;
  readonly #cycles: Histogram;
  readonly #writes: Counter<'kind'>;

  constructor(
    registry: Registry,
    pending: () => { active: number; unschedulable: number; backoff: number },
  ) {
    this.registry = registry;
    const registers = [registry];
    this.#attempts = new Counter({
      name: 'scheduler_schedule_attempts_total',
      help: 'Number of attempts to schedule pods, by the result. "unschedulable" means a pod could not be scheduled, while "error" means an internal scheduler problem.',
      labelNames: ['result', 'profile'],
      registers,
    });
    for (const result of attemptResults) this.#attempts.inc({ result, profile }, 0);
    this.#duration = new Histogram({
      name: 'scheduler_scheduling_attempt_duration_seconds',
      help: 'Scheduling attempt latency in seconds (scheduling algorithm + binding)',
      labelNames: ['result', 'profile'],
      buckets: durationBuckets,
      registers,
    });
    new Gauge({
      name: 'scheduler_pending_pods',
      help: "Number of pending pods, by the queue type. 'active' means number of pods in activeQ; 'backoff' means number of pods in backoffQ; 'unschedulable' means number of pods in unschedulablePods.",
      labelNames: ['queue'],
      registers,
      collect() {
        const c = pending();
        this.set({ queue: 'active' }, c.active);
        this.set({ queue: 'backoff' }, c.backoff);
        this.set({ queue: 'unschedulable' }, c.unschedulable);
      },
    });
    this.#victims = new Histogram({
      name: 'scheduler_preemption_victims',
      help: 'Number of selected preemption victims',
      buckets: victimBuckets,
      registers,
    });
    this.#preemptions = new Counter({
      name: 'scheduler_preemption_attempts_total',
      help: 'Total preemption attempts in the cluster till now',
      registers,
    });
    this.#evictions = new Counter({
      name: 'yard_evictions_total',
      help: 'Pods Yard evicted through the Eviction API, by why: preemption (an online pod needed the room) or revocation (a shielded campus needs it held)',
      labelNames: ['reason'],
      registers,
    });
    this.#evictions.inc({ reason: 'preemption' }, 0);
    this.#evictions.inc({ reason: 'revocation' }, 0);
    this.#grantCpu = new Gauge({
      name: 'yard_grant_cpu_cores',
      help: 'CPU level 1 grants each framework in each campus (online: up to its ceiling; offline: the rest)',
      labelNames: ['framework', 'campus'],
      registers,
    });
    this.#grantMemory = new Gauge({
      name: 'yard_grant_memory_bytes',
      help: 'Memory level 1 grants each framework in each campus',
      labelNames: ['framework', 'campus'],
      registers,
    });
    this.#usedCpu = new Gauge({
      name: 'yard_used_cpu_cores',
      help: 'CPU requested by each framework’s bound pods in each campus',
      labelNames: ['framework', 'campus'],
      registers,
    });
    this.#dominant = new Gauge({
      name: 'yard_queue_dominant_share',
      help: 'An offline queue’s dominant share of the offline pool (DRF), 0..1',
      labelNames: ['queue'],
      registers,
    });
    this.#fair = new Gauge({
      name: 'yard_queue_fair_share',
      help: 'The dominant share an offline queue’s weight, guarantee and maximum entitle it to, 0..1',
      labelNames: ['queue'],
      registers,
    });
    this.#writes = new Counter({
      name: 'yard_api_writes_total',
      help: 'Writes the scheduler sent to the API server, by kind: binding, eviction, status (pod conditions and nominations), event, publish (grants and shares to Campus, OfflineQueue and OfflineJob status)',
      labelNames: ['kind'],
      registers,
    });
    for (const kind of ['binding', 'eviction', 'status', 'event', 'publish'])
      this.#writes.inc({ kind }, 0);
    this.#cycles = new Histogram({
      name: 'yard_scheduling_cycle_duration_seconds',
      help: 'Time the decision core took per cycle (a batch of pending pods)',
      buckets: durationBuckets,
      registers,
    });
  }

  attempt(result: AttemptResult, seconds: number, count = 1): void {
    this.#attempts.inc({ result, profile }, count);
    for (let i = 0; i < count; i++) this.#duration.observe({ result, profile }, seconds);
  }

  preemption(victims: number): void {
    this.#preemptions.inc();
    this.#victims.observe(victims);
  }

  evicted(reason: 'preemption' | 'revocation'): void {
    this.#evictions.inc({ reason });
  }

  wrote(kind: string): void {
    this.#writes.inc({ kind });
  }

  cycle(seconds: number): void {
    this.#cycles.observe(seconds);
  }

  grants(g: Grants): void {
    for (const c of g.campuses) {
      this.#grantCpu.set({ framework: 'online', campus: c.campus }, c.online.grant.cpu / 1000);
      this.#grantCpu.set({ framework: 'offline', campus: c.campus }, c.offline.grant.cpu / 1000);
      this.#grantMemory.set({ framework: 'online', campus: c.campus }, c.online.grant.memory);
      this.#grantMemory.set({ framework: 'offline', campus: c.campus }, c.offline.grant.memory);
      this.#usedCpu.set({ framework: 'online', campus: c.campus }, c.online.used.cpu / 1000);
      this.#usedCpu.set({ framework: 'offline', campus: c.campus }, c.offline.used.cpu / 1000);
    }
    this.#dominant.reset();
    this.#fair.reset();
    for (const q of g.queues) {
      this.#dominant.set({ queue: q.queue }, q.dominantShare);
      this.#fair.set({ queue: q.queue }, q.fairFraction);
    }
  }
}
