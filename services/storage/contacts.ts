// Contacts and groups: mutual contacts written both sides in one
// transaction, and groups created once together with every member's
// membership key (which is what puts the group in their contacts). Entries are
// never deleted, so the newest mod revision under a user's contacts is its
// contacts version.
import type { Group } from '../shared/im.ts';
import { absent } from './etcd.ts';
import { StoreError } from './store-error.ts';
import { get, parse, put, rangeAt } from './txn.ts';
import type { StoreContext } from './txn.ts';

export function contactStore({ etcd, k, now }: StoreContext) {
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

  return { getContacts, isContact, befriend, createGroup, getGroup };
}
