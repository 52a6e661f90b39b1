// Fixtures: users registered, logged in and made contacts of each other
// through the access tier. Only tests import this file.
import { createClient } from '../../services/access/client.ts';
import type { ApiResult, Session } from '../../services/access/client.ts';

export const password = 'correct horse battery';

export function must<T>(r: ApiResult<T>, what: string): T {
  if (!r.ok) throw new Error(`${what}: ${r.status} ${r.reason}`);
  return r.body;
}

/**
 * Registers and logs in `names`; with `friends`, makes every pair contacts.
 * `sequential` sets up one user at a time, for a deliberately small service.
 */
export async function users(
  accessUrl: string,
  names: readonly string[],
  friends = true,
  sequential = false,
): Promise<Session[]> {
  const c = createClient(accessUrl);
  const one = async (n: string): Promise<Session> => {
    must(await c.register(n, n.toUpperCase(), password), `register ${n}`);
    const { ticket } = must(await c.login(n, password), `login ${n}`);
    return c.session(n, ticket);
  };
  const sessions: Session[] = [];
  if (sequential) for (const n of names) sessions.push(await one(n));
  else sessions.push(...(await Promise.all(names.map(one))));
  if (friends) {
    for (const [i, s] of sessions.entries()) {
      await Promise.all(
        sessions
          .slice(i + 1)
          .map(async (o) => must(await s.addContact(o.user), `befriend ${s.user} ${o.user}`)),
      );
    }
  }
  return sessions;
}

/** Syncs until nothing more is pending, collecting messages; bounded. */
export async function drain(
  s: Session,
  snapshot?: string,
): Promise<{ snapshot: string | undefined; ids: string[] }> {
  const ids: string[] = [];
  let snap = snapshot;
  for (let i = 0; i < 50; i++) {
    const r = must(await s.sync(snap), `sync ${s.user}`);
    ids.push(...r.messages.map((m) => `${m.from}/${m.id}`));
    snap = r.snapshot;
    if (!r.more) break;
  }
  return { snapshot: snap, ids };
}
