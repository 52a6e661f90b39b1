// The dial-test prober (docs/background.md §1): synthetic users doing what real ones
// do — log in, send, send to a group, pay, sync — at a set rate against the
// access tier, plus a check that every acknowledged message reaches each
// recipient exactly once. It reports successes, failures and latency per
// service and API, per time window and in total, as JSON and as Prometheus
// metrics; failures before the target first served are start-up, counted
// apart. The daily drill runs one before, during and after blocking a campus
// and compares the windows.
//
// This file is the run: set-up, the open loop, the drain, stop. The parts:
// users.ts (set-up), operations.ts (the mix), pace.ts (when), recorder.ts and
// startup.ts (what counts), delivery.ts (the ledger), stats.ts (windows),
// report.ts, metrics.ts, clock.ts.
import { randomBytes } from 'node:crypto';
import { Registry } from 'prom-client';
import { createClient } from '../access/client.ts';
import type { Logger } from '../shared/log.ts';
import { silentLogger } from '../shared/log.ts';
import type { EndpointSource } from '../shared/upstream.ts';
import { realClock } from './clock.ts';
import type { ProberClock } from './clock.ts';
import { createLedger, expire, pending, prune } from './delivery.ts';
import { proberMetrics } from './metrics.ts';
import { mixWheel, runOperation, syncUser } from './operations.ts';
import type { OperationContext, ProberOp } from './operations.ts';
import { dueOperations, waitMs } from './pace.ts';
import { createRecorder } from './recorder.ts';
import { buildReport } from './report.ts';
import type { ProberPhase, ProberReport } from './report.ts';
import { login, setUpUsers, syntheticUsers } from './users.ts';
import type { ProberClient } from './users.ts';

export { proberOps } from './operations.ts';
export type { ProberOp } from './operations.ts';
export type { ProberPhase, ProberReport } from './report.ts';
export type { ProberClock } from './clock.ts';
export type { ProberClient } from './users.ts';

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
  /** Operations in flight beyond which a due one is skipped (default max(4, rate)). */
  readonly maxInFlight?: number;
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
  /** Time and waits (default the real ones). */
  readonly clock?: ProberClock;
  /** For the latency sample kept per cell (default Math.random). */
  readonly random?: () => number;
  /** Stands in for the access client built from `target`/`endpoints` (tests). */
  readonly client?: ProberClient;
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

function accessClient(opts: ProberOptions): ProberClient {
  const endpoints = opts.endpoints;
  let turn = 0;
  return createClient(
    endpoints
      ? () => {
          const list = endpoints.endpoints();
          return list.length === 0 ? undefined : list[turn++ % list.length];
        }
      : opts.target,
    { timeoutMs: opts.requestTimeoutMs ?? 5000 },
  );
}

/** The options with their defaults. */
function settings(opts: ProberOptions) {
  const durationMs = opts.durationMs ?? 60_000;
  return {
    clock: opts.clock ?? realClock,
    service: opts.service ?? 'access',
    windowMs: opts.window ?? 5000,
    durationMs,
    maxOps:
      opts.maxOps ??
      (Number.isFinite(durationMs) ? Math.ceil((opts.rate * durationMs) / 1000) : Infinity),
    maxInFlight: opts.maxInFlight ?? Math.max(4, Math.ceil(opts.rate)),
    deliveryTimeoutMs: opts.deliveryTimeoutMs ?? 10_000,
    runId: opts.runId ?? randomBytes(4).toString('hex'),
  };
}

export function startProber(opts: ProberOptions): Prober {
  if (opts.users < 2) throw new Error('prober: at least 2 users');
  if (!(opts.rate > 0)) throw new Error('prober: rate must be > 0');
  const { clock, service, windowMs, durationMs, maxOps, maxInFlight, deliveryTimeoutMs, runId } =
    settings(opts);
  const now = (): number => clock.now();
  const log = opts.log ?? silentLogger;
  const wheel = mixWheel(opts.mix);
  const client = opts.client ?? accessClient(opts);
  const startedAt = now();
  const recorder = createRecorder({
    service,
    metrics: proberMetrics(opts.registry ?? new Registry()),
    now,
    startedAt,
    windowMs,
    ...(opts.random ? { random: opts.random } : {}),
  });
  const ledger = createLedger();
  const { users, group } = syntheticUsers(runId, opts.users);
  let seq = 0;
  const ctx: OperationContext = {
    client,
    recorder,
    ledger,
    users,
    group,
    now,
    nextId: () => `${runId}-${++seq}`,
  };
  let phase: ProberPhase = 'setting-up';
  let operations = 0;
  let skipped = 0;
  const stopping = new AbortController();
  const inFlight = new Set<Promise<void>>();

  /** Counts as lost what is overdue at `overdueAt` (the drain's end: everything pending). */
  function checkDeliveries(overdueAt = now()): void {
    const at = now();
    recorder.lost(expire(ledger, overdueAt, deliveryTimeoutMs), at, deliveryTimeoutMs);
    prune(ledger, at, 10 * 60_000);
    recorder.publish(at);
  }

  async function run(): Promise<void> {
    await setUpUsers({
      client,
      timed: recorder.timed,
      users,
      group,
      clock,
      // a bounded run gives up after a minute; a standing prober keeps trying until stopped
      deadline: Number.isFinite(durationMs) ? now() + Math.min(durationMs, 60_000) : Infinity,
      signal: stopping.signal,
      log,
    });
    phase = 'running';
    markReady();
    const t0 = now();
    const deadline = t0 + durationMs;
    let checked = t0;
    while (!stopping.signal.aborted && now() < deadline && operations < maxOps) {
      const due = dueOperations(t0, now(), opts.rate, maxOps);
      while (operations < due) {
        const i = operations++;
        if (inFlight.size >= maxInFlight) {
          skipped++;
          continue;
        }
        const op = wheel[i % wheel.length] ?? 'sync';
        const p: Promise<void> = runOperation(ctx, op, i)
          .catch((err: unknown) => log.warn('prober operation failed', { op, err }))
          .finally(() => inFlight.delete(p));
        inFlight.add(p);
      }
      if (now() - checked >= 500) {
        checkDeliveries();
        checked = now();
      }
      await clock
        .sleep(waitMs(t0, now(), opts.rate, operations), stopping.signal)
        .catch(() => undefined);
    }
  }

  async function drain(): Promise<void> {
    phase = 'draining';
    const settled = new AbortController();
    await Promise.race([
      Promise.allSettled([...inFlight]),
      clock.sleep(10_000, settled.signal).catch(() => undefined),
    ]);
    settled.abort();
    const deadline = now() + deliveryTimeoutMs;
    for (let round = 0; round < 200 && pending(ledger) > 0 && now() < deadline; round++) {
      for (const u of users) {
        if (!u.session) await login(client, recorder.timed, u);
        await syncUser(ctx, u);
      }
      if (pending(ledger) > 0) await clock.sleep(100);
    }
    checkDeliveries(now() + deliveryTimeoutMs);
  }

  const report = (): ProberReport =>
    buildReport({
      target: opts.target,
      service,
      runId,
      phase,
      startedAt,
      now: now(),
      windowMs,
      operations,
      skipped,
      recorder,
      ledger,
    });

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
