// The prober's Prometheus metrics, on the registry it is given (the prober
// service's, served at /metrics).
import { Counter, Gauge, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';
import { latencyBuckets } from '../shared/metrics.ts';

export function proberMetrics(registry: Registry) {
  const registers = [registry];
  return {
    requests: new Counter({
      name: 'yard_prober_requests_total',
      help: 'Dial-test requests by target service, API and outcome (ok, failed, shed), once the target has served.',
      labelNames: ['service', 'api', 'outcome'],
      registers,
    }),
    startupFailures: new Counter({
      name: 'yard_prober_startup_failures_total',
      help: 'Dial-test requests that failed (or were shed) before any instance of the target had served once: the target starting up, not an outage.',
      labelNames: ['service', 'api'],
      registers,
    }),
    duration: new Histogram({
      name: 'yard_prober_request_duration_seconds',
      help: 'Dial-test request latency by target service and API.',
      labelNames: ['service', 'api'],
      buckets: latencyBuckets,
      registers,
    }),
    deliveries: new Counter({
      name: 'yard_prober_deliveries_total',
      help: 'Acknowledged messages per recipient by outcome: delivered, lost (not received within the timeout), late, duplicate.',
      labelNames: ['service', 'outcome'],
      registers,
    }),
    deliverySeconds: new Histogram({
      name: 'yard_prober_delivery_seconds',
      help: 'Time from a message’s acknowledgement to its recipient’s sync returning it.',
      labelNames: ['service'],
      buckets: latencyBuckets,
      registers,
    }),
    successRatio: new Gauge({
      name: 'yard_prober_success_ratio',
      help: 'Share of successful dial-test requests in the last complete window.',
      labelNames: ['service'],
      registers,
    }),
  };
}

export type ProberMetrics = ReturnType<typeof proberMetrics>;
