// Accounts: created once (a transaction on the key's absence), renamed by
// compare-and-swap, with an scrypt password hash checked in constant time;
// and payments, recorded once per (payer, id).
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import type { Account } from '../shared/im.ts';
import { absent, modIs } from './etcd.ts';
import { StoreError } from './store-error.ts';
import { get, parse, put, rangeAt } from './txn.ts';
import type { StoreContext } from './txn.ts';

interface StoredAccount extends Account {
  readonly password: { readonly salt: string; readonly hash: string; readonly n: number };
}

function hashPassword(password: string, salt: Buffer, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(
      password,
      salt,
      32,
      { N: n, r: 8, p: 1, maxmem: 256 * n * 8 + 1024 * 1024 },
      (err, key) => (err ? reject(err) : resolve(key)),
    );
  });
}

/** `passwordCost` is scrypt's N: 16384 in production; tests lower it to save CPU. */
export function accountStore({ etcd, k, now, cas }: StoreContext, passwordCost: number) {
  async function createAccount(a: {
    user: string;
    name: string;
    password: string;
  }): Promise<{ version: number }> {
    const salt = randomBytes(16);
    const hash = await hashPassword(a.password, salt, passwordCost);
    const record: StoredAccount = {
      user: a.user,
      name: a.name,
      createdAt: now(),
      password: { salt: salt.toString('base64'), hash: hash.toString('base64'), n: passwordCost },
    };
    const key = k.account(a.user);
    const t = await etcd.txn([absent(key)], [put(key, record)], [get(key)]);
    if (t.succeeded) return { version: t.revision };
    const existing = rangeAt(t, 0).kvs[0];
    // our own earlier attempt, applied although its answer was lost
    if (parse<StoredAccount>(existing)?.password.salt === record.password.salt && existing) {
      return { version: existing.modRevision };
    }
    throw new StoreError('conflict', `user ${a.user} already exists`);
  }

  async function checkPassword(user: string, password: string): Promise<Account> {
    const stored = parse<StoredAccount>(await etcd.get(k.account(user)));
    const refused = new StoreError('unauthenticated', 'unknown user or wrong password');
    if (!stored) throw refused;
    const want = Buffer.from(stored.password.hash, 'base64');
    const got = await hashPassword(
      password,
      Buffer.from(stored.password.salt, 'base64'),
      stored.password.n,
    );
    if (got.length !== want.length || !timingSafeEqual(got, want)) throw refused;
    return { user: stored.user, name: stored.name, createdAt: stored.createdAt };
  }

  async function getAccount(
    user: string,
  ): Promise<{ version: number; account: Account; revision: number }> {
    const r = await etcd.range({ key: k.account(user) });
    const kv = r.kvs[0];
    const stored = parse<StoredAccount>(kv);
    if (!kv || !stored) throw new StoreError('not-found', `no user ${user}`);
    return {
      version: kv.modRevision,
      account: { user: stored.user, name: stored.name, createdAt: stored.createdAt },
      revision: r.revision,
    };
  }

  async function accountExists(user: string): Promise<boolean> {
    return (await etcd.range({ key: k.account(user), keysOnly: true })).kvs.length > 0;
  }

  function updateAccount(user: string, name: string): Promise<{ version: number }> {
    const key = k.account(user);
    return cas('update-account', async () => {
      const kv = await etcd.get(key);
      const stored = parse<StoredAccount>(kv);
      if (!kv || !stored) throw new StoreError('not-found', `no user ${user}`);
      if (stored.name === name) return { version: kv.modRevision };
      const t = await etcd.txn([modIs(key, kv.modRevision)], [put(key, { ...stored, name })]);
      return t.succeeded ? { version: t.revision } : undefined;
    });
  }

  async function recordPayment(
    from: string,
    p: { id: string; to: string; amountCents: number },
  ): Promise<{ duplicate: boolean }> {
    const key = k.payment(from, p.id);
    const record = { ...p, from, at: now() };
    const t = await etcd.txn([absent(key)], [put(key, record)], [get(key)]);
    if (t.succeeded) return { duplicate: false };
    const existing = parse<typeof record>(rangeAt(t, 0).kvs[0]);
    if (existing && existing.to === p.to && existing.amountCents === p.amountCents)
      return { duplicate: true };
    throw new StoreError('conflict', `payment id ${p.id} was already used for another payment`);
  }

  return {
    createAccount,
    checkPassword,
    getAccount,
    accountExists,
    updateAccount,
    recordPayment,
  };
}
