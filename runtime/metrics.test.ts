import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { collectProcessMetrics, nonConformingDefaultMetrics, RuntimeMetrics } from './metrics.ts';

/** Sample lines of the exposition text, without comments. */
async function samples(registry: Registry): Promise<string[]> {
  return (await registry.metrics()).split('\n').filter((l) => l && !l.startsWith('#'));
}

describe('RuntimeMetrics', () => {
  it('exposes controller-runtime names and labels, zero before the first reconcile', async () => {
    const m = new RuntimeMetrics(new Registry(), () => 0);
    m.controller('campus', 4);
    m.workqueue('campus', () => []);
    m.leaderElection('yard-operator');
    const s = await samples(m.registry);
    for (const want of [
      'controller_runtime_reconcile_total{controller="campus",result="success"} 0',
      'controller_runtime_reconcile_total{controller="campus",result="error"} 0',
      'controller_runtime_reconcile_total{controller="campus",result="requeue"} 0',
      'controller_runtime_reconcile_total{controller="campus",result="requeue_after"} 0',
      'controller_runtime_reconcile_errors_total{controller="campus"} 0',
      'controller_runtime_max_concurrent_reconciles{controller="campus"} 4',
      'controller_runtime_active_workers{controller="campus"} 0',
      'workqueue_depth{name="campus"} 0',
      'workqueue_adds_total{name="campus"} 0',
      'workqueue_retries_total{name="campus"} 0',
      'workqueue_unfinished_work_seconds{name="campus"} 0',
      'workqueue_longest_running_processor_seconds{name="campus"} 0',
      'leader_election_master_status{name="yard-operator"} 0',
    ]) {
      expect(s).toContain(want);
    }
  });

  it('counts results, errors and times of reconciles per controller', async () => {
    const m = new RuntimeMetrics(new Registry());
    const c = m.controller('imservice', 1);
    c.reconciled('success', 0.02);
    c.reconciled('error', 0.5);
    c.reconciled('requeue_after', 0.01);
    const s = await samples(m.registry);
    expect(s).toContain(
      'controller_runtime_reconcile_total{controller="imservice",result="success"} 1',
    );
    expect(s).toContain(
      'controller_runtime_reconcile_total{controller="imservice",result="error"} 1',
    );
    expect(s).toContain('controller_runtime_reconcile_errors_total{controller="imservice"} 1');
    expect(s).toContain(
      'controller_runtime_reconcile_time_seconds_count{controller="imservice"} 3',
    );
    expect(s).toContain(
      'controller_runtime_reconcile_time_seconds_bucket{le="0.025",controller="imservice"} 2',
    );
  });

  it('computes stuck-work gauges from the queue at scrape time', async () => {
    let now = 10_000;
    const m = new RuntimeMetrics(new Registry(), () => now);
    m.workqueue('q', () => [4_000, 8_000]); // two keys in flight since t=4 s and t=8 s
    now = 10_000;
    const s = await samples(m.registry);
    expect(s).toContain('workqueue_unfinished_work_seconds{name="q"} 8');
    expect(s).toContain('workqueue_longest_running_processor_seconds{name="q"} 6');
  });

  it('lets two managers in one process keep separate registries', async () => {
    const a = new RuntimeMetrics(new Registry());
    const b = new RuntimeMetrics(new Registry());
    a.controller('x', 1).reconciled('success', 0.1);
    b.controller('x', 1);
    expect(await samples(b.registry)).toContain(
      'controller_runtime_reconcile_total{controller="x",result="success"} 0',
    );
  });

  it("counts REST requests under client-go's names and labels, a request without an answer as <error>", async () => {
    const m = new RuntimeMetrics(new Registry());
    const rest = m.restClient();
    rest.request('GET', '127.0.0.1:6443', 200, 0.01);
    rest.request('GET', '127.0.0.1:6443', 200, 0.2);
    rest.request('PATCH', '127.0.0.1:6443', 409, 0.03);
    rest.request('POST', '127.0.0.1:6443', undefined, 30);
    const s = await samples(m.registry);
    for (const want of [
      'rest_client_requests_total{code="200",method="GET",host="127.0.0.1:6443"} 2',
      'rest_client_requests_total{code="409",method="PATCH",host="127.0.0.1:6443"} 1',
      'rest_client_requests_total{code="<error>",method="POST",host="127.0.0.1:6443"} 1',
      'rest_client_request_duration_seconds_bucket{le="0.025",verb="GET",host="127.0.0.1:6443"} 1',
      'rest_client_request_duration_seconds_count{verb="GET",host="127.0.0.1:6443"} 2',
      'rest_client_request_duration_seconds_bucket{le="30",verb="POST",host="127.0.0.1:6443"} 1',
    ]) {
      expect(s).toContain(want);
    }
  });

  it('keeps the process metrics but not the _total gauges promtool rejects', async () => {
    const registry = new Registry();
    collectProcessMetrics(registry);
    const text = await registry.metrics();
    expect(text).toMatch(/^process_cpu_seconds_total /m);
    expect(text).toMatch(/^# TYPE nodejs_active_handles gauge$/m);
    for (const name of nonConformingDefaultMetrics) expect(text).not.toContain(name);
  });
});
