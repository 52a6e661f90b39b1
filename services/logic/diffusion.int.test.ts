// Group write-diffusion over a real three-member etcd: every member gets each
// group message exactly once, with several workers racing, and also when the
// worker diffusing a message is killed (SIGKILL) halfway and another takes over.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor, done, notYet } from '../../e2e/harness/wait.ts';
import type { Session } from '../access/client.ts';
import { silentLogger } from '../shared/log.ts';
import type { RunningService } from '../shared/service.ts';
import { signTicket } from '../shared/ticket.ts';
import { staticEndpoints } from '../shared/upstream.ts';
import { metricValue, useStack } from '../../e2e/harness/im-stack.ts';
import { drain, must, users } from '../../e2e/harness/im-users.ts';
import { createLogic } from './app.ts';

// the stack's own logic instance diffuses nothing: each test chooses its workers
const t = useStack({ logic: { diffusion: false } });
let members: Session[];
const children = new Set<ChildProcess>();

beforeAll(async () => {
  members = await users(
    t.stack.accessUrl,
    Array.from({ length: 60 }, (_, i) => `m${i}`),
    false,
  );
  const [owner, ...rest] = members;
  if (!owner) throw new Error('no members');
  for (const m of rest) must(await owner.addContact(m.user), 'befriend');
  must(
    await owner.createGroup(
      'big',
      'Big group',
      rest.map((m) => m.user),
    ),
    'create group',
  );
}, 60_000);

afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
});

const serviceTicket = (): string =>
  signTicket(t.stack.secret, {
    sub: 'test',
    role: 'service',
    iat: Date.now(),
    exp: Date.now() + 60_000,
  });

async function pendingJobs(): Promise<
  { id: string; members: number; done: number; claimedBy?: string }[]
> {
  const res = await fetch(`${t.stack.storageUrl}/v1/jobs`, {
    headers: { authorization: `Bearer ${serviceTicket()}` },
  });
  return (
    (await res.json()) as {
      jobs: { id: string; members: number; done: number; claimedBy?: string }[];
    }
  ).jobs;
}

// what each member has received so far, synced the way a client does
const snapshots = new Map<string, string | undefined>();
const received = new Map<string, number>();

/** Syncs every member; how many times each member has received each message (`member:sender/id`). */
async function copies(): Promise<ReadonlyMap<string, number>> {
  for (const m of members) {
    const r = await drain(m, snapshots.get(m.user));
    snapshots.set(m.user, r.snapshot);
    for (const id of r.ids)
      received.set(`${m.user}:${id}`, (received.get(`${m.user}:${id}`) ?? 0) + 1);
  }
  return received;
}

function workers(n: number, diffusion: { claimTtlSeconds?: number; batch?: number } = {}) {
  const source = staticEndpoints([t.stack.storageUrl]);
  return Array.from({ length: n }, (_, i) =>
    createLogic({
      storage: { accounts: source, contacts: source, messages: source },
      ticketSecret: t.stack.secret,
      instance: `worker-${i}-${Math.random().toString(36).slice(2, 6)}`,
      diffusion: { batch: 1, idleMs: 50, ...diffusion },
      log: silentLogger,
    }),
  );
}

describe('group write-diffusion', () => {
  it('reaches every member exactly once with three workers racing', async () => {
    const senders = members.slice(1, 6);
    for (const [i, s] of senders.entries()) {
      expect(must(await s.groupSend('big', `race-${i}`, `hello ${i}`), 'group send')).toMatchObject(
        { queued: true },
      );
    }
    // the same message sent again (a client retry) is the same job, not a second one
    must(await senders[0]!.groupSend('big', 'race-0', 'hello 0'), 'group send again');
    const apps = workers(3);
    const running = await Promise.all(apps.map((a) => a.listen()));
    try {
      await waitFor(
        'the queue to drain',
        async () => ((await pendingJobs()).length === 0 ? done(true) : notYet(await pendingJobs())),
        {
          timeoutMs: 30_000,
        },
      );
    } finally {
      await Promise.all(running.map((r) => r.close()));
    }
    const counts = await copies();
    for (const m of members) {
      for (const [i, s] of senders.entries())
        expect(counts.get(`${m.user}:${s.user}/race-${i}`)).toBe(1);
    }
    const appended = await Promise.all(
      apps.map((a) => metricValue(a, 'yard_im_diffusion_appends_total', { result: 'appended' })),
    );
    expect(appended.reduce((a, b) => a + b, 0)).toBe(members.length * senders.length);
  }, 60_000);

  it('reaches every member exactly once when the diffusing worker is killed halfway and another takes over', async () => {
    const sender = members[7];
    if (!sender) throw new Error('no sender');
    must(await sender.groupSend('big', 'survivor', 'you all get this once'), 'group send');

    // the worker to die: a real process, paced so that it is killed mid-job
    const child = spawn(
      process.execPath,
      [
        fileURLToPath(new URL('./main.ts', import.meta.url)),
        '--listen',
        '127.0.0.1:0',
        '--storage',
        t.stack.storageUrl,
        '--instance',
        'doomed',
        '--diffusion-rate',
        '40',
      ],
      {
        env: { ...process.env, YARD_TICKET_SECRET: t.stack.secret },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    children.add(child);
    const stderr: string[] = [];
    child.stderr?.on('data', (d: Buffer) => stderr.push(d.toString()));
    const lines = createInterface({ input: child.stdout });
    await waitFor(
      'the doomed worker to listen',
      () =>
        new Promise<ReturnType<typeof done>>((resolve, reject) => {
          lines.once('line', (l) => resolve(done(l)));
          child.once('exit', (code) => reject(new Error(`exited ${code}: ${stderr.join('')}`)));
        }),
      { timeoutMs: 15_000 },
    );

    const atKill = await waitFor(
      'the doomed worker to report progress',
      async () => {
        const job = (await pendingJobs()).find((j) => j.id === `${sender.user}.survivor`);
        return job && job.claimedBy === 'doomed' && job.done >= 16
          ? done(job)
          : notYet(job ?? 'no job');
      },
      { timeoutMs: 20_000, intervalMs: 25 },
    );
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    children.delete(child);
    expect(atKill.done).toBeLessThan(atKill.members);

    // halfway: some members have it, some do not
    const before = [...(await copies()).entries()].filter(([k]) =>
      k.endsWith(`:${sender.user}/survivor`),
    );
    expect(before.length).toBeGreaterThanOrEqual(16);
    expect(before.length).toBeLessThan(members.length);

    // the claim lapses with the dead worker's lease; a new worker takes over
    const [app] = workers(1);
    if (!app) throw new Error('no worker');
    const running: RunningService = await app.listen();
    try {
      await waitFor(
        'the job to be taken over and finished',
        async () => {
          const jobs = await pendingJobs();
          return jobs.length === 0 ? done(true) : notYet(jobs);
        },
        { timeoutMs: 30_000 },
      );
    } finally {
      await running.close();
    }
    const after = await copies();
    for (const m of members) {
      const got = after.get(`${m.user}:${sender.user}/survivor`) ?? 0;
      expect({ member: m.user, copies: got }).toEqual({ member: m.user, copies: 1 });
    }
    expect(await metricValue(app, 'yard_im_diffusion_appends_total', { result: 'appended' })).toBe(
      members.length - before.length,
    );
  }, 60_000);
});
