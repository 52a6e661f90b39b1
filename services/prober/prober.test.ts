// The prober's run on a virtual clock against an in-memory access tier: every
// operation of the mix runs and is counted, start-up failures are counted
// apart from failures, and a backend that loses or duplicates a message is
// caught. No real time passes and nothing listens (prober.int.test.ts runs it
// against the real tiers).
import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import type { ApiResult, SyncAnswer } from '../access/client.ts';
import type { BoxItem, Group } from '../shared/im.ts';
import type { ProberClock } from './clock.ts';
import { dueOperations, waitMs } from './pace.ts';
import { startProber } from './prober.ts';
import type { ProberClient, ProberOptions, ProberReport } from './prober.ts';
import { outcomeOf } from './startup.ts';
import type { Outcome } from './startup.ts';

const t0 = 1_700_000_000_000;

/** Time that moves only when everything that can run has run: then to the next timer. */
function virtualClock(start = t0) {
  let t = start;
  let seq = 0;
  const timers: { at: number; seq: number; fire: () => void }[] = [];
  const clock: ProberClock = {
    now: () => t,
    sleep: (ms, signal) =>
      new Promise<void>((resolve, reject) => {
        if (signal?.aborted) {
          reject(new Error('aborted'));
          return;
        }
        const timer = { at: t + Math.max(0, ms), seq: seq++, fire: resolve };
        timers.push(timer);
        signal?.addEventListener(
          'abort',
          () => {
            const i = timers.indexOf(timer);
            if (i >= 0) timers.splice(i, 1);
            reject(new Error('aborted'));
          },
          { once: true },
        );
      }),
  };
  /** Runs the world until `p` settles (bounded: a prober that never ends fails the test). */
  async function until<T>(p: Promise<T>, maxSteps = 200_000): Promise<T> {
    let settled = false;
    p.then(
      () => (settled = true),
      () => (settled = true),
    );
    for (let step = 0; step < maxSteps; step++) {
      await new Promise((r) => setImmediate(r));
      if (settled) return p;
      timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = timers.shift();
      if (!next) throw new Error('virtual clock: nothing is waiting, yet the promise is pending');
      t = Math.max(t, next.at);
      next.fire();
    }
    throw new Error(`virtual clock: not settled after ${maxSteps} steps`);
  }
  return { clock, until, now: () => t };
}

interface Refusal {
  readonly status: number;
  readonly reason: string;
  readonly shed?: string;
}

interface Call {
  /** 1 for the first request the tier gets. */
  readonly n: number;
  /** Milliseconds since the prober started. */
  readonly ms: number;
  readonly api: string;
}

interface TierOptions {
  /** Each request takes this long (virtual). */
  readonly latencyMs?: number;
  /** A refusal for this request (the tier down, shedding), or undefined to serve it. */
  readonly fault?: (c: Call) => Refusal | undefined;
  /** Acknowledges 1:1 message n (1-based) without storing it: a lost message. */
  readonly drop?: (n: number) => boolean;
  /** Stores 1:1 message n twice: a duplicate. */
  readonly twice?: (n: number) => boolean;
}

