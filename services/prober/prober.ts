// The dial-test prober (WECHAT.md §1): synthetic users doing what real ones
// do — log in, send, send to a group, pay, sync — at a set rate against the
// access tier, plus a check that every acknowledged message reaches each
// recipient exactly once. It reports successes, failures and latency per
// service and API, per time window and in total, as JSON and as Prometheus
// metrics. The daily drill runs one before, during and after blocking a
// campus and compares the windows.
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { createClient } from '../access/client.ts';
import type { ApiResult, Session } from '../access/client.ts';
import type { Logger } from '../shared/log.ts';
import { silentLogger } from '../shared/log.ts';
import { latencyBuckets } from '../shared/metrics.ts';
import type { EndpointSource } from '../shared/upstream.ts';
import { createLedger, expectMessage, expire, pending, prune, receive } from './delivery.ts';
import { percentile, addSample, createStats, summarize } from './stats.ts';
import type { ApiStats, WindowStats } from './stats.ts';

export const proberOps = ['send', 'sync', 'group-send', 'pay', 'login'] as const;
export type ProberOp = (typeof proberOps)[number];

export interface ProberOptions {
  /** The access tier's URL, or how it was found (`pods:…`): the name the report gives. */
  readonly target: string;
  /** The access instances to spread over, round-robin (default: `target` as the one URL). */
  readonly endpoints?: EndpointSource;
  /** Operations per second. */
  readonly rate: number;
  /** Synthetic users (at least 2). */
  readonly users: number;
  /** Report window, ms (default 5000). */
  readonly window?: number;
  /** Stop after this long (default 60 s; Infinity runs until stop()). */
  readonly durationMs?: number;
  /** Stop after this many operations (default: rate × duration). */
  readonly maxOps?: number;
  /** The name the target is reported under (default `access`). */
  readonly service?: string;
  /** An acknowledged message not received this long after it was sent counts as lost (default 10 s). */
  readonly deliveryTimeoutMs?: number;
  /** Relative weights of the operations (default send 8, sync 8, group-send 2, pay 1, login 1). */
  readonly mix?: Partial<Record<ProberOp, number>>;
  /** Per request (default 5 s). */
  readonly requestTimeoutMs?: number;
  /** Distinguishes this run's users from other runs' (default random). */
  readonly runId?: string;
  readonly registry?: Registry;
  readonly log?: Logger;
}

export type ProberPhase = 'setting-up' | 'running' | 'draining' | 'stopped';

export interface ProberReport {
  readonly target: string;
  readonly service: string;
  readonly runId: string;
  readonly phase: ProberPhase;
  readonly startedAt: string;
  readonly at: string;
  readonly windowMs: number;
  readonly operations: number;
  /** Operations not started because too many were still in flight (the target is slow). */
  readonly skipped: number;
  readonly totals: {
    readonly ok: number;
    readonly failed: number;
    readonly shed: number;
    readonly successRate: number | null;
  };
  readonly apis: readonly ApiStats[];
  readonly windows: readonly WindowStats[];
  readonly delivery: {
    readonly expected: number;
    readonly delivered: number;
    readonly pending: number;
    readonly lost: number;
    readonly late: number;
    readonly duplicates: number;
    readonly unacked: number;
    readonly p50Ms: number | null;
    readonly p99Ms: number | null;
  };
  readonly recentFailures: readonly {
    readonly at: string;
    readonly api: string;
    readonly status: number;
    readonly reason: string;
  }[];
}

export interface Prober {
  /** Resolves when the users exist and traffic runs. */
  readonly ready: Promise<void>;
  /** Resolves with the final report once the run ended (bounds reached or stop()). */
  readonly done: Promise<ProberReport>;
  report(): ProberReport;
  /** Stops sending, waits for every acknowledged message (up to the delivery timeout), reports. */
  stop(): Promise<ProberReport>;
}

interface User {
  readonly name: string;
  session: Session | undefined;
  snapshot: string | undefined;
  syncing: boolean;
}

const defaultMix: Record<ProberOp, number> = {
  send: 8,
  sync: 8,
  'group-send': 2,
  pay: 1,
  login: 1,
};
const password = 'prober-password-not-secret';

