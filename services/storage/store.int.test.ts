// The store against a real three-member etcd: compare-and-swap under
// concurrency, idempotent appends, trimming, watches, the diffusion queue's
// leases, and fail-over when one campus's member dies.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Message } from '../shared/im.ts';
import { startEtcdCluster } from '../../e2e/harness/etcd-cluster.ts';
import type { EtcdCluster } from '../../e2e/harness/etcd-cluster.ts';
import { createEtcd, prefixEnd } from './etcd.ts';
import { StoreError, createStore } from './store.ts';

let cluster: EtcdCluster;
let n = 0;
/** A store of its own key prefix, starting at member `first`. */
function store(first = 0, prefix = `/t${++n}/`) {
  const endpoints = cluster.endpoints.map(
    (_, i) => cluster.endpoints[(first + i) % cluster.endpoints.length] ?? '',
  );
  const etcd = createEtcd({ endpoints, attemptTimeoutMs: 1000, deadlineMs: 8000 });
  return { etcd, store: createStore(etcd, { prefix, passwordCost: 1024 }), prefix };
}
const msg = (id: string, from = 'bob', text = 'hi'): Message => ({
  id,
  from,
  kind: 'text',
  text,
  sentAt: 1,
});

beforeAll(async () => {
  cluster = await startEtcdCluster();
}, 60_000);
afterAll(async () => {
  await cluster?.close();
});

describe('etcd keys', () => {
  it.each([
    ['a/', 'a0'],
    ['a', 'b'],
  ])('the prefix end of %j is %j', (prefix, want) => {
    expect(prefixEnd(prefix).toString('latin1')).toBe(Buffer.from(want).toString('latin1'));
  });
});

describe('appends', () => {
  it('gives 60 concurrent appends from two writers 60 distinct sequence numbers, none lost', async () => {
    const a = store(0);
    const b = store(1, a.prefix);
    const results = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        (i % 2 ? a : b).store.append('inbox', 'alice', msg(`m${i}`)),
      ),
    );
    expect(new Set(results.map((r) => r.seq)).size).toBe(60);
    expect(results.every((r) => !r.duplicate)).toBe(true);
    const read = await a.store.readBox('inbox', 'alice', 0, 1000);
    expect(read.head).toBe(60);
    expect(read.items.map((m) => m.seq)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    expect(new Set(read.items.map((m) => m.id)).size).toBe(60);
  });

  it('appends one message once, however often and from however many writers it is sent', async () => {
    const a = store(0);
    const b = store(2, a.prefix);
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        (i % 2 ? a : b).store.append('inbox', 'carol', msg('same')),
      ),
    );
    expect(new Set(results.map((r) => r.seq))).toEqual(new Set([1]));
    expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
    expect((await a.store.readBox('inbox', 'carol', 0, 10)).items).toHaveLength(1);
  });

  it('refuses a message id reused for other content', async () => {
    const { store: s } = store();
    await s.append('inbox', 'dan', msg('x', 'bob', 'first'));
    await expect(s.append('inbox', 'dan', msg('x', 'bob', 'second'))).rejects.toMatchObject({
      kind: 'conflict',
    });
    // the same id from another sender is another message
    expect((await s.append('inbox', 'dan', msg('x', 'eve', 'second'))).seq).toBe(2);
  });
});

describe('trim', () => {
  it('deletes through the mark, never past the head, and never moves back', async () => {
    const { store: s } = store();
    for (let i = 1; i <= 5; i++) await s.append('inbox', 'alice', msg(`m${i}`));
    await expect(s.trim('inbox', 'alice', 6)).rejects.toMatchObject({ kind: 'out-of-order' });
    expect(await s.trim('inbox', 'alice', 3)).toEqual({ trimmedThrough: 3 });
    expect(await s.trim('inbox', 'alice', 2)).toEqual({ trimmedThrough: 3 });
    const read = await s.readBox('inbox', 'alice', 0, 100);
    expect(read).toMatchObject({ head: 5, trimmedThrough: 3 });
    expect(read.items.map((m) => m.seq)).toEqual([4, 5]);
  });
});

