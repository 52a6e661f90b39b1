// The prober against the real three tiers over a three-member etcd: it runs
// every operation, reports per API and window, counts every acknowledged
// message delivered, tells a target starting up from one that stops answering
// (through a TCP proxy that refuses connections on command), and serves its
// report and metrics. prober.test.ts covers the same on a virtual clock.
import { describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { FaultProxy } from '../../e2e/harness/fault-proxy.ts';
import { useStack } from '../../e2e/harness/im-stack.ts';
import { createProberService } from './app.ts';
import type { ProberReport } from './prober.ts';
import { startProber } from './prober.ts';

const t = useStack({ logicInstances: 2 });

describe('the prober', () => {
  it('runs every one of 120 operations at a rate and reports every API and window', async () => {
    const p = startProber({
      target: t.stack.accessUrl,
      rate: 40,
      users: 4,
      window: 1000,
      maxOps: 120,
      // nothing is skipped however slow the machine: every operation runs and answers
      maxInFlight: 120,
      durationMs: 20_000,
    });
    await p.ready;
    const r = await p.done;
    expect(r.phase).toBe('stopped');
    expect(r).toMatchObject({ operations: 120, skipped: 0 });
    expect(r.totals.failed).toBe(0);
    expect(r.startup.failed).toBe(0);
    // the mix (send 8, sync 8, group-send 2, pay 1, login 1 of 20) six times over,
    // and the set-up's 4 logins
    expect(Object.fromEntries(r.apis.map((a) => [a.api, a.ok]))).toMatchObject({
      send: 48,
      'group-send': 12,
      pay: 6,
      login: 10,
      register: 4,
    });
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
    // (48 sends and 6 payments to one recipient, 12 group messages to all 4 users)
    expect(r.delivery).toMatchObject({
      expected: 48 + 6 + 12 * 4,
      delivered: 48 + 6 + 12 * 4,
      pending: 0,
      lost: 0,
      duplicates: 0,
    });
    expect(r.windows.length).toBeGreaterThanOrEqual(2);
    expect(r.windows.every((w) => w.end - w.start === 1000)).toBe(true);
  }, 40_000);

  it('serves its report and metrics as a service', async () => {
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
  }, 40_000);

  it('counts refusals before the target first served as start-up, and refusals after as failures', async () => {
    const proxy = await FaultProxy.start(t.stack.accessUrl);
    await proxy.down(); // the port is known; connections are refused until up()
    const p = startProber({
      target: `http://127.0.0.1:${proxy.port}`,
      rate: 20,
      users: 2,
      window: 500,
      durationMs: 30_000,
      deliveryTimeoutMs: 500,
    });
    try {
      for (let i = 0; i < 100 && p.report().startup.failed < 2; i++) await sleep(50);
      await proxy.up();
      await p.ready;
      let r = p.report();
      expect(r.startup.failed).toBeGreaterThanOrEqual(2);
      expect(r.startup.lastFailure?.status).toBe(0);
      expect(r.startup.servedAt).not.toBeNull();
      expect(r.totals.failed).toBe(0);
      for (let i = 0; i < 100 && p.report().totals.ok < 10; i++) await sleep(50);
      await proxy.down();
      for (let i = 0; i < 100 && p.report().totals.failed < 3; i++) await sleep(50);
      r = await p.stop();
      expect(r.totals.failed).toBeGreaterThanOrEqual(3);
      expect(r.recentFailures.find((f) => f.api !== 'delivery')).toMatchObject({ status: 0 });
    } finally {
      await p.stop();
      await proxy.close();
    }
  }, 60_000);
});
