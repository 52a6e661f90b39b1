import { describe, expect, it } from 'vitest';
import { bearer, isService, mayActAs, signTicket, verifyTicket } from './ticket.ts';
import type { TicketClaims } from './ticket.ts';

/** An asymmetric matcher typed as what it is compared with, not `any`. */
const matching = (re: RegExp | string): unknown => expect.stringMatching(re);

const secret = 'a-test-secret-that-is-long-enough-0123456789';
const t0 = 1_700_000_000_000;
const alice: TicketClaims = { sub: 'alice', role: 'user', iat: t0, exp: t0 + 60_000 };

/** Re-signs nothing: swaps the payload of a valid ticket for another one. */
function swapPayload(token: string, claims: object): string {
  const [v, , sig] = token.split('.');
  return `${v}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${sig}`;
}

describe('verifyTicket', () => {
  const good = signTicket(secret, alice);
  it.each([
    { name: 'a fresh ticket is accepted', token: good, now: t0 + 1, want: 'ok' },
    {
      name: 'a ticket one millisecond before expiry is accepted',
      token: good,
      now: t0 + 59_999,
      want: 'ok',
    },
    { name: 'a ticket at its expiry is refused', token: good, now: t0 + 60_000, want: /expired/ },
    { name: 'no ticket is refused', token: undefined, now: t0, want: /no ticket/ },
    { name: 'an empty ticket is refused', token: '', now: t0, want: /no ticket/ },
    { name: 'a ticket of another format is refused', token: 'abc', now: t0, want: /malformed/ },
    {
      name: 'a ticket signed with another secret is refused as forged',
      token: signTicket('another-secret-that-is-long-enough-000000', alice),
      now: t0,
      want: /forged/,
    },
    {
      name: 'a ticket whose claims were swapped (bob for alice) is refused as forged',
      token: swapPayload(good, { ...alice, sub: 'bob' }),
      now: t0,
      want: /forged/,
    },
    {
      name: 'a ticket whose expiry was extended is refused as forged',
      token: swapPayload(good, { ...alice, exp: t0 + 10 ** 12 }),
      now: t0,
      want: /forged/,
    },
    {
      name: 'an oversized ticket is refused',
      token: 'yt1.' + 'a'.repeat(600),
      now: t0,
      want: /longer/,
    },
    {
      name: 'a signed ticket with claims of the wrong shape is refused',
      token: signTicket(secret, { ...alice, role: 'admin' } as unknown as TicketClaims),
      now: t0,
      want: /malformed ticket claims/,
    },
    {
      name: 'a ticket issued in the future is refused',
      token: signTicket(secret, { ...alice, iat: t0 + 3_600_000, exp: t0 + 7_200_000 }),
      now: t0,
      want: /future/,
    },
  ])('$name', ({ token, now, want }) => {
    const got = verifyTicket(secret, token, now);
    if (want === 'ok') {
      expect(got).toEqual({ kind: 'ok', claims: alice });
    } else {
      expect(got.kind).toBe('refused');
      if (got.kind === 'refused') {
        expect(got.status).toBe(401);
        expect(got.reason).toMatch(want);
      }
    }
  });
});

describe('mayActAs and isService', () => {
  const service: TicketClaims = { sub: 'logic-1', role: 'service', iat: t0, exp: t0 + 1 };
  it.each([
    { name: "a user's own data", claims: alice, user: 'alice', want: 'ok' },
    {
      name: "another user's data is refused",
      claims: alice,
      user: 'bob',
      want: /alice cannot act on bob/,
    },
    {
      name: 'a service ticket cannot act for a user',
      claims: service,
      user: 'logic-1',
      want: /service ticket/,
    },
  ])('$name', ({ claims, user, want }) => {
    const got = mayActAs(claims, user);
    if (want === 'ok') expect(got.kind).toBe('ok');
    else
      expect(got).toMatchObject({
        kind: 'refused',
        status: 403,
        reason: matching(want),
      });
  });

  it('admits service tickets and refuses user tickets on service APIs', () => {
    expect(isService(service).kind).toBe('ok');
    expect(isService(alice)).toMatchObject({ kind: 'refused', status: 403 });
  });
});

describe('bearer', () => {
  it.each([
    ['Bearer abc.def.ghi', 'abc.def.ghi'],
    ['  Bearer abc ', 'abc'],
    ['Basic abc', undefined],
    ['Bearer a b', undefined],
    [undefined, undefined],
  ])('%j → %j', (header, want) => {
    expect(bearer(header)).toBe(want);
  });
});
