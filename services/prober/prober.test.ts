// The prober against the real three tiers over a three-member etcd: it
// reports per API and window, counts every acknowledged message delivered, and
// notices when the backend stops answering.
import { describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { useStack } from '../../e2e/harness/im-stack.ts';
import { createProberService } from './app.ts';
import type { ProberReport } from './prober.ts';
import { startProber } from './prober.ts';

const t = useStack({ logicInstances: 2 });

describe('the prober', () => {
  it('runs synthetic users at a rate, bounded in count, and reports every API and window', async () => {
    const p = startProber({
      target: t.stack.accessUrl,
      rate: 40,
      users: 4,
      window: 1000,
      maxOps: 120,
      durationMs: 20_000,
    });
    await p.ready;
    const r = await p.done;
    expect(r.phase).toBe('stopped');
    expect(r.operations).toBe(120);
    expect(r.totals.failed).toBe(0);
    // every operation that ran answered (on a loaded machine some are skipped,
    // when too many are still in flight, rather than queued up)
    expect(r.skipped).toBeLessThan(120);
    expect(r.totals.ok).toBeGreaterThanOrEqual(r.operations - r.skipped);
    for (const api of [
      'send',
      'sync',
      'group-send',
      'pay',
      'login',
      'register',
      'add-contact',
      'create-group',
      'delivery',
    ]) {
      expect(
        r.apis.find((a) => a.api === api),
        api,
      ).toMatchObject({ failed: 0, service: 'access' });
    }
    expect(r.apis.find((a) => a.api === 'send')?.p99Ms).toBeGreaterThan(0);
    // every acknowledged message reached each recipient once
    expect(r.delivery.expected).toBeGreaterThan(0);
    expect(r.delivery).toMatchObject({
      delivered: r.delivery.expected,
      pending: 0,
      lost: 0,
      duplicates: 0,
    });
    expect(r.windows.length).toBeGreaterThanOrEqual(2);
    expect(r.windows.every((w) => w.end - w.start === 1000)).toBe(true);
  }, 40_000);

  it('serves its report and metrics as a service, and sees failures when the target goes away', async () => {
    const svc = createProberService({
      target: t.stack.accessUrl,
      rate: 20,
      users: 3,
      window: 500,
      durationMs: 30_000,
    });
    const running = await svc.listen();
    try {
      const report = async (): Promise<ProberReport> =>
        (await (await fetch(`${running.url}/report`)).json()) as ProberReport;
      await svc.prober()?.ready;
      expect((await fetch(`${running.url}/readyz`)).status).toBe(200);
      for (let i = 0; i < 100 && (await report()).totals.ok < 20; i++) await sleep(50);
      expect((await report()).totals.ok).toBeGreaterThanOrEqual(20);
      const metrics = await (await fetch(`${running.url}/metrics`)).text();
      expect(metrics).toMatch(
        /yard_prober_requests_total\{service="access",api="send",outcome="ok"\} \d+/,
      );
      expect(metrics).toContain('yard_prober_request_duration_seconds_bucket');
    } finally {
      await running.close();
    }
    // a target that refuses connections: every request fails, and the report says so
    const dead = startProber({
      target: 'http://127.0.0.1:9',
      rate: 20,
      users: 2,
      durationMs: 1000,
      deliveryTimeoutMs: 200,
    });
    const r = await dead.done;
    expect(r.totals.ok).toBe(0);
    expect(r.totals.failed).toBeGreaterThan(0);
    expect(r.recentFailures[0]).toMatchObject({ status: 0 });
  }, 40_000);
});
