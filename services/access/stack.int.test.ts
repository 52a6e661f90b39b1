// The three tiers end to end over a real three-member etcd: the client API as
// a user sees it.
import { createServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createClient } from './client.ts';
import { metricValue, startStack, useStack } from '../../e2e/harness/im-stack.ts';
import { drain, must, users } from '../../e2e/harness/im-users.ts';

const t = useStack();

describe('the client API', () => {
  it('registers, logs in, befriends, sends and syncs', async () => {
    const [alice, bob] = await users(t.stack.accessUrl, ['alice', 'bob']);
    if (!alice || !bob) throw new Error('no users');
    must(await alice.send('bob', 'm1', 'hello'), 'send');
    must(await alice.send('bob', 'm2', 'again'), 'send');
    const first = must(await bob.sync(), 'sync');
    expect(first.messages.map((m) => [m.from, m.id, m.text])).toEqual([
      ['alice', 'm1', 'hello'],
      ['alice', 'm2', 'again'],
    ]);
    expect(first.contacts).toEqual(['alice']);
    expect(first.account?.name).toBe('BOB');
    const second = must(await bob.sync(first.snapshot), 'sync');
    expect(second.messages).toEqual([]);
    expect(second.contacts).toBeUndefined();
  });

  it('answers a push long-poll as soon as a message arrives, and says nothing new after the wait', async () => {
    const [carol, dave] = await users(t.stack.accessUrl, ['carol', 'dave']);
    if (!carol || !dave) throw new Error('no users');
    const { snapshot } = await drain(dave);
    if (!snapshot) throw new Error('no snapshot');
    expect(must(await dave.push(snapshot, 300), 'push')).toEqual({ changed: false });
    const waiting = dave.push(snapshot, 20_000);
    must(await carol.send('dave', 'p1', 'wake up'), 'send');
    expect(must(await waiting, 'push')).toEqual({ changed: true });
    expect((await drain(dave, snapshot)).ids).toEqual(['carol/p1']);
  });

  it('delivers group messages, payments and Moments', async () => {
    const [erin, frank, gina] = await users(t.stack.accessUrl, ['erin', 'frank', 'gina']);
    if (!erin || !frank || !gina) throw new Error('no users');
    must(await erin.createGroup('trip', 'Trip', ['frank', 'gina']), 'create group');
    expect(must(await frank.groupSend('trip', 'g1', 'hi all'), 'group send')).toMatchObject({
      queued: true,
    });
    must(await erin.pay('gina', 'pay1', 1250), 'pay');
    must(await gina.postMoment('mo1', 'sunset'), 'moment');
    const deadline = Date.now() + 10_000;
    let got: string[] = [];
    let moments: string[] = [];
    while (Date.now() < deadline) {
      got = (await drain(gina)).ids;
      moments = must(await erin.moments(), 'moments').items.map((m) => `${m.from}/${m.id}`);
      if (got.length >= 2 && moments.length >= 1) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(got.sort()).toEqual(['erin/pay1', 'frank/g1']);
    expect(moments).toEqual(['gina/mo1']);
  });

  it('serves /healthz, /readyz and /metrics on every tier', async () => {
    for (const url of [t.stack.accessUrl, t.stack.storageUrl, ...t.stack.logicUrls]) {
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      expect((await fetch(`${url}/readyz`)).status).toBe(200);
      const metrics = await (await fetch(`${url}/metrics`)).text();
      expect(metrics).toContain('yard_im_requests_total');
      expect(metrics).toContain('yard_im_admission_queue_seconds');
    }
    const c = createClient(t.stack.accessUrl);
    expect((await c.raw('GET', '/nope')).status).toBe(404);
  });
});

describe('a blackholed logic instance', () => {
  it('is ejected by access within a few calls, and traffic continues on the others', async () => {
    // accepts connections and never answers, like a frozen process or a dropped route
    const sockets = new Set<Socket>();
    let connections = 0;
    const blackhole = createServer((s) => {
      connections++;
      sockets.add(s);
    });
    await new Promise<void>((r) => blackhole.listen(0, '127.0.0.1', () => r()));
    const hole = `http://127.0.0.1:${(blackhole.address() as AddressInfo).port}`;
    const s2 = await startStack({
      etcd: t.cluster.endpoints,
      logicInstances: 2,
      extraLogicUrls: [hole],
      access: {
        upstreamTimeoutMs: 300,
        outlier: {
          consecutiveFailures: 3,
          baseEjectionMs: 30_000,
          maxEjectionMs: 60_000,
          maxEjectionPercent: 50,
        },
      },
    });
    try {
      const [ann, ben] = await users(s2.accessUrl, ['ann', 'ben']);
      if (!ann || !ben) throw new Error('no users');
      const sent = [];
      for (let i = 0; i < 30; i++) sent.push(await ann.send('ben', `bh-${i}`, 'through the hole'));
      expect(sent.filter((r) => !r.ok)).toEqual([]);
      expect(
        await metricValue(s2.apps.access, 'yard_upstream_ejections_total', { upstream: 'logic' }),
      ).toBe(1);
      expect(
        await metricValue(s2.apps.access, 'yard_upstream_ejected_endpoints', { upstream: 'logic' }),
      ).toBe(1);
      const atEjection = connections;
      for (let i = 30; i < 40; i++) must(await ann.send('ben', `bh-${i}`, 'after'), 'send');
      expect(connections).toBe(atEjection);
      expect((await drain(ben)).ids).toHaveLength(40);
      expect((await fetch(`${s2.accessUrl}/readyz`)).status).toBe(200);
    } finally {
      await s2.close();
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => blackhole.close(() => r()));
    }
  }, 30_000);
});
