import { describe, expect, it } from 'vitest';
import type { BoxItem } from '../shared/im.ts';
import { deriveKey } from '../shared/ticket.ts';
import { decodeSnapshot, encodeSnapshot, zeroVersions } from './snapshot.ts';
import type { Versions } from './snapshot.ts';
import { decideSync } from './sync.ts';
import type { SyncView } from './sync.ts';

/** An asymmetric matcher typed as what it is compared with, not `any`. */
const matching = (re: RegExp | string): unknown => expect.stringMatching(re);

/** A user's data on the server, the way storage keeps it. */
class Server {
  inbox = new Map<number, BoxItem>();
  head = 0;
  trimmedThrough = 0;
  account = { version: 1, name: 'Alice' };
  contacts = { version: 1, list: [] as string[] };
  private rev = 1;

  send(n = 1): this {
    for (let i = 0; i < n; i++) {
      this.head++;
      this.inbox.set(this.head, {
        seq: this.head,
        id: `m${this.head}`,
        from: 'bob',
        kind: 'text',
        text: 'hi',
        sentAt: 0,
      });
    }
    return this;
  }
  rename(name: string): this {
    this.account = { version: ++this.rev + 1000, name };
    return this;
  }
  befriend(u: string): this {
    this.contacts = { version: ++this.rev + 1000, list: [...this.contacts.list, u] };
    return this;
  }
  view(client: Versions, limit: number): SyncView {
    const items = [...this.inbox.values()].filter((m) => m.seq > client.messages).slice(0, limit);
    return {
      account: {
        version: this.account.version,
        ...(this.account.version > client.account
          ? { data: { user: 'alice', name: this.account.name, createdAt: 0 } }
          : {}),
      },
      contacts: {
        version: this.contacts.version,
        ...(this.contacts.version > client.contacts
          ? { contacts: this.contacts.list, groups: [] }
          : {}),
      },
      inbox: { head: this.head, trimmedThrough: this.trimmedThrough, items },
    };
  }
  /** One sync: the decision, with the trim applied as logic applies it. */
  sync(client: Versions, limit = 100) {
    const d = decideSync(client, this.view(client, limit), limit);
    if (d.kind === 'ok' && d.trimThrough !== undefined) {
      for (let s = this.trimmedThrough + 1; s <= d.trimThrough; s++) this.inbox.delete(s);
      this.trimmedThrough = d.trimThrough;
    }
    return d;
  }
}

function ok(d: ReturnType<Server['sync']>) {
  if (d.kind !== 'ok') throw new Error(`refused: ${d.reason}`);
  return d;
}
const seqs = (d: ReturnType<Server['sync']>): number[] => ok(d).reply.messages.map((m) => m.seq);

describe('sync returns new messages only', () => {
  it.each([
    { name: 'a first sync gets everything', have: 0, sent: 3, want: [1, 2, 3] },
    { name: 'a snapshot at 2 gets 3 and 4', have: 2, sent: 4, want: [3, 4] },
    { name: 'an up-to-date snapshot gets nothing', have: 4, sent: 4, want: [] },
  ])('$name', ({ have, sent, want }) => {
    const s = new Server().send(sent);
    const d = s.sync({ account: 1, contacts: 1, messages: have });
    expect(seqs(d)).toEqual(want);
    expect(ok(d).next.messages).toBe(sent);
  });

  it('leaves out the account and contacts when their versions are not newer', () => {
    const d = ok(new Server().send(1).sync({ account: 1, contacts: 1, messages: 0 }));
    expect(d.reply.account).toBeUndefined();
    expect(d.reply.contacts).toBeUndefined();
  });

  it('sends the account and contacts when they changed', () => {
    const s = new Server().rename('Al').befriend('carol');
    const d = ok(s.sync({ account: 1, contacts: 1, messages: 0 }));
    expect(d.reply.account?.name).toBe('Al');
    expect(d.reply.contacts).toEqual(['carol']);
    expect(d.next).toEqual({
      account: s.account.version,
      contacts: s.contacts.version,
      messages: 0,
    });
  });

  it('hands over a long backlog in batches, saying there is more', () => {
    const s = new Server().send(5);
    let v: Versions = zeroVersions;
    const batches: number[][] = [];
    const more: boolean[] = [];
    for (let i = 0; i < 5; i++) {
      const d = ok(s.sync(v, 2));
      batches.push(d.reply.messages.map((m) => m.seq));
      more.push(d.reply.more);
      v = d.next;
      if (!d.reply.more) break;
    }
    expect(batches).toEqual([[1, 2], [3, 4], [5]]);
    expect(more).toEqual([true, true, false]);
  });
});

describe('versions are monotonic', () => {
  it('never lowers a version over 300 random steps of sends, renames, befriends and syncs', () => {
    let seed = 42;
    const rand = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const s = new Server();
    let v: Versions = zeroVersions;
    let delivered = 0;
    for (let i = 0; i < 300; i++) {
      const r = rand();
      if (r < 0.4) s.send(1 + Math.floor(rand() * 3));
      else if (r < 0.45) s.rename(`n${i}`);
      else if (r < 0.5) s.befriend(`u${i}`);
      else {
        const d = ok(s.sync(v, 4));
        expect(d.next.account).toBeGreaterThanOrEqual(v.account);
        expect(d.next.contacts).toBeGreaterThanOrEqual(v.contacts);
        expect(d.next.messages).toBeGreaterThanOrEqual(v.messages);
        // exactly the next sequence numbers, none skipped, none twice
        for (const m of d.reply.messages) expect(m.seq).toBe(++delivered);
        v = d.next;
      }
    }
    expect(delivered).toBeGreaterThan(0);
  });
});

