// The data-access layer over etcd: accounts, contacts and groups, boxes
// (inboxes and Moments timelines) and the diffusion queue. Every
// read-modify-write is a compare-and-swap on the mod revision of the key it
// read, retried on conflict, so concurrent writers (two logic instances, two
// storage instances, a retry after a lost answer) never lose an update; every
// append is keyed by (sender, message id), so it happens at most once per box.
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { fingerprint } from '../shared/im.ts';
import type { Account, Box, BoxItem, Group, Message } from '../shared/im.ts';
import { absent, modIs, present } from './etcd.ts';
import type { Compare, Etcd, KeyValue, RangeResult, RequestOp, TxnResult } from './etcd.ts';
import { keyspace } from './keys.ts';

export const storeErrorKinds = [
  'conflict',
  'not-found',
  'out-of-order',
  'unauthenticated',
  'contention',
] as const;
export type StoreErrorKind = (typeof storeErrorKinds)[number];

/** A refusal with a reason; the storage app maps the kind to a status. */
export class StoreError extends Error {
  readonly kind: StoreErrorKind;
  constructor(kind: StoreErrorKind, message: string) {
    super(message);
    this.name = 'StoreError';
    this.kind = kind;
  }
}

export interface StoreOptions {
  readonly prefix: string;
  /** scrypt's N: 16384 in production; tests lower it to save CPU. */
  readonly passwordCost?: number;
  readonly now?: () => number;
  /** Compare-and-swap attempts before giving up with `contention`. */
  readonly casAttempts?: number;
  readonly onCasRetry?: (op: string) => void;
  /** Box counters remembered (default 65,536); 0 reads before every append and trim. */
  readonly counterCacheSize?: number;
}

interface StoredAccount extends Account {
  readonly password: { readonly salt: string; readonly hash: string; readonly n: number };
}

export interface Job {
  readonly id: string;
  readonly box: Box;
  readonly message: Message;
  readonly members: readonly string[];
}

export interface ClaimedJob extends Job {
  /** Members already appended, as last reported: a worker taking over may skip them. */
  readonly done: number;
}

export interface BoxRead {
  readonly head: number;
  readonly trimmedThrough: number;
  readonly items: BoxItem[];
  readonly revision: number;
}

function parse<T>(kv: KeyValue | undefined): T | undefined {
  if (!kv) return undefined;
  try {
    return JSON.parse(kv.value) as T;
  } catch {
    return undefined;
  }
}

const put = (key: string, value: unknown, lease?: string): RequestOp => ({
  put: {
    key,
    value: typeof value === 'string' ? value : JSON.stringify(value),
    ...(lease ? { lease } : {}),
  },
});
const get = (key: string): RequestOp => ({ range: { key } });

function rangeAt(t: TxnResult, i: number): RangeResult {
  const r = t.responses[i];
  return r?.kind === 'range' ? r.range : { kvs: [], count: 0, more: false, revision: t.revision };
}

/** A box counter (head or trim mark) as last seen: its value and mod revision (0: absent). */
interface Counter {
  readonly value: number;
  readonly rev: number;
}

const counterOf = (kv: KeyValue | undefined): Counter => ({
  value: Number(kv?.value ?? '0'),
  rev: kv?.modRevision ?? 0,
});

/**
 * The last counters this process saw, by key, so an append or a trim can
 * try its compare-and-swap at once instead of reading first. Only a hint: a
 * stale entry makes the transaction fail, and the failure answer carries the
 * fresh value for the next attempt. Bounded: the oldest entries go first.
 */
