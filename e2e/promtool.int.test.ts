// Every component's real /metrics text passes `promtool check metrics`
// (Prometheus's linter of names, types and units), scraped over HTTP from the
// component running in this process against the run's cluster: the operator
// (its Manager with every controller), the scheduler, the node agent, and an
// IM service. Each also exports client-go's rest_client_* metrics of its own
// API traffic. Skipped only where promtool is missing locally; in CI
// (CI=true) a missing promtool fails the file instead.
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { afterEach, beforeAll, describe, expect } from 'vitest';
import { addCampusController } from '../operator/campus/reconcile.ts';
import { addIMServiceController } from '../operator/imservice/reconcile.ts';
import {
  addOfflineJobController,
  addOfflineQueueController,
} from '../operator/offline/reconcile.ts';
import { Manager, nullLogger } from '../runtime/index.ts';
import { YardScheduler } from '../scheduler/adapter/scheduler.ts';
import { createKit } from '../services/shared/kit.ts';
import { silentLogger } from '../services/shared/log.ts';
import { startNodeAgent } from './node-agent/agent.ts';
import { serveControl } from './node-agent/control.ts';
import { it, kubeConfig } from './harness/kube.ts';
import { checkMetrics, findPromtool } from './harness/promtool.ts';
import { done, notYet, waitFor } from './harness/wait.ts';
import { ensureYard } from './harness/yard.ts';

const promtool = findPromtool();
if (!promtool) {
  console.warn(
    'e2e/promtool.int.test.ts skipped: promtool is not installed (apt-get install prometheus)',
  );
}

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

beforeAll(async () => {
  if (promtool) await ensureYard(kubeConfig());
});

async function scrape(url: string): Promise<string> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  expect(res.status).toBe(200);
  return res.text();
}

/** The text passes promtool, and has a line starting with each of `want` (regular expressions). */
async function expectLintFree(text: string, want: readonly string[]): Promise<void> {
  const result = await checkMetrics(text, promtool);
  expect(result.problems).toEqual([]);
  expect(result.ok).toBe(true);
  for (const line of want) expect(text).toMatch(new RegExp(`^${line}`, 'm'));
}

const restMetrics = [
  'rest_client_requests_total\\{code="200",method="GET",host="[^"]+"\\}',
  'rest_client_request_duration_seconds_bucket\\{le="[^"]+",verb="GET",host="[^"]+"\\}',
  'process_cpu_seconds_total ',
  'nodejs_active_handles\\{',
];

/** A free port on loopback (for a component that does not say which it took). */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Waits until the metrics text shows a successful list (the caches filled). */
async function scrapeAfterSync(url: string): Promise<string> {
  return waitFor(
    `${url} shows a successful API call`,
    async () => {
      const text = await scrape(url);
      return /^rest_client_requests_total\{code="200"/m.test(text)
        ? done(text)
        : notYet(text.length);
    },
    { timeoutMs: 30_000 },
  );
}

describe.skipIf(!promtool)('promtool check metrics', () => {
  it('passes on the operator’s /metrics (every controller added)', async () => {
    const mgr = new Manager({
      kubeConfig: kubeConfig(),
      leaderElection: false,
      probePort: 0,
      probeHost: '127.0.0.1',
      handleSignals: false,
      log: nullLogger,
      shutdownTimeoutMs: 5_000,
    });
    addCampusController(mgr);
    addIMServiceController(mgr);
    addOfflineQueueController(mgr);
    addOfflineJobController(mgr);
    const running = mgr.start();
    cleanup.push(async () => {
      await mgr.stop();
      await running;
    });
    await waitFor('the operator is ready', () =>
      Promise.resolve(
        mgr.port !== undefined && mgr.notReady() === undefined
          ? done(true)
          : notYet(mgr.notReady()),
      ),
    );
    const text = await scrapeAfterSync(`http://127.0.0.1:${mgr.port}/metrics`);
    await expectLintFree(text, [
      ...restMetrics,
      'controller_runtime_reconcile_total\\{controller="campus"',
      'workqueue_depth',
    ]);
  });

  it('passes on the scheduler’s /metrics', async () => {
    const port = await freePort();
    const scheduler = new YardScheduler({
      kubeConfig: kubeConfig(),
      schedulerName: 'yard-promtool', // schedules nothing of the other tests
      leaderElection: false,
      probePort: port,
      probeHost: '127.0.0.1',
      handleSignals: false,
      log: nullLogger,
      shutdownTimeoutMs: 5_000,
    });
    const running = scheduler.start();
    cleanup.push(async () => {
      await scheduler.stop();
      await running;
    });
    const text = await scrapeAfterSync(`http://127.0.0.1:${port}/metrics`);
    await expectLintFree(text, [...restMetrics, 'scheduler_schedule_attempts_total']);
  });

  it('passes on the node agent’s /metrics', async () => {
    const agent = await startNodeAgent({
      kubeConfig: kubeConfig(),
      nodeSelector: 'yard.dev/promtool=none', // serves no node: runs nothing of the other tests
      log: nullLogger,
    });
    cleanup.push(() => agent.stop());
    const control = await serveControl(agent, '127.0.0.1', 0);
    cleanup.push(() => control.close());
    const text = await scrapeAfterSync(`${control.url}/metrics`);
    await expectLintFree(text, [
      ...restMetrics,
      'controller_runtime_reconcile_total\\{controller="node-agent"',
    ]);
  });

  it('passes on an IM service’s /metrics (after one answered request)', async () => {
    const kit = createKit({ service: 'promtool', log: silentLogger, defaultMetrics: true });
    kit.route('get', '/hello', { api: 'hello', business: 'message' }, () =>
      Promise.resolve({ body: { hello: true } }),
    );
    const listening = await kit.listen();
    cleanup.push(async () => {
      kit.close();
      await listening.close();
    });
    expect((await fetch(`${listening.url}/hello`)).status).toBe(200);
    const text = await scrape(`${listening.url}/metrics`);
    await expectLintFree(text, [
      'yard_im_requests_total\\{api="hello",business="message",code="200",service="promtool"\\} 1',
      'process_cpu_seconds_total\\{',
    ]);
  });

  it('rejects what prom-client registers by default (the test can fail)', async () => {
    const { collectDefaultMetrics } = await import('prom-client');
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    const result = await checkMetrics(await registry.metrics(), promtool);
    expect(result.ok).toBe(false);
    expect(result.problems.join('\n')).toContain(
      'nodejs_active_handles_total non-counter metrics should not have "_total" suffix',
    );
  });
});