describe('an old snapshot converges in at most two syncs', () => {
  it.each([
    {
      name: 'a lost answer: the client syncs again with the same old snapshot',
      lostAnswer: true,
      changes: (s: Server) => s.send(3),
    },
    {
      name: 'a device back after a while, with messages, a rename and a new contact',
      lostAnswer: false,
      changes: (s: Server) => s.send(4).rename('A').befriend('dave'),
    },
    { name: 'nothing changed', lostAnswer: false, changes: (s: Server) => s },
  ])('$name', ({ lostAnswer, changes }) => {
    const s = new Server().send(2);
    const old = ok(s.sync(zeroVersions)).next;
    changes(s);
    if (lostAnswer) s.sync(old); // answered, but the answer never arrived
    const first = ok(s.sync(old));
    const second = ok(s.sync(first.next));
    // the second sync brings nothing and hands back the same snapshot: converged
    expect(second.reply.messages).toEqual([]);
    expect(second.reply.account).toBeUndefined();
    expect(second.reply.contacts).toBeUndefined();
    expect(second.next).toEqual(first.next);
    expect(first.next).toEqual({
      account: s.account.version,
      contacts: s.contacts.version,
      messages: s.head,
    });
  });
});

describe('trimming', () => {
  it('trims only what a newer snapshot proves delivered', () => {
    const s = new Server().send(3);
    const first = ok(s.sync(zeroVersions));
    expect(first.trimThrough).toBeUndefined();
    expect(s.inbox.size).toBe(3);
    s.send(2);
    const second = ok(s.sync(first.next));
    // the snapshot from the first sync proves 1-3 arrived; 4-5 are only being sent now
    expect(second.trimThrough).toBe(3);
    expect([...s.inbox.keys()]).toEqual([4, 5]);
    const third = ok(s.sync(second.next));
    expect(third.trimThrough).toBe(5);
    expect(s.inbox.size).toBe(0);
  });

  it('keeps messages for a client whose answer was lost: the old snapshot proves nothing new', () => {
    const s = new Server().send(2);
    const first = ok(s.sync(zeroVersions));
    s.send(2);
    s.sync(first.next); // answer lost: messages 3 and 4 never arrived
    const retry = ok(s.sync(first.next));
    expect(retry.reply.messages.map((m) => m.seq)).toEqual([3, 4]);
    expect(retry.trimThrough).toBeUndefined();
  });

  it('tells a client whose snapshot is older than the trim mark that there is a gap', () => {
    const s = new Server().send(2);
    const a = ok(s.sync(zeroVersions));
    s.send(1);
    ok(s.sync(a.next)); // this device proves 1-2 delivered, trimming them
    const stale = ok(s.sync(zeroVersions)); // another device, never synced
    expect(stale.reply.gap).toBe(true);
    expect(stale.reply.messages.map((m) => m.seq)).toEqual([3]);
  });
});

describe('refusals', () => {
  it.each([
    { name: 'messages', v: { account: 1, contacts: 1, messages: 9 }, want: /messages 9 > 2/ },
    { name: 'account', v: { account: 7, contacts: 1, messages: 0 }, want: /account 7 > 1/ },
  ])('refuses a snapshot ahead of the server ($name) as out of order', ({ v, want }) => {
    const d = new Server().send(2).sync(v);
    expect(d).toMatchObject({ kind: 'refused', status: 409, reason: matching(want) });
  });
});

describe('the snapshot token', () => {
  const key = deriveKey('a-test-secret-that-is-long-enough-0123456789', 'snapshot');
  const v: Versions = { account: 3, contacts: 9, messages: 12 };
  const token = encodeSnapshot(key, 'alice', v);

  it.each([
    { name: 'round-trips', token, user: 'alice', want: { kind: 'ok', versions: v } },
    {
      name: 'an absent snapshot is a first sync',
      token: undefined,
      user: 'alice',
      want: { kind: 'ok', versions: zeroVersions },
    },
    {
      name: "another user's snapshot is refused",
      token,
      user: 'bob',
      want: { kind: 'refused', status: 403 },
    },
    {
      name: 'a snapshot signed with another key is refused',
      token: encodeSnapshot(
        deriveKey('another-secret-that-is-long-enough-000000', 'snapshot'),
        'alice',
        v,
      ),
      user: 'alice',
      want: { kind: 'refused', status: 400, reason: matching(/signature/) },
    },
    {
      name: 'a snapshot with raised versions is refused',
      token: `s1.${Buffer.from(JSON.stringify(['alice', 3, 9, 999])).toString('base64url')}.${token.split('.')[2]}`,
      user: 'alice',
      want: { kind: 'refused', status: 400 },
    },
    {
      name: 'garbage is refused',
      token: 'not-a-snapshot',
      user: 'alice',
      want: { kind: 'refused', status: 400 },
    },
    {
      name: 'an oversized snapshot is refused',
      token: 's1.' + 'x'.repeat(600),
      user: 'alice',
      want: { kind: 'refused', status: 400 },
    },
  ])('$name', ({ token: t, user, want }) => {
    expect(decodeSnapshot(key, t, user)).toMatchObject(want);
  });
});