function proberMetrics(registry: Registry) {
  const registers = [registry];
  return {
    requests: new Counter({
      name: 'yard_prober_requests_total',
      help: 'Dial-test requests by target service, API and outcome (ok, failed, shed).',
      labelNames: ['service', 'api', 'outcome'],
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

export function startProber(opts: ProberOptions): Prober {
  if (opts.users < 2) throw new Error('prober: at least 2 users');
  if (!(opts.rate > 0)) throw new Error('prober: rate must be > 0');
  const service = opts.service ?? 'access';
  const windowMs = opts.window ?? 5000;
  const durationMs = opts.durationMs ?? 60_000;
  const maxOps =
    opts.maxOps ??
    (Number.isFinite(durationMs) ? Math.ceil((opts.rate * durationMs) / 1000) : Infinity);
  const deliveryTimeoutMs = opts.deliveryTimeoutMs ?? 10_000;
  const runId = opts.runId ?? randomBytes(4).toString('hex');
  const log = opts.log ?? silentLogger;
  let turn = 0;
  const endpoints = opts.endpoints;
  const client = createClient(
    endpoints
      ? () => {
          const list = endpoints.endpoints();
          return list.length === 0 ? undefined : list[turn++ % list.length];
        }
      : opts.target,
    { timeoutMs: opts.requestTimeoutMs ?? 5000 },
  );
  const metrics = proberMetrics(opts.registry ?? new Registry());
  const startedAt = Date.now();
  const stats = createStats(startedAt, windowMs);
  const ledger = createLedger();
  const deliveryLatencies: number[] = [];
  const recentFailures: { at: string; api: string; status: number; reason: string }[] = [];
  const users: User[] = Array.from({ length: opts.users }, (_, i) => ({
    name: `p-${runId}-${i}`,
    session: undefined,
    snapshot: undefined,
    syncing: false,
  }));
  const group = `p-${runId}`;
  const mix = { ...defaultMix, ...opts.mix };
  const wheel = proberOps.flatMap((op) =>
    Array<ProberOp>(Math.max(0, Math.round(mix[op]))).fill(op),
  );
  if (wheel.length === 0) throw new Error('prober: the operation mix is empty');
  const maxInFlight = Math.max(4, Math.ceil(opts.rate));
  let phase: ProberPhase = 'setting-up';
  let operations = 0;
  let skipped = 0;
  let inFlight = 0;
  let seq = 0;
  const stopping = new AbortController();
  const inFlightDone = new Set<Promise<void>>();

  function record<T>(api: string, started: number, r: ApiResult<T>): ApiResult<T> {
    const ms = performance.now() - started;
    const shed = !r.ok && r.shed !== undefined;
    addSample(stats, { service, api, ok: r.ok, shed, ms, at: Date.now() });
    metrics.requests.inc({ service, api, outcome: r.ok ? 'ok' : shed ? 'shed' : 'failed' });
    metrics.duration.observe({ service, api }, ms / 1000);
    if (!r.ok) {
      recentFailures.push({
        at: new Date().toISOString(),
        api,
        status: r.status,
        reason: r.reason,
      });
      if (recentFailures.length > 20) recentFailures.shift();
    }
    return r;
  }

  async function timed<T>(api: string, call: () => Promise<ApiResult<T>>): Promise<ApiResult<T>> {
    return record(api, performance.now(), await call());
  }

  const ok = <T>(r: ApiResult<T>): T | undefined => (r.ok ? r.body : undefined);

  async function login(u: User): Promise<boolean> {
    const r = ok(await timed('login', () => client.login(u.name, password)));
    if (r) u.session = client.session(u.name, r.ticket);
    return r !== undefined;
  }

  /** Registers (or finds) and logs in every synthetic user. */
  async function createUsers(): Promise<void> {
    for (const u of users) {
      if (u.session) continue;
      const reg = await timed('register', () => client.register(u.name, u.name, password));
      if (!reg.ok && reg.status !== 409) throw new Error(`register ${u.name}: ${reg.reason}`);
      if (!(await login(u))) throw new Error(`login ${u.name} failed`);
    }
  }

  /** A ring of contacts for 1:1 sends; the first user knows everyone and owns the group. */
  async function connectUsers(): Promise<void> {
    const [first, ...rest] = users;
    for (const [i, u] of users.entries()) {
      const next = users[(i + 1) % users.length];
      if (next && next !== u) await must('add-contact', u.session?.addContact(next.name));
    }
    for (const u of rest.slice(1, -1))
      await must('add-contact', first?.session?.addContact(u.name));
    const members = rest.map((u) => u.name);
    await must('create-group', first?.session?.createGroup(group, 'dial test', members));
  }

  async function setup(): Promise<void> {
    // a bounded run gives up after a minute; a standing prober keeps trying until stopped
    const deadline = Number.isFinite(durationMs)
      ? Date.now() + Math.min(durationMs, 60_000)
      : Infinity;
    for (let attempt = 0; !stopping.signal.aborted && Date.now() < deadline; attempt++) {
      try {
        await createUsers();
        await connectUsers();
        return;
      } catch (err) {
        log.warn('prober setup failed; retrying', { err, attempt });
        const backoff = Math.min(5000, 250 * 2 ** attempt);
        await sleep(backoff, undefined, { signal: stopping.signal }).catch(() => undefined);
      }
    }
    throw new Error('prober: setup did not finish');
  }

  async function must<T>(api: string, call: Promise<ApiResult<T>> | undefined): Promise<T> {
    if (!call) throw new Error(`${api}: not logged in`);
    const r = await timed(api, () => call);
    if (!r.ok) throw new Error(`${api}: ${r.status} ${r.reason}`);
    return r.body;
  }

  async function syncUser(u: User): Promise<void> {
    if (!u.session || u.syncing) return;
    u.syncing = true;
    try {
      for (let round = 0; round < 10; round++) {
        const r = await timed('sync', () => u.session!.sync(u.snapshot));
        if (!r.ok) {
          if (r.status === 401) u.session = undefined;
          return;
        }
        const now = Date.now();
        for (const m of r.body.messages) {
          const got = receive(ledger, u.name, `${m.from}/${m.id}`, now);
          if (got.kind === 'first' || got.kind === 'late') {
            deliveryLatencies.push(got.latencyMs);
            if (deliveryLatencies.length > 10_000) deliveryLatencies.shift();
            metrics.deliveries.inc({
              service,
              outcome: got.kind === 'first' ? 'delivered' : 'late',
            });
            metrics.deliverySeconds.observe({ service }, got.latencyMs / 1000);
            addSample(stats, { service, api: 'delivery', ok: true, ms: got.latencyMs, at: now });
          } else if (got.kind === 'duplicate') {
            metrics.deliveries.inc({ service, outcome: 'duplicate' });
            addSample(stats, { service, api: 'delivery', ok: false, ms: 0, at: now });
            recentFailures.push({
              at: new Date(now).toISOString(),
              api: 'delivery',
              status: 0,
              reason: `duplicate ${m.from}/${m.id} for ${u.name}`,
            });
          }
        }
        u.snapshot = r.body.snapshot;
        if (!r.body.more) return;
      }
    } finally {
      u.syncing = false;
    }
  }

  async function operation(op: ProberOp, i: number): Promise<void> {
    const u = users[i % users.length];
    const to = users[(i + 1) % users.length];
    if (!u || !to) return;
    if (!u.session) {
      await login(u);
      return;
    }
    const s = u.session;
    const id = `${runId}-${++seq}`;
    switch (op) {
      case 'send': {
        const r = await timed('send', () => s.send(to.name, id, `dial test ${id}`));
        if (r.ok) expectMessage(ledger, `${u.name}/${id}`, [to.name], Date.now());
        else if (r.status === 401) u.session = undefined;
        return;
      }
      case 'pay': {
        const r = await timed('pay', () => s.pay(to.name, id, 1));
        if (r.ok) expectMessage(ledger, `${u.name}/${id}`, [to.name], Date.now());
        return;
      }
      case 'group-send': {
        const sender = users[1 + (i % (users.length - 1))] ?? u;
        if (!sender.session) return;
        const gs = sender.session;
        const r = await timed('group-send', () => gs.groupSend(group, id, `dial test ${id}`));
        if (r.ok)
          expectMessage(
            ledger,
            `${sender.name}/${id}`,
            users.map((m) => m.name),
            Date.now(),
          );
        return;
      }
      case 'sync':
        await syncUser(u);
        return;
      case 'login':
        await login(u);
        return;
    }
  }

  function checkDeliveries(now: number): void {
    const lost = expire(ledger, now, deliveryTimeoutMs);
    for (let i = 0; i < lost; i++) {
      metrics.deliveries.inc({ service, outcome: 'lost' });
      addSample(stats, { service, api: 'delivery', ok: false, ms: deliveryTimeoutMs, at: now });
    }
    if (lost > 0) {
      recentFailures.push({
        at: new Date(now).toISOString(),
        api: 'delivery',
        status: 0,
        reason: `${lost} acknowledged messages not received within ${deliveryTimeoutMs} ms`,
      });
    }
    prune(ledger, now, 10 * 60_000);
    const windows = summarize(stats, now).windows;
    const lastComplete = windows[windows.length - 2];
    if (lastComplete?.successRate != null)
      metrics.successRatio.set({ service }, lastComplete.successRate);
  }

  async function run(): Promise<void> {
    await setup();
    phase = 'running';
    markReady();
    const t0 = Date.now();
    const deadline = t0 + durationMs;
    let checked = t0;
    while (!stopping.signal.aborted && Date.now() < deadline && operations < maxOps) {
      const due = Math.min(maxOps, Math.floor(((Date.now() - t0) * opts.rate) / 1000) + 1);
      while (operations < due) {
        const i = operations++;
        if (inFlight >= maxInFlight) {
          skipped++;
          continue;
        }
        const op = wheel[i % wheel.length] ?? 'sync';
        inFlight++;
        const p: Promise<void> = operation(op, i)
          .catch((err: unknown) => log.warn('prober operation failed', { op, err }))
          .finally(() => {
            inFlight--;
            inFlightDone.delete(p);
          });
        inFlightDone.add(p);
      }
      if (Date.now() - checked >= 500) {
        checkDeliveries(Date.now());
        checked = Date.now();
      }
      const next = t0 + (operations * 1000) / opts.rate;
      await sleep(Math.max(1, Math.min(500, next - Date.now())), undefined, {
        signal: stopping.signal,
      }).catch(() => undefined);
    }
  }

  async function drain(): Promise<void> {
    phase = 'draining';
    await Promise.race([Promise.allSettled([...inFlightDone]), sleep(10_000)]);
    const deadline = Date.now() + deliveryTimeoutMs;
    for (let round = 0; round < 200 && pending(ledger) > 0 && Date.now() < deadline; round++) {
      for (const u of users) {
        if (!u.session) await login(u);
        await syncUser(u);
      }
      if (pending(ledger) > 0) await sleep(100);
    }
    checkDeliveries(Date.now() + deliveryTimeoutMs);
  }

  function report(): ProberReport {
    const now = Date.now();
    const { windows, apis } = summarize(stats, now);
    const real = apis.filter((a) => a.api !== 'delivery');
    const okN = real.reduce((n, a) => n + a.ok, 0);
    const failed = real.reduce((n, a) => n + a.failed, 0);
    return {
      target: opts.target,
      service,
      runId,
      phase,
      startedAt: new Date(startedAt).toISOString(),
      at: new Date(now).toISOString(),
      windowMs,
      operations,
      skipped,
      totals: {
        ok: okN,
        failed,
        shed: real.reduce((n, a) => n + a.shed, 0),
        successRate: okN + failed > 0 ? okN / (okN + failed) : null,
      },
      apis,
      windows,
      delivery: {
        expected: ledger.expected,
        delivered: ledger.delivered,
        pending: pending(ledger),
        lost: ledger.lost,
        late: ledger.late,
        duplicates: ledger.duplicates,
        unacked: ledger.unacked,
        p50Ms: percentile(deliveryLatencies, 50),
        p99Ms: percentile(deliveryLatencies, 99),
      },
      recentFailures: [...recentFailures],
    };
  }

  let markReady: () => void = () => {};
  let markFailed: (err: unknown) => void = () => {};
  const ready = new Promise<void>((resolve, reject) => {
    markReady = resolve;
    markFailed = reject;
  });
  ready.catch(() => undefined);
  const done = (async () => {
    try {
      await run();
    } catch (err) {
      markFailed(err);
      log.error('prober stopped', { err });
    }
    // a no-op once ready: a stop during set-up rejects `ready`
    markFailed(new Error('prober stopped before it was ready'));
    await drain();
    phase = 'stopped';
    return report();
  })();

  return {
    ready,
    done,
    report,
    stop: () => {
      stopping.abort();
      return done;
    },
  };
}
