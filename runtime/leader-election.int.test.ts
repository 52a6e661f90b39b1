// Two electors on one Lease of the real API server.
import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, expect } from 'vitest';
import { it } from '../e2e/harness/kube.ts';
import { done, notYet, waitFor } from '../e2e/harness/wait.ts';
import { LeaderElector } from './leader-election.ts';
import type { Lease } from './leader-election.ts';
import { kinds } from './resource.ts';
import { RestClient } from './rest.ts';

const electors: LeaderElector[] = [];
afterEach(async () => {
  for (const e of electors.splice(0)) await e.stop({ release: false });
});

interface Candidate {
  readonly elector: LeaderElector;
  /** [start, end) of each leadership term, by performance.now() */
  readonly terms: [number, number | undefined][];
  signal?: AbortSignal;
}

const timings = { leaseDurationMs: 3_000, renewDeadlineMs: 2_000, retryPeriodMs: 300 };

function candidate(rest: RestClient, namespace: string, identity: string, t = timings): Candidate {
  const c: Candidate = {
    terms: [],
    elector: new LeaderElector({
      rest,
      namespace,
      name: 'yard-test',
      identity,
      ...t,
      onStartedLeading: (signal) => {
        c.terms.push([performance.now(), undefined]);
        c.signal = signal;
      },
      onStoppedLeading: () => {
        const last = c.terms.at(-1);
        if (last) last[1] = performance.now();
      },
    }),
  };
  electors.push(c.elector);
  c.elector.start();
  return c;
}

const readLease = (rest: RestClient, ns: string): Promise<Lease> =>
  rest.get<Lease>(kinds.Lease, ns, 'yard-test');

const leaders = (cs: readonly Candidate[]): Candidate[] => cs.filter((c) => c.elector.isLeader());

it('only one of two candidates leads, and a standby takes over once a killed leader’s lease expires', async ({
  kube,
  ns,
}) => {
  const rest = new RestClient(kube.kc);
  const cs = [candidate(rest, ns, 'a'), candidate(rest, ns, 'b')];
  const first = await waitFor('a leader', () => {
    const l = leaders(cs);
    return l.length === 1 && l[0] ? done(l[0]) : notYet(l.length);
  });
  const standby = cs.find((c) => c !== first);
  if (!standby) throw new Error('no standby');

  // several renew periods: the standby never leads while the leader renews
  for (let i = 0; i < 20; i++) {
    expect(leaders(cs)).toEqual([first]);
    await delay(100);
  }

  // kill -9: the leader stops renewing and does not release
  await first.elector.stop({ release: false });
  const lastRenew = Date.parse((await readLease(rest, ns)).spec?.renewTime ?? '');
  await waitFor(
    'the standby to lead',
    () => (standby.elector.isLeader() ? done(true) : notYet(standby.elector.leader())),
    { timeoutMs: 20_000, intervalMs: 50 },
  );
  const lease = await readLease(rest, ns);
  expect(lease.spec?.holderIdentity).toBe(standby.elector.identity);
  expect(lease.spec?.leaseTransitions).toBe(1);
  // both candidates share this machine's clock, so the lease's own times can be compared:
  // not taken before it expired (a leader that is only slow might still be acting)...
  const tookOver = Date.parse(lease.spec?.acquireTime ?? '') - lastRenew;
  expect(tookOver).toBeGreaterThanOrEqual(timings.leaseDurationMs);
  // ...and taken within the lease duration plus a jittered retry (generously)
  expect(tookOver).toBeLessThanOrEqual(
    timings.leaseDurationMs + 2.2 * timings.retryPeriodMs + 5_000,
  );
});

it('a graceful release hands over at once, not after the lease expires', async ({ kube, ns }) => {
  const rest = new RestClient(kube.kc);
  const long = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 500 };
  const a = candidate(rest, ns, 'a', long);
  await waitFor('a to lead', () => (a.elector.isLeader() ? done(true) : notYet(false)));
  const b = candidate(rest, ns, 'b', long);
  await waitFor('b to see a as leader', () =>
    b.elector.leader() === 'a' ? done(true) : notYet(b.elector.leader()),
  );

  const releasedAt = performance.now();
  await a.elector.stop(); // releases
  expect(a.signal?.aborted).toBe(true);
  await waitFor('b to lead', () => (b.elector.isLeader() ? done(true) : notYet(false)), {
    intervalMs: 50,
  });
  // within a couple of retries; the lease itself would have lasted 15 s
  expect((b.terms[0]?.[0] ?? 0) - releasedAt).toBeLessThan(5_000);
});

it('a leader whose lease is taken stops its leader work', async ({ kube, ns }) => {
  const rest = new RestClient(kube.kc);
  const a = candidate(rest, ns, 'a');
  await waitFor('a to lead', () => (a.elector.isLeader() ? done(true) : notYet(false)));
  const signal = a.signal;
  // someone else writes the lease (as an operator with a clock far off might)
  const lease = await readLease(rest, ns);
  await rest.replace<Lease>(kinds.Lease, {
    ...lease,
    spec: { ...lease.spec, holderIdentity: 'intruder', leaseDurationSeconds: 60 },
  });
  await waitFor('a to stop leading', () => (!a.elector.isLeader() ? done(true) : notYet(true)), {
    timeoutMs: 10_000,
  });
  expect(signal?.aborted).toBe(true);
  expect(a.terms[0]?.[1]).toBeDefined();
});