/** An access tier in memory, with the semantics the prober relies on; `stats` say what it did. */
function fakeAccess(clock: ProberClock, o: TierOptions = {}) {
  const accounts = new Map<string, string>();
  const contacts = new Map<string, Set<string>>();
  const groups = new Map<string, Group>();
  const inboxes = new Map<string, BoxItem[]>();
  const stats = { requests: 0, dropped: 0, doubled: 0, directs: 0 };
  const inbox = (u: string): BoxItem[] => {
    let b = inboxes.get(u);
    if (!b) inboxes.set(u, (b = []));
    return b;
  };
  const deliver = (to: string, m: Omit<BoxItem, 'seq'>): void => {
    const b = inbox(to);
    if (b.some((x) => x.from === m.from && x.id === m.id)) return; // idempotent by (from, id)
    b.push({ ...m, seq: b.length + 1 });
  };
  const refuse = (status: number, reason: string, shed?: string): ApiResult<never> => ({
    ok: false,
    status,
    reason,
    shed,
  });
  async function answer<T>(api: string, serve: () => ApiResult<T>): Promise<ApiResult<T>> {
    const n = ++stats.requests;
    const f = o.fault?.({ n, ms: clock.now() - t0, api });
    // the tier acts at once and its answer takes the latency to arrive: a
    // recipient's sync can see a message before its sender has the ack
    const r = f ? refuse(f.status, f.reason, f.shed) : serve();
    if (o.latencyMs) await clock.sleep(o.latencyMs);
    return r;
  }
  const ok = <T>(body: T, status = 200): ApiResult<T> => ({ ok: true, status, body });

  const client: ProberClient = {
    register: (user, _name, password) =>
      answer('register', () => {
        if (accounts.has(user)) return refuse(409, 'exists');
        accounts.set(user, password);
        return ok({ user }, 201);
      }),
    login: (user, password) =>
      answer('login', () =>
        accounts.get(user) === password
          ? ok({ user, ticket: `ticket-${user}`, expiresAt: t0 + 3_600_000 })
          : refuse(401, 'wrong password'),
      ),
    session: (user, ticket) => ({
      user,
      ticket,
      sync: (snapshot?: string) =>
        answer('sync', () => {
          const after = snapshot === undefined ? 0 : Number(snapshot);
          const newer = inbox(user).filter((m) => m.seq > after);
          const messages = newer.slice(0, 100);
          const last = messages[messages.length - 1]?.seq ?? after;
          const body: SyncAnswer = {
            messages,
            more: newer.length > messages.length,
            gap: false,
            snapshot: String(last),
          };
          return ok(body);
        }),
      send: (to, id, text) =>
        answer('send', () => {
          if (!contacts.get(user)?.has(to)) return refuse(403, 'not a contact');
          const n = ++stats.directs;
          const m = { id, from: user, to, kind: 'text' as const, text, sentAt: clock.now() };
          if (o.drop?.(n)) stats.dropped++;
          else deliver(to, m);
          if (o.twice?.(n)) {
            stats.doubled++;
            inbox(to).push({ ...m, seq: inbox(to).length + 1 });
          }
          return ok({ id, seq: n });
        }),
      addContact: (contact) =>
        answer('add-contact', () => {
          for (const [a, b] of [
            [user, contact],
            [contact, user],
          ] as const) {
            let s = contacts.get(a);
            if (!s) contacts.set(a, (s = new Set()));
            s.add(b);
          }
          return ok({ contact, version: 1 });
        }),
      createGroup: (id, name, members) =>
        answer('create-group', () => {
          const group: Group = { id, name, owner: user, members, createdAt: clock.now() };
          groups.set(id, group);
          return ok({ group }, 201);
        }),
      groupSend: (group, id, text) =>
        answer('group-send', () => {
          const g = groups.get(group);
          if (!g || (g.owner !== user && !g.members.includes(user)))
            return refuse(403, 'not a member');
          for (const to of [g.owner, ...g.members])
            deliver(to, { id, from: user, group, kind: 'text', text, sentAt: clock.now() });
          return ok({ id, queued: true }, 202);
        }),
      pay: (to, id, amountCents) =>
        answer('pay', () => {
          deliver(to, {
            id,
            from: user,
            to,
            kind: 'transfer',
            text: '',
            amountCents,
            sentAt: clock.now(),
          });
          return ok({ id, seq: 0 });
        }),
    }),
  };
  return { client, stats };
}

async function probe(
  tier: TierOptions,
  opts: Partial<ProberOptions> = {},
): Promise<{
  r: ProberReport;
  ready: boolean;
  stats: { requests: number; dropped: number; doubled: number };
  metrics: string;
}> {
  const v = virtualClock();
  const fake = fakeAccess(v.clock, tier);
  const registry = new Registry();
  const p = startProber({
    target: 'fake',
    rate: 40,
    users: 4,
    window: 1000,
    maxOps: 120,
    durationMs: 20_000,
    runId: 'run',
    random: () => 0.5,
    clock: v.clock,
    client: fake.client,
    registry,
    ...opts,
  });
  const ready = await v.until(
    p.ready.then(
      () => true,
      () => false,
    ),
  );
  const r = await v.until(p.done);
  return { r, ready, stats: fake.stats, metrics: await registry.metrics() };
}

const api = (r: ProberReport, name: string) => r.apis.find((a) => a.api === name);