describe('accounts and contacts', () => {
  it('creates an account once and checks its password', async () => {
    const { store: s } = store();
    await s.createAccount({ user: 'alice', name: 'Alice', password: 'correct horse' });
    await expect(
      s.createAccount({ user: 'alice', name: 'A2', password: 'x'.repeat(8) }),
    ).rejects.toMatchObject({
      kind: 'conflict',
    });
    expect((await s.checkPassword('alice', 'correct horse')).name).toBe('Alice');
    await expect(s.checkPassword('alice', 'wrong')).rejects.toBeInstanceOf(StoreError);
  });

  it('loses no update when 20 writers rename one account at once', async () => {
    const a = store(0);
    const b = store(1, a.prefix);
    const { version: v0 } = await a.store.createAccount({
      user: 'bob',
      name: 'Bob',
      password: 'p'.repeat(8),
    });
    const versions = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).store.updateAccount('bob', `Bob ${i}`)),
    );
    // every rename was its own compare-and-swap: 20 distinct versions, all newer
    expect(new Set(versions.map((v) => v.version)).size).toBe(20);
    expect(Math.min(...versions.map((v) => v.version))).toBeGreaterThan(v0);
    const final = await a.store.getAccount('bob');
    expect(final.version).toBe(Math.max(...versions.map((v) => v.version)));
  });

  it('bumps the contacts version of both sides once per new contact', async () => {
    const { store: s } = store();
    const before = await s.getContacts('alice', -1);
    const { version } = await s.befriend('alice', 'bob');
    expect(version).toBeGreaterThan(before.version);
    expect((await s.befriend('bob', 'alice')).version).toBe(version);
    expect(await s.getContacts('bob', -1)).toMatchObject({ version, contacts: ['alice'] });
    expect(await s.getContacts('bob', version)).not.toHaveProperty('contacts');
  });
});

describe('watch', () => {
  it('wakes on a change of the user and times out without one', async () => {
    const { store: s } = store();
    const { revision } = await s.readBox('inbox', 'alice', 0, 1);
    expect(await s.watchUser('alice', revision, 300)).toEqual({ changed: false });
    const waiting = s.watchUser('alice', revision, 5000);
    await sleep(100);
    await s.append('inbox', 'alice', msg('w1'));
    expect(await waiting).toEqual({ changed: true });
    // a change before the watch started still counts: the watch starts at the revision read
    expect(await s.watchUser('alice', revision, 5000)).toEqual({ changed: true });
  });
});

describe('the diffusion queue', () => {
  const job = (id: string) => ({
    id,
    box: 'inbox' as const,
    message: msg(id),
    members: ['a', 'b'],
  });

  it('hands a job to one worker at a time and to another once the first one’s lease lapses', async () => {
    const { store: s } = store();
    await s.enqueue(job('j1'));
    expect(await s.enqueue(job('j1'))).toEqual({ duplicate: true });
    const first = await s.claim('w1', 4, 1);
    expect(first.jobs.map((j) => j.id)).toEqual(['j1']);
    expect((await s.claim('w2', 4, 1)).jobs).toEqual([]);
    expect(await s.progress('j1', first.lease, 1)).toEqual({ held: true });
    // w1 dies: no renewal; etcd drops the claim with the lease
    let second = await s.claim('w2', 4, 1);
    for (let i = 0; i < 50 && second.jobs.length === 0; i++) {
      await sleep(200);
      second = await s.claim('w2', 4, 5);
    }
    expect(second.jobs.map((j) => ({ id: j.id, done: j.done }))).toEqual([{ id: 'j1', done: 1 }]);
    // the late first worker can no longer complete or report progress
    expect(await s.complete('j1', first.lease)).toEqual({ completed: false });
    expect(await s.progress('j1', first.lease, 2)).toEqual({ held: false });
    expect(await s.complete('j1', second.lease)).toEqual({ completed: true });
    expect(await s.listJobs()).toEqual([]);
  });
});

describe('losing one campus', () => {
  it('keeps every acknowledged write and keeps accepting writes when the leader is killed mid-run', async () => {
    const leader = await cluster.leader();
    const a = store(leader); // prefers the member that dies
    const b = store(leader + 1, a.prefix);
    const acked: number[] = [];
    let stop = false;
    const writer = async (s: typeof a, from: string): Promise<void> => {
      for (let i = 0; i < 400 && !stop; i++) {
        const r = await s.store.append('inbox', 'zoe', msg(`${from}-${i}`, from));
        acked.push(r.seq);
      }
    };
    const writers = Promise.all([writer(a, 'x'), writer(b, 'y')]);
    for (let i = 0; i < 1000 && acked.length < 30; i++) await sleep(10);
    await cluster.kill(leader);
    const atKill = acked.length;
    const deadline = Date.now() + 20_000;
    while (acked.length < atKill + 60 && Date.now() < deadline) await sleep(20);
    stop = true;
    await writers;
    expect(acked.length).toBeGreaterThanOrEqual(atKill + 60);
    const read = await b.store.readBox('inbox', 'zoe', 0, 10_000);
    expect(read.items.map((m) => m.seq).sort((x, y) => x - y)).toEqual(
      [...acked].sort((x, y) => x - y),
    );
    expect(read.head).toBe(acked.length);
    await cluster.restart(leader);
  }, 45_000);
});
