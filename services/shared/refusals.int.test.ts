// Full-path tickets and bad input, at every tier (access, logic, storage):
// forged, expired and other users' tickets are refused before any user data
// is touched; malformed, oversized and out-of-order requests get a 4xx with a
// reason, and no service crashes or loses a user's data.
import { beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '../access/client.ts';
import type { Session } from '../access/client.ts';
import { encodeSnapshot } from '../logic/snapshot.ts';
import { useStack } from '../../e2e/harness/im-stack.ts';
import { drain, must, users } from '../../e2e/harness/im-users.ts';
import { deriveKey, signTicket } from './ticket.ts';

/** An asymmetric matcher typed as what it is compared with, not `any`. */
const matching = (re: RegExp | string): unknown => expect.stringMatching(re);

let alice: Session;
let bob: Session;

const t = useStack();

beforeAll(async () => {
  const s = await users(t.stack.accessUrl, ['alice', 'bob']);
  alice = s[0] as Session;
  bob = s[1] as Session;
  must(await alice.send('bob', 'legit-1', 'the only message bob should have'), 'send');
}, 60_000);

const tier = (name: 'access' | 'logic' | 'storage'): string =>
  name === 'access'
    ? t.stack.accessUrl
    : name === 'logic'
      ? (t.stack.logicUrls[0] ?? '')
      : t.stack.storageUrl;

async function call(
  url: string,
  method: string,
  path: string,
  ticket?: string,
  body?: unknown,
  headers: Record<string, string> = {},
) {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: {
      ...(ticket !== undefined ? { authorization: `Bearer ${ticket}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, text };
}

/** Tickets a thief might try, each with the status it must get. */
function badTickets() {
  const now = Date.now();
  return [
    { name: 'no ticket', ticket: undefined, status: 401, reason: /no ticket/ },
    {
      name: 'a forged ticket (another secret)',
      ticket: signTicket('not-the-secret-but-long-enough-0123456789', {
        sub: 'bob',
        role: 'user',
        iat: now,
        exp: now + 60_000,
      }),
      status: 401,
      reason: /forged/,
    },
    {
      name: 'an expired ticket',
      ticket: signTicket(t.stack.secret, {
        sub: 'bob',
        role: 'user',
        iat: now - 120_000,
        exp: now - 60_000,
      }),
      status: 401,
      reason: /expired/,
    },
    {
      name: "another user's ticket (alice's)",
      ticket: alice.ticket,
      status: 403,
      reason: /alice cannot act on bob/,
    },
    {
      name: 'a service ticket',
      ticket: signTicket(t.stack.secret, {
        sub: 'logic-x',
        role: 'service',
        iat: now,
        exp: now + 60_000,
      }),
      status: 403,
      reason: /service ticket/,
    },
  ];
}

describe("full-path tickets: nobody but bob reaches bob's data, at any tier", () => {
  const reads = [
    { tier: 'access', method: 'POST', path: '/v1/users/bob/sync', body: {} },
    { tier: 'logic', method: 'POST', path: '/v1/users/bob/sync', body: {} },
    { tier: 'storage', method: 'GET', path: '/v1/boxes/inbox/bob' },
    { tier: 'storage', method: 'GET', path: '/v1/accounts/bob' },
    { tier: 'storage', method: 'GET', path: '/v1/contacts/bob' },
  ] as const;
  const writes = [
    {
      tier: 'access',
      method: 'POST',
      path: '/v1/users/bob/messages',
      body: { id: 'evil', to: 'alice', text: 'x' },
    },
    { tier: 'logic', method: 'PUT', path: '/v1/users/bob/account', body: { name: 'pwned' } },
    { tier: 'storage', method: 'POST', path: '/v1/boxes/inbox/bob/trim', body: { through: 1 } },
    {
      tier: 'storage',
      method: 'POST',
      path: '/v1/boxes/inbox/alice/items',
      body: { id: 'evil', from: 'bob', kind: 'text', text: 'I am bob', sentAt: 1 },
    },
  ] as const;

  for (const c of [...reads, ...writes]) {
    it(`${c.tier}: ${c.method} ${c.path} refuses every stolen or bad ticket`, async () => {
      for (const t of badTickets()) {
        const r = await call(
          tier(c.tier),
          c.method,
          c.path,
          t.ticket,
          'body' in c ? c.body : undefined,
        );
        expect({ ticket: t.name, status: r.status }).toEqual({ ticket: t.name, status: t.status });
        expect(r.text).toMatch(t.reason);
      }
    });
  }

  it('storage keeps the diffusion queue to services', async () => {
    const r = await call(tier('storage'), 'POST', '/v1/jobs/claim', alice.ticket, {
      owner: 'x',
      max: 1,
      ttlSeconds: 5,
    });
    expect(r.status).toBe(403);
    expect(r.text).toMatch(/for services/);
  });

  it("left bob's data as it was", async () => {
    const { ids } = await drain(bob);
    expect(ids).toEqual(['alice/legit-1']);
    const again = must(await bob.sync(), 'sync');
    expect(again.account?.name).toBe('BOB');
    expect((await drain(alice)).ids).toEqual([]);
  });
});

describe('bad input gets a 4xx with a reason at every tier', () => {
  const cases = [
    {
      name: 'malformed JSON',
      tier: 'access',
      path: '/v1/users/alice/messages',
      body: '{"id": "x", ',
      status: 400,
      reason: /malformed JSON/,
    },
    {
      name: 'malformed JSON',
      tier: 'logic',
      path: '/v1/users/alice/messages',
      body: '{oops',
      status: 400,
      reason: /malformed JSON/,
    },
    {
      name: 'malformed JSON',
      tier: 'storage',
      path: '/v1/boxes/inbox/bob/items',
      body: '[1,',
      status: 400,
      reason: /malformed JSON/,
    },
    {
      name: 'an oversized body',
      tier: 'access',
      path: '/v1/users/alice/messages',
      body: { id: 'big', to: 'bob', text: 'x'.repeat(100_000) },
      status: 413,
      reason: /larger than/,
    },
    {
      name: 'an oversized body',
      tier: 'storage',
      path: '/v1/boxes/inbox/bob/items',
      body: { text: 'x'.repeat(100_000) },
      status: 413,
      reason: /larger than/,
    },
    {
      name: 'text over the limit',
      tier: 'logic',
      path: '/v1/users/alice/messages',
      body: { id: 'long', to: 'bob', text: 'x'.repeat(5000) },
      status: 400,
      reason: /longer than 4096/,
    },
    {
      name: 'a wrong type',
      tier: 'access',
      path: '/v1/users/alice/messages',
      body: { id: 7, to: 'bob', text: 'x' },
      status: 400,
      reason: /id must be a string/,
    },
    {
      name: 'an unknown field',
      tier: 'logic',
      path: '/v1/users/alice/messages',
      body: { id: 'a', to: 'bob', text: 'x', admin: true },
      status: 400,
      reason: /unknown field admin/,
    },
    {
      name: 'a bad message id',
      tier: 'access',
      path: '/v1/users/alice/messages',
      body: { id: '../../etc', to: 'bob', text: 'x' },
      status: 400,
      reason: /does not match/,
    },
    {
      name: 'an array for a body',
      tier: 'logic',
      path: '/v1/users/alice/contacts',
      body: ['bob'],
      status: 400,
      reason: /JSON object/,
    },
    {
      name: 'a stranger as recipient',
      tier: 'access',
      path: '/v1/users/alice/messages',
      body: { id: 's1', to: 'mallory', text: 'x' },
      status: 403,
      reason: /not a contact/,
    },
    {
      name: 'a user that does not exist',
      tier: 'access',
      path: '/v1/users/alice/contacts',
      body: { contact: 'nobody' },
      status: 404,
      reason: /no user nobody/,
    },
    {
      name: 'a bad box',
      tier: 'storage',
      path: '/v1/boxes/outbox/bob/items',
      body: {},
      status: 404,
      reason: /no box/,
    },
    {
      name: 'an invalid user in the path',
      tier: 'storage',
      path: '/v1/boxes/inbox/BOB!/trim',
      body: { through: 1 },
      status: 400,
      reason: /not a valid id/,
    },
  ] as const;

  for (const c of cases) {
    it(`${c.tier}: ${c.name} → ${c.status}`, async () => {
      const ticket = c.tier === 'storage' && c.path.includes('/bob/') ? bob.ticket : alice.ticket;
      const r = await call(tier(c.tier), 'POST', c.path, ticket, c.body);
      expect(r.status).toBe(c.status);
      expect(r.text).toMatch(c.reason);
    });
  }

  it('refuses out-of-order requests: a snapshot ahead of the server, a trim past the end, a reused message id', async () => {
    const ahead = encodeSnapshot(deriveKey(t.stack.secret, 'snapshot'), 'bob', {
      account: 0,
      contacts: 0,
      messages: 999,
    });
    const sync = await bob.sync(ahead);
    expect(sync).toMatchObject({
      ok: false,
      status: 409,
      reason: matching(/out of order.*messages 999/),
    });
    const trim = await call(tier('storage'), 'POST', '/v1/boxes/inbox/bob/trim', bob.ticket, {
      through: 999,
    });
    expect(trim.status).toBe(409);
    const reuse = await alice.send('bob', 'legit-1', 'different text, same id');
    expect(reuse).toMatchObject({
      ok: false,
      status: 409,
      reason: matching(/already used/),
    });
  });

  it('refuses an unknown business class from a caller', async () => {
    const r = await call(tier('storage'), 'GET', '/v1/boxes/inbox/bob', bob.ticket, undefined, {
      'x-yard-business': 'vip',
    });
    expect(r.status).toBe(400);
  });

  it('survives 300 junk requests on every tier with 4xx only, and still serves', async () => {
    let seed = 7;
    const rand = (n: number): number => (seed = (seed * 48271) % 2147483647) % n;
    const junk = [
      () => 'null',
      () => '"a string"',
      () => '{"id":' + '['.repeat(rand(50)) + ']',
      () =>
        JSON.stringify({
          id: 'x'.repeat(rand(200)),
          to: rand(2) ? 'bob' : { $ne: 1 },
          text: rand(2) ? 'hi' : null,
        }),
      () =>
        JSON.stringify({
          through: -rand(10),
          snapshot: 'A'.repeat(rand(700)),
          members: Array(rand(600)).fill('bob'),
        }),
      () => '\u0000\u0001\u0002',
    ];
    const paths = [
      '/v1/users/alice/messages',
      '/v1/users/alice/sync',
      '/v1/users/alice/groups',
      '/v1/users/alice/payments',
      '/v1/login',
      '/v1/register',
      '/v1/boxes/inbox/alice/items',
      '/v1/jobs',
      '/v1/groups',
    ];
    const statuses = new Map<number, number>();
    for (let i = 0; i < 300; i++) {
      const t = (['access', 'logic', 'storage'] as const)[i % 3] ?? 'access';
      const r = await call(
        tier(t),
        'POST',
        paths[rand(paths.length)] ?? '/',
        alice.ticket,
        junk[rand(junk.length)]?.() ?? '',
      );
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
    }
    expect([...statuses.keys()].filter((s) => s < 400 || s >= 500)).toEqual([]);
    for (const t of ['access', 'logic', 'storage'] as const)
      expect((await fetch(`${tier(t)}/healthz`)).status).toBe(200);
    must(await alice.send('bob', 'legit-2', 'still works'), 'send after junk');
    const c = createClient(t.stack.accessUrl);
    expect((await c.login('alice', 'wrong password')).status).toBe(401);
  });
});
