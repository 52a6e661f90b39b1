// Metrics as product, in the ID-Value spirit of WeChat's monitoring: every API
// adds to a handful of counters and histograms, named by Prometheus
// conventions. One registry per service instance (tests run several in one
// process), with the service as a default label.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { collectProcessMetrics } from '../../runtime/metrics.ts';

/** Seconds: 1 ms … 10 s, dense where the 20 ms overload target and the p99 goal of 200 ms sit. */
export const latencyBuckets = [
  0.001, 0.0025, 0.005, 0.01, 0.02, 0.035, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 1, 2.5, 5, 10,
];

export interface ServiceMetrics {
  readonly registry: Registry;
  readonly requests: Counter<'api' | 'business' | 'code'>;
  readonly failures: Counter<'api' | 'business' | 'reason'>;
  readonly duration: Histogram<'api' | 'business'>;
  readonly shed: Counter<'api' | 'business' | 'reason'>;
  readonly queueDepth: Gauge;
  readonly inFlight: Gauge;
  readonly queueSeconds: Histogram<'business'>;
  readonly admissionLevel: Gauge;
  readonly admissionChanges: Counter<'direction'>;
}

export function createRegistry(service: string, defaults = false): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  // process metrics (CPU, RSS, event-loop lag) only in a real process: several
  // instances in one test process would all report the same process
  if (defaults) collectProcessMetrics(registry);
  return registry;
}

export function createServiceMetrics(registry: Registry): ServiceMetrics {
  const registers = [registry];
  return {
    registry,
    requests: new Counter({
      name: 'yard_im_requests_total',
      help: 'Requests answered, by API, business priority and HTTP status code.',
      labelNames: ['api', 'business', 'code'],
      registers,
    }),
    failures: new Counter({
      name: 'yard_im_request_failures_total',
      help: 'Requests that failed on the server side (5xx other than shedding), by API, business priority and reason.',
      labelNames: ['api', 'business', 'reason'],
      registers,
    }),
    duration: new Histogram({
      name: 'yard_im_request_duration_seconds',
      help: 'Time from arrival to answer (queueing included), by API and business priority.',
      labelNames: ['api', 'business'],
      buckets: latencyBuckets,
      registers,
    }),
    shed: new Counter({
      name: 'yard_im_shed_total',
      help: 'Requests answered at once with 503 instead of being served, by API, business priority and reason (level, queue-full, queue-timeout, upstream).',
      labelNames: ['api', 'business', 'reason'],
      registers,
    }),
    queueDepth: new Gauge({
      name: 'yard_im_admission_queue_depth',
      help: 'Admitted requests waiting for a free slot.',
      registers,
    }),
    inFlight: new Gauge({
      name: 'yard_im_in_flight_requests',
      help: 'Requests being served (holding a slot).',
      registers,
    }),
    queueSeconds: new Histogram({
      name: 'yard_im_admission_queue_seconds',
      help: 'Time admitted requests waited for a slot: the overload signal.',
      labelNames: ['business'],
      buckets: latencyBuckets,
      registers,
    }),
    admissionLevel: new Gauge({
      name: 'yard_im_admission_level',
      help: 'The admission threshold: requests of a lower level are admitted (0-511; 512 admits everything; payment 0-127, message 128-255, groupchat 256-383, moments 384-511).',
      registers,
    }),
    admissionChanges: new Counter({
      name: 'yard_im_admission_changes_total',
      help: 'Windows after which the admission threshold was lowered or raised.',
      labelNames: ['direction'],
      registers,
    }),
  };
}