describe('the prober on a virtual clock', () => {
  it('runs every one of its 120 operations in the mix and counts each request, window and delivery', async () => {
    const { r, ready } = await probe({ latencyMs: 5 });
    expect(ready).toBe(true);
    expect(r).toMatchObject({ phase: 'stopped', operations: 120, skipped: 0 });
    expect(r.totals).toMatchObject({ failed: 0, shed: 0, successRate: 1 });
    expect(r.startup).toMatchObject({ failed: 0, shed: 0 });
    expect(r.startup.servedAt).not.toBeNull();
    // the wheel of 20 (send 8, sync 8, group-send 2, pay 1, login 1) six times over;
    // set-up adds 4 registers, 4 logins, a ring of 4 contacts and the owner's 1 more, 1 group
    const okOf = Object.fromEntries(r.apis.map((a) => [a.api, a.ok]));
    expect(okOf).toMatchObject({
      send: 48,
      'group-send': 12,
      pay: 6,
      login: 6 + 4,
      register: 4,
      'add-contact': 5,
      'create-group': 1,
    });
    expect(okOf['sync']).toBeGreaterThanOrEqual(48);
    expect(api(r, 'send')).toMatchObject({ service: 'access', failed: 0, p50Ms: 5, p99Ms: 5 });
    // 48 sends and 6 payments to one recipient, 12 group messages to all 4 users
    expect(r.delivery).toMatchObject({
      expected: 48 + 6 + 12 * 4,
      delivered: 48 + 6 + 12 * 4,
      pending: 0,
      lost: 0,
      duplicates: 0,
      unacked: 0,
    });
    // 120 operations at 40/s take 3 s after the set-up: at least 3 windows of exactly 1 s
    expect(r.windows.length).toBeGreaterThanOrEqual(3);
    expect(r.windows.every((w) => w.end - w.start === 1000)).toBe(true);
    expect(r.windows.reduce((n, w) => n + w.ok, 0)).toBe(r.apis.reduce((n, a) => n + a.ok, 0));
  });

  it('skips, and counts, operations due while too many are still in flight', async () => {
    const { r } = await probe({ latencyMs: 1000 }, { maxInFlight: 4 });
    expect(r.operations).toBe(120);
    expect(r.skipped).toBeGreaterThan(0);
    expect(r.skipped).toBeLessThan(120);
    expect(r.totals.failed).toBe(0);
  });

  it.each<{
    name: string;
    tier: TierOptions;
    mix?: ProberOptions['mix'];
    want: {
      ready: boolean;
      startup: [number, number];
      startupShed?: number;
      failed: [number, number];
      shed?: number;
      served: boolean;
      reason?: string;
    };
  }>([
    {
      name: 'a target refusing its first 4 requests: they are start-up, none is a failure',
      tier: {
        fault: ({ n }) => (n <= 4 ? { status: 0, reason: 'connect ECONNREFUSED' } : undefined),
      },
      want: {
        ready: true,
        startup: [4, 4],
        failed: [0, 0],
        served: true,
        reason: 'connect ECONNREFUSED',
      },
    },
    {
      name: 'no access instance discovered for the first 2 s: start-up',
      tier: {
        fault: ({ ms }) =>
          ms < 2000 ? { status: 0, reason: 'no access instance serves' } : undefined,
      },
      want: {
        ready: true,
        startup: [1, 10],
        failed: [0, 0],
        served: true,
        reason: 'no access instance serves',
      },
    },
    {
      name: 'a target shedding before it ever served: start-up (shed), not shed failures',
      tier: {
        fault: ({ n }) => (n <= 3 ? { status: 503, reason: 'shed', shed: 'message' } : undefined),
      },
      want: { ready: true, startup: [3, 3], startupShed: 3, failed: [0, 0], shed: 0, served: true },
    },
    {
      name: 'a target that never comes up: all start-up, and the prober says set-up did not finish',
      tier: { fault: () => ({ status: 0, reason: 'connect ECONNREFUSED' }) },
      want: { ready: false, startup: [1, 1000], failed: [0, 0], served: false },
    },
    {
      name: 'a target that goes away 1.5 s after it served: failures are failures',
      tier: {
        fault: ({ ms }) => (ms >= 1500 ? { status: 0, reason: 'connect ECONNRESET' } : undefined),
      },
      want: { ready: true, startup: [0, 0], failed: [1, 1000], served: true },
    },
    {
      name: 'a target that sheds every payment once it served: shed failures',
      tier: {
        fault: ({ api }) =>
          api === 'pay' ? { status: 503, reason: 'shed', shed: 'payment' } : undefined,
      },
      want: { ready: true, startup: [0, 0], failed: [6, 6], shed: 6, served: true },
    },
  ])('$name', async ({ tier, mix, want }) => {
    const { r, ready, metrics } = await probe(tier, mix ? { mix } : {});
    expect(ready).toBe(want.ready);
    expect(r.phase).toBe('stopped');
    expect(r.startup.failed).toBeGreaterThanOrEqual(want.startup[0]);
    expect(r.startup.failed).toBeLessThanOrEqual(want.startup[1]);
    if (want.startupShed !== undefined) expect(r.startup.shed).toBe(want.startupShed);
    expect(r.totals.failed).toBeGreaterThanOrEqual(want.failed[0]);
    expect(r.totals.failed).toBeLessThanOrEqual(want.failed[1]);
    if (want.shed !== undefined) expect(r.totals.shed).toBe(want.shed);
    expect(r.startup.servedAt !== null).toBe(want.served);
    if (want.reason) expect(r.startup.lastFailure?.reason).toBe(want.reason);
    // start-up failures are kept out of the windows, the per-API table and the failure list
    expect(r.windows.reduce((n, w) => n + w.failed, 0)).toBe(
      r.apis.reduce((n, a) => n + a.failed, 0),
    );
    const listed = r.recentFailures.filter((f) => f.api !== 'delivery').length;
    if (r.totals.failed === 0) expect(listed).toBe(0);
    else expect(listed).toBeGreaterThan(0);
    const startupMetric = [
      ...metrics.matchAll(/^yard_prober_startup_failures_total\{[^}]*\} (\d+)$/gm),
    ].reduce((n, m) => n + Number(m[1]), 0);
    expect(startupMetric).toBe(r.startup.failed);
  });

  it.each<{ name: string; tier: TierOptions; want: { lost: number; duplicates: number } }>([
    {
      name: 'a backend that acknowledges every 10th 1:1 message and loses it',
      tier: { drop: (n) => n % 10 === 0 },
      want: { lost: 4, duplicates: 0 },
    },
    {
      name: 'a backend that stores every 16th 1:1 message twice',
      tier: { twice: (n) => n % 16 === 0 },
      want: { lost: 0, duplicates: 3 },
    },
  ])('catches $name', async ({ tier, want }) => {
    const { r, stats } = await probe({ latencyMs: 5, ...tier });
    expect(stats.dropped + stats.doubled).toBe(want.lost + want.duplicates);
    expect(r.delivery).toMatchObject({ ...want, pending: 0 });
    expect(r.delivery.delivered).toBe(r.delivery.expected - want.lost);
    expect(api(r, 'delivery')?.failed).toBe(want.lost + want.duplicates);
  });
});

