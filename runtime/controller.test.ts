// The controller's queue-and-workers half, without informers or a cluster:
// keys are queued by hand and time is a ManualClock. The informer half is
// tested against the API server in controller.int.test.ts.
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock, flush } from './clock.ts';
import { Controller } from './controller.ts';
import type { Reconciler, ReconcileRequest, ReconcileResult } from './controller.ts';
import { ApiError } from './errors.ts';
import { jsonLogger } from './logger.ts';
import type { Logger } from './logger.ts';
import { RuntimeMetrics } from './metrics.ts';

interface Harness {
  readonly controller: Controller;
  readonly clock: ManualClock;
  readonly metrics: RuntimeMetrics;
  readonly stop: AbortController;
  readonly running: Promise<void>;
}

const running: Harness[] = [];

function start(
  reconcile: Reconciler,
  opts: { workers?: number; drainTimeoutMs?: number; log?: Logger } = {},
): Harness {
  const clock = new ManualClock();
  const metrics = new RuntimeMetrics(new Registry(), () => clock.now());
  const controller = new Controller({
    name: 'test',
    reconcile,
    maxConcurrentReconciles: opts.workers ?? 1,
    backoff: { baseMs: 100, maxMs: 10_000, jitter: 0 },
    resyncPeriodMs: 0,
    drainTimeoutMs: opts.drainTimeoutMs ?? 5_000,
    clock,
    metrics,
    ...(opts.log ? { log: opts.log } : {}),
  });
  const stop = new AbortController();
  const h = { controller, clock, metrics, stop, running: controller.start(stop.signal) };
  running.push(h);
  return h;
}

afterEach(async () => {
  for (const h of running.splice(0)) {
    h.stop.abort();
    await h.clock.tick(60_000);
    await h.running;
  }
});