function counterCache(max: number) {
  const m = new Map<string, Counter>();
  return {
    get: (key: string): Counter | undefined => m.get(key),
    /** Keeps the newer of what is known and `c` (counters only grow). */
    see(key: string, c: Counter): void {
      const known = m.get(key);
      if (known && known.rev >= c.rev) return;
      m.delete(key);
      m.set(key, c);
      if (m.size > max) m.delete(m.keys().next().value ?? '');
    },
  };
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

export function createStore(etcd: Etcd, opts: StoreOptions) {
  const k = keyspace(opts.prefix);
  const now = opts.now ?? Date.now;
  const passwordCost = opts.passwordCost ?? 16384;
  const casAttempts = opts.casAttempts ?? 50;
  const counterCacheSize = opts.counterCacheSize ?? 65_536;
  const counters = counterCache(counterCacheSize);
  const seeCounter = (key: string, kv: KeyValue | undefined): Counter => {
    const c = counterOf(kv);
    if (counterCacheSize > 0) counters.see(key, c);
    return c;
  };

  /** Runs `attempt` until it returns a value; `undefined` means "lost a race, read again". */
  async function cas<T>(op: string, attempt: () => Promise<T | undefined>): Promise<T> {
    for (let i = 0; i < casAttempts; i++) {
      const r = await attempt();
      if (r !== undefined) return r;
      opts.onCasRetry?.(op);
      await sleep(Math.random() * Math.min(50, 2 ** i));
    }
    throw new StoreError(
      'contention',
      `${op}: ${casAttempts} compare-and-swap attempts lost to concurrent writers`,
    );
  }

  // ---- accounts ----

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

  // ---- contacts and groups ----

  /** The contacts version is the newest mod revision under the user's contacts: entries are never deleted. */
  async function getContacts(
    user: string,
    since: number,
  ): Promise<{
    version: number;
    revision: number;
    contacts?: string[];
    groups?: { id: string; name: string }[];
  }> {
    const prefix = k.contacts(user);
    const newest = await etcd.range({
      key: prefix,
      prefix: true,
      keysOnly: true,
      limit: 1,
      sortTarget: 'MOD',
      sortOrder: 'DESCEND',
    });
    const version = newest.kvs[0]?.modRevision ?? 0;
    if (version <= since) return { version, revision: newest.revision };
    const all = await etcd.range({ key: prefix, prefix: true });
    const contacts: string[] = [];
    const groups: { id: string; name: string }[] = [];
    let v = 0;
    for (const kv of all.kvs) {
      v = Math.max(v, kv.modRevision);
      const rest = kv.key.slice(prefix.length);
      if (rest.startsWith('u/')) contacts.push(rest.slice(2));
      else if (rest.startsWith('g/'))
        groups.push({ id: rest.slice(2), name: parse<{ name: string }>(kv)?.name ?? '' });
    }
    return { version: v, revision: all.revision, contacts, groups };
  }

  async function isContact(user: string, other: string): Promise<boolean> {
    return (await etcd.range({ key: k.contact(user, other), keysOnly: true })).kvs.length > 0;
  }

  /** Makes a and b contacts of each other; writes only what is missing, so a repeat changes no version. */
  async function befriend(a: string, b: string): Promise<{ version: number }> {
    const ab = k.contact(a, b);
    const ba = k.contact(b, a);
    const t = await etcd.txn([], [get(ab), get(ba)]);
    const missing = [ab, ba].filter((_, i) => rangeAt(t, i).kvs.length === 0);
    if (missing.length === 0) return { version: rangeAt(t, 0).kvs[0]?.modRevision ?? t.revision };
    const w = await etcd.txn(
      missing.map(absent),
      missing.map((key) => put(key, { since: now() })),
    );
    return { version: w.revision };
  }

  async function createGroup(
    g: Omit<Group, 'createdAt'>,
  ): Promise<{ duplicate: boolean; group: Group }> {
    const key = k.group(g.id);
    const group: Group = { ...g, createdAt: now() };
    const ops = [
      put(key, group),
      ...g.members.map((m) => put(k.membership(m, g.id), { name: g.name })),
    ];
    const t = await etcd.txn([absent(key)], ops, [get(key)]);
    if (t.succeeded) return { duplicate: false, group };
    const existing = parse<Group>(rangeAt(t, 0).kvs[0]);
    if (
      existing &&
      existing.owner === g.owner &&
      existing.name === g.name &&
      existing.members.join() === g.members.join()
    ) {
      return { duplicate: true, group: existing };
    }
    throw new StoreError('conflict', `group ${g.id} already exists`);
  }

  async function getGroup(id: string): Promise<Group> {
    const g = parse<Group>(await etcd.get(k.group(id)));
    if (!g) throw new StoreError('not-found', `no group ${id}`);
    return g;
  }

  // ---- boxes ----

  interface AppendedMark {
    readonly seq: number;
    readonly fp: string;
  }

  /**
   * Appends a message to a box once: the next sequence number, the item and
   * the (sender, id) mark are written in one transaction guarded by the
   * counter's mod revision and the mark's absence. A second append of the
   * same message finds the mark and answers with the first one's sequence.
   * With the counter remembered from an earlier call, that transaction is the
   * only one; a failed one reads the counter and the mark in its failure
   * branch, so the next attempt needs no read either.
   */
  function append(
    box: Box,
    user: string,
    m: Message,
  ): Promise<{ seq: number; duplicate: boolean }> {
    const bk = k.box(box, user);
    const markKey = bk.appended(m.from, m.id);
    const fp = fingerprint(m);
    const duplicateOf = (
      kv: KeyValue | undefined,
    ): { seq: number; duplicate: boolean } | undefined => {
      const mark = parse<AppendedMark>(kv);
      if (!mark) return undefined;
      if (mark.fp !== fp) {
        throw new StoreError(
          'conflict',
          `message id ${m.id} of ${m.from} was already used for another message`,
        );
      }
      return { seq: mark.seq, duplicate: true };
    };
    let known = counterCacheSize > 0 ? counters.get(bk.head) : undefined;
    return cas('append', async () => {
      let head = known;
      known = undefined;
      if (!head) {
        const read = await etcd.txn([], [get(bk.head), get(markKey)]);
        const dup = duplicateOf(rangeAt(read, 1).kvs[0]);
        if (dup) return dup;
        head = seeCounter(bk.head, rangeAt(read, 0).kvs[0]);
      }
      const seq = head.value + 1;
      const item: BoxItem = { ...m, seq };
      const compare: Compare[] = [modIs(bk.head, head.rev), absent(markKey)];
      const t = await etcd.txn(
        compare,
        [
          put(bk.head, String(seq)),
          put(bk.item(seq), item),
          put(markKey, { seq, fp } satisfies AppendedMark),
        ],
        [get(markKey), get(bk.head)],
      );
      if (t.succeeded) {
        if (counterCacheSize > 0) counters.see(bk.head, { value: seq, rev: t.revision });
        return { seq, duplicate: false };
      }
      const dup = duplicateOf(rangeAt(t, 0).kvs[0]);
      if (dup) return dup;
      // lost the counter to another append: the next attempt starts from what it wrote
      known = seeCounter(bk.head, rangeAt(t, 1).kvs[0]);
      return undefined;
    });
  }

  /** Items after `after`, oldest first, read at one revision together with the head and trim mark. */
  async function readBox(box: Box, user: string, after: number, limit: number): Promise<BoxRead> {
    const bk = k.box(box, user);
    const t = await etcd.txn(
      [],
      [
        get(bk.head),
        get(bk.trim),
        { range: { key: bk.item(after + 1), end: `${bk.itemsPrefix}\u007f`, limit } },
      ],
    );
    const head = seeCounter(bk.head, rangeAt(t, 0).kvs[0]).value;
    const trimmedThrough = seeCounter(bk.trim, rangeAt(t, 1).kvs[0]).value;
    const items = rangeAt(t, 2)
      .kvs.map((kv) => parse<BoxItem>(kv))
      .filter((i): i is BoxItem => i !== undefined);
    return { head, trimmedThrough, items, revision: t.revision };
  }

  /**
   * Deletes items up to `through` (proved delivered); never past the head.
   * When this process knows a head at or past `through` (heads only grow) and
   * the trim mark (a sync reads both just before), the guarded write is the
   * only transaction; a failed one reads both in its failure branch.
   */
  function trim(box: Box, user: string, through: number): Promise<{ trimmedThrough: number }> {
    const bk = k.box(box, user);
    const cachedHead = counterCacheSize > 0 ? counters.get(bk.head) : undefined;
    const cachedMark = counterCacheSize > 0 ? counters.get(bk.trim) : undefined;
    let known =
      cachedHead && cachedMark && cachedHead.value >= through && through > cachedMark.value
        ? { head: cachedHead.value, mark: cachedMark }
        : undefined;
    return cas('trim', async () => {
      let state = known;
      known = undefined;
      if (!state) {
        const read = await etcd.txn([], [get(bk.head), get(bk.trim)]);
        state = {
          head: seeCounter(bk.head, rangeAt(read, 0).kvs[0]).value,
          mark: seeCounter(bk.trim, rangeAt(read, 1).kvs[0]),
        };
      }
      if (through > state.head) {
        throw new StoreError(
          'out-of-order',
          `cannot trim through ${through}: the ${box} of ${user} ends at ${state.head}`,
        );
      }
      if (through <= state.mark.value) return { trimmedThrough: state.mark.value };
      const t = await etcd.txn(
        [modIs(bk.trim, state.mark.rev)],
        [
          put(bk.trim, String(through)),
          { deleteRange: { key: bk.item(0), end: bk.item(through + 1) } },
        ],
        [get(bk.head), get(bk.trim)],
      );
      if (t.succeeded) {
        if (counterCacheSize > 0) counters.see(bk.trim, { value: through, rev: t.revision });
        return { trimmedThrough: through };
      }
      // another trim won: decide again on what the failure branch read
      known = {
        head: seeCounter(bk.head, rangeAt(t, 0).kvs[0]).value,
        mark: seeCounter(bk.trim, rangeAt(t, 1).kvs[0]),
      };
      return undefined;
    });
  }

  function watchUser(
    user: string,
    afterRevision: number,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<{ changed: boolean }> {
    return etcd.watch({
      key: k.user(user),
      prefix: true,
      afterRevision,
      timeoutMs,
      ...(signal ? { signal } : {}),
    });
  }

  // ---- the diffusion queue ----

  const jobFingerprint = (j: Job): string =>
    JSON.stringify([j.box, fingerprint(j.message), j.members]);

  async function enqueue(job: Job): Promise<{ duplicate: boolean }> {
    const key = k.job(job.id);
    const t = await etcd.txn([absent(key)], [put(key, job)], [get(key)]);
    if (t.succeeded) return { duplicate: false };
    const existing = parse<Job>(rangeAt(t, 0).kvs[0]);
    if (existing && jobFingerprint(existing) === jobFingerprint(job)) return { duplicate: true };
    throw new StoreError('conflict', `job ${job.id} already exists with other content`);
  }

  /**
   * Claims up to `max` unclaimed jobs under a fresh lease. A claim is a key
   * attached to the lease: when its worker stops renewing (it died), etcd
   * deletes the claim and the job is free for another worker.
   */
  async function claim(
    owner: string,
    max: number,
    ttlSeconds: number,
  ): Promise<{ lease: string; jobs: ClaimedJob[] }> {
    const [jobs, claims] = await Promise.all([
      etcd.range({
        key: k.jobs,
        prefix: true,
        keysOnly: true,
        limit: 256,
        sortTarget: 'CREATE',
        sortOrder: 'ASCEND',
      }),
      etcd.range({ key: k.claims, prefix: true, keysOnly: true }),
    ]);
    const claimed = new Set(claims.kvs.map((kv) => kv.key.slice(k.claims.length)));
    const free = jobs.kvs.map((kv) => kv.key.slice(k.jobs.length)).filter((id) => !claimed.has(id));
    if (free.length === 0) return { lease: '', jobs: [] };
    const lease = await etcd.leaseGrant(ttlSeconds);
    const out: ClaimedJob[] = [];
    for (const id of free) {
      if (out.length >= max) break;
      const t = await etcd.txn(
        [absent(k.claim(id)), present(k.job(id))],
        [put(k.claim(id), { owner, lease }, lease), get(k.job(id)), get(k.progress(id))],
      );
      const job = t.succeeded ? parse<Job>(rangeAt(t, 1).kvs[0]) : undefined;
      if (job) out.push({ ...job, done: Number(rangeAt(t, 2).kvs[0]?.value ?? '0') });
    }
    if (out.length === 0) {
      await etcd.leaseRevoke(lease);
      return { lease: '', jobs: [] };
    }
    return { lease, jobs: out };
  }

  const holds = (id: string, lease: string): Compare => ({
    key: k.claim(id),
    target: 'LEASE',
    result: 'EQUAL',
    operand: lease,
  });

  async function progress(id: string, lease: string, done: number): Promise<{ held: boolean }> {
    const t = await etcd.txn([holds(id, lease)], [put(k.progress(id), String(done))]);
    return { held: t.succeeded };
  }

  /** Removes a finished job, only while the claim is still this worker's. */
  async function complete(id: string, lease: string): Promise<{ completed: boolean }> {
    const t = await etcd.txn(
      [holds(id, lease)],
      [
        { deleteRange: { key: k.job(id) } },
        { deleteRange: { key: k.progress(id) } },
        { deleteRange: { key: k.claim(id) } },
      ],
    );
    return { completed: t.succeeded };
  }

  async function listJobs(): Promise<
    { id: string; members: number; done: number; claimedBy: string | undefined }[]
  > {
    const [jobs, claims, progressed] = await Promise.all([
      etcd.range({ key: k.jobs, prefix: true, limit: 1000 }),
      etcd.range({ key: k.claims, prefix: true }),
      etcd.range({ key: k.progress(''), prefix: true }),
    ]);
    const owners = new Map(
      claims.kvs.map((kv) => [kv.key.slice(k.claims.length), parse<{ owner: string }>(kv)?.owner]),
    );
    const done = new Map(
      progressed.kvs.map((kv) => [kv.key.slice(k.progress('').length), Number(kv.value)]),
    );
    return jobs.kvs.map((kv) => {
      const id = kv.key.slice(k.jobs.length);
      return {
        id,
        members: parse<Job>(kv)?.members.length ?? 0,
        done: done.get(id) ?? 0,
        claimedBy: owners.get(id),
      };
    });
  }

  return {
    keys: k,
    createAccount,
    checkPassword,
    getAccount,
    accountExists,
    updateAccount,
    recordPayment,
    getContacts,
    isContact,
    befriend,
    createGroup,
    getGroup,
    append,
    readBox,
    trim,
    watchUser,
    enqueue,
    claim,
    renew: (lease: string) => etcd.leaseKeepAlive(lease),
    progress,
    complete,
    listJobs,
  };
}

export type Store = ReturnType<typeof createStore>;