describe('what counts as a failure', () => {
  it.each<{
    name: string;
    ok: boolean;
    shed: boolean;
    startedAt: number;
    servedAt?: number;
    want: Outcome;
  }>([
    {
      name: 'a success is a success, served or not',
      ok: true,
      shed: false,
      startedAt: 5,
      want: 'ok',
    },
    {
      name: 'a failure before anything served is start-up',
      ok: false,
      shed: false,
      startedAt: 5,
      want: 'startup',
    },
    {
      name: 'a shed request before anything served is start-up',
      ok: false,
      shed: true,
      startedAt: 5,
      want: 'startup',
    },
    {
      name: 'a request sent before the first success, failing after it, is start-up',
      ok: false,
      shed: false,
      startedAt: 5,
      servedAt: 6,
      want: 'startup',
    },
    {
      name: 'a request sent when the first success came is a failure',
      ok: false,
      shed: false,
      startedAt: 6,
      servedAt: 6,
      want: 'failed',
    },
    {
      name: 'a failure after serving is a failure',
      ok: false,
      shed: false,
      startedAt: 9,
      servedAt: 6,
      want: 'failed',
    },
    {
      name: 'a shed request after serving is shed',
      ok: false,
      shed: true,
      startedAt: 9,
      servedAt: 6,
      want: 'shed',
    },
  ])('$name', ({ ok, shed, startedAt, servedAt, want }) => {
    expect(outcomeOf({ ok, shed }, startedAt, servedAt)).toBe(want);
  });
});

describe('the pace of the open loop', () => {
  it.each([
    { name: 'the first operation is due at once', now: 0, rate: 10, max: 100, want: 1 },
    { name: 'one more every 1/rate', now: 250, rate: 10, max: 100, want: 3 },
    { name: 'a slow loop catches up on everything due', now: 2000, rate: 10, max: 100, want: 21 },
    { name: 'never more than the bound', now: 60_000, rate: 10, max: 100, want: 100 },
  ])('$name', ({ now, rate, max, want }) => {
    expect(dueOperations(0, now, rate, max)).toBe(want);
  });
  it.each([
    { name: 'waits until the next operation is due', now: 20, started: 1, want: 80 },
    { name: 'at least 1 ms when one is overdue', now: 500, started: 1, want: 1 },
    { name: 'at most 500 ms at a low rate', now: 0, started: 10, want: 500 },
  ])('$name', ({ now, started, want }) => {
    expect(waitMs(0, now, 10, started)).toBe(want);
  });
});