/** A promise the test resolves by hand. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open = (): void => {};
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}

async function metric(m: RuntimeMetrics, line: string): Promise<boolean> {
  return (await m.registry.metrics()).split('\n').includes(line);
}

describe('Controller', () => {
  it('never runs more reconciles at once than its workers', async () => {
    let active = 0;
    let peak = 0;
    const done: string[] = [];
    const g = gate();
    const { controller } = start(
      async ({ key }) => {
        active++;
        peak = Math.max(peak, active);
        await g.promise;
        active--;
        done.push(key);
      },
      { workers: 3 },
    );
    for (let i = 0; i < 10; i++) controller.enqueue(`ns/k${i}`);
    await flush();
    expect(active).toBe(3);
    g.open();
    await flush(20);
    expect(done).toHaveLength(10);
    expect(peak).toBe(3);
  });

  it('never reconciles one key twice at once, and reconciles it again if it changed meanwhile', async () => {
    const calls: string[] = [];
    let concurrentSameKey = false;
    const inFlight = new Set<string>();
    const g = gate();
    const { controller } = start(
      async ({ key }) => {
        if (inFlight.has(key)) concurrentSameKey = true;
        inFlight.add(key);
        calls.push(key);
        if (calls.length === 1) await g.promise;
        inFlight.delete(key);
      },
      { workers: 4 },
    );
    controller.enqueue('ns/a');
    await flush();
    controller.enqueue('ns/a'); // an event while it is being reconciled
    controller.enqueue('ns/a');
    await flush();
    expect(calls).toEqual(['ns/a']); // the other workers did not take it
    g.open();
    await flush();
    expect(calls).toEqual(['ns/a', 'ns/a']);
    expect(concurrentSameKey).toBe(false);
  });

  it('hands the reconciler the key split into namespace and name', async () => {
    const seen: Pick<ReconcileRequest, 'key' | 'namespace' | 'name'>[] = [];
    const { controller } = start(({ key, namespace, name }) => {
      seen.push({ key, namespace, name });
      return Promise.resolve();
    });
    controller.enqueue('im/logic');
    controller.enqueue('campus-a');
    await flush();
    expect(seen).toEqual([
      { key: 'im/logic', namespace: 'im', name: 'logic' },
      { key: 'campus-a', namespace: undefined, name: 'campus-a' },
    ]);
  });

  it('retries a failing key with growing back-off and forgets it on success', async () => {
    const at: number[] = [];
    const { controller, clock, metrics } = start(() => {
      at.push(clock.now());
      return at.length <= 3 ? Promise.reject(new Error('conflict')) : Promise.resolve();
    });
    const t0 = clock.now();
    controller.enqueue('ns/a');
    await clock.tick(10_000);
    expect(at.map((t) => t - t0)).toEqual([0, 100, 300, 700]); // waits of 100, 200, 400 ms
    expect(controller.queue.numRequeues('ns/a')).toBe(0);
    expect(
      await metric(
        metrics,
        'controller_runtime_reconcile_total{controller="test",result="error"} 3',
      ),
    ).toBe(true);
    expect(
      await metric(metrics, 'controller_runtime_reconcile_errors_total{controller="test"} 3'),
    ).toBe(true);
    expect(
      await metric(
        metrics,
        'controller_runtime_reconcile_total{controller="test",result="success"} 1',
      ),
    ).toBe(true);
    expect(await metric(metrics, 'workqueue_retries_total{name="test"} 3')).toBe(true);
  });

  const status = (code: number, reason: string, message: string): unknown => ({
    kind: 'Status',
    code,
    reason,
    message,
  });
  const campusPath = '/apis/yard.dev/v1alpha1/campuses/campus-a';
  it.each([
    {
      what: 'a 409 Conflict of a stale write is a quiet requeue',
      err: new ApiError(
        'PUT',
        campusPath,
        409,
        'the object has been modified',
        status(409, 'Conflict', 'the object has been modified'),
      ),
      result: 'requeue',
      level: 'debug',
    },
    {
      what: 'a 404 on the status write of an object deleted meanwhile is a quiet requeue',
      err: new ApiError(
        'PATCH',
        `${campusPath}/status`,
        404,
        'campuses "campus-a" not found',
        status(404, 'NotFound', 'not found'),
      ),
      result: 'requeue',
      level: 'debug',
    },
    {
      what: 'a 404 of anything else is an error',
      err: new ApiError(
        'GET',
        '/api/v1/namespaces/im/configmaps/x',
        404,
        'configmaps "x" not found',
        {},
      ),
      result: 'error',
      level: 'error',
    },
    {
      what: 'a 403 is an error that says which request was refused',
      err: new ApiError(
        'POST',
        '/api/v1/namespaces/im/events',
        403,
        'events is forbidden: User "x" cannot create resource "events"',
        {},
      ),
      result: 'error',
      level: 'error',
    },
    {
      what: 'an error that is no API answer is an error with its message and cause',
      err: new Error('GET /api/v1/pods: connect ECONNREFUSED', {
        cause: new Error('ECONNREFUSED'),
      }),
      result: 'error',
      level: 'error',
    },
  ])('$what', async ({ err, result, level }) => {
    const lines: string[] = [];
    const log = jsonLogger({ level: 'debug', write: (l) => void lines.push(l) });
    let calls = 0;
    const { controller, clock, metrics } = start(
      () => (++calls === 1 ? Promise.reject(err) : Promise.resolve()),
      { log },
    );
    controller.enqueue('campus-a');
    await clock.tick(1_000);
    expect(calls).toBe(2); // retried with back-off either way
    const counted = (r: string): Promise<boolean> =>
      metric(metrics, `controller_runtime_reconcile_total{controller="test",result="${r}"} 1`);
    expect(await counted(result)).toBe(true);
    expect(
      await metric(
        metrics,
        `controller_runtime_reconcile_errors_total{controller="test"} ${result === 'error' ? 1 : 0}`,
      ),
    ).toBe(true);
    const logged = lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l['key'] === 'campus-a' && l['msg'] !== 'reconciled');
    expect(logged).toHaveLength(1);
    const [line] = logged;
    expect(line).toMatchObject({ level, controller: 'test', key: 'campus-a' });
    expect(line?.['msg']).toBe(
      level === 'debug' ? 'conflict, requeued' : 'reconcile failed; retrying with back-off',
    );
    // one line that names the request, the code and the API's message; no headers, no body
    expect(line?.['error']).toBe(
      err.message.includes('ECONNREFUSED') ? 'GET /api/v1/pods: connect ECONNREFUSED' : err.message,
    );
    expect(JSON.stringify(line)).not.toMatch(/Headers|Body|"kind":"Status"/);
    if (err instanceof ApiError)
      expect(line?.['error']).toContain(`${err.method} ${err.path}: HTTP ${err.code}`);
  });

  it('looks again after requeueAfter, not before, and counts it as requeue_after', async () => {
    const at: number[] = [];
    const results: (ReconcileResult | undefined)[] = [{ requeueAfter: 5_000 }, undefined];
    const { controller, clock, metrics } = start(() => {
      at.push(clock.now());
      return Promise.resolve(results[at.length - 1]);
    });
    const t0 = clock.now();
    controller.enqueue('ns/a');
    await clock.tick(4_999);
    expect(at).toHaveLength(1);
    await clock.tick(1);
    expect(at.map((t) => t - t0)).toEqual([0, 5_000]);
    expect(
      await metric(
        metrics,
        'controller_runtime_reconcile_total{controller="test",result="requeue_after"} 1',
      ),
    ).toBe(true);
  });

  it('on stop, takes no new keys but lets the reconcile in flight finish', async () => {
    const g = gate();
    const started: string[] = [];
    let sawAbort = false;
    const h = start(async ({ key, signal }) => {
      started.push(key);
      await g.promise;
      sawAbort = signal.aborted;
    });
    h.controller.enqueue('ns/a');
    h.controller.enqueue('ns/b');
    await flush();
    h.stop.abort();
    let stopped = false;
    void h.running.then(() => (stopped = true));
    await flush();
    expect(stopped).toBe(false); // waiting for ns/a
    g.open();
    await flush();
    expect(stopped).toBe(true);
    expect(started).toEqual(['ns/a']); // ns/b was never started
    expect(sawAbort).toBe(true); // the reconcile could tell it should wrap up
  });

  it('stops waiting for a stuck reconcile after its drain timeout', async () => {
    const h = start(() => new Promise<void>(() => {}), { drainTimeoutMs: 1_000 });
    h.controller.enqueue('ns/stuck');
    await flush();
    h.stop.abort();
    let stopped = false;
    void h.running.then(() => (stopped = true));
    await h.clock.tick(999);
    expect(stopped).toBe(false);
    await h.clock.tick(1);
    expect(stopped).toBe(true);
  });

  it('reports workers in use while reconciling', async () => {
    const g = gate();
    const { controller, metrics } = start(() => g.promise, { workers: 2 });
    controller.enqueue('ns/a');
    await flush();
    expect(await metric(metrics, 'controller_runtime_active_workers{controller="test"} 1')).toBe(
      true,
    );
    g.open();
    await flush();
    expect(await metric(metrics, 'controller_runtime_active_workers{controller="test"} 0')).toBe(
      true,
    );
  });
});
