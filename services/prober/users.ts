// The prober's synthetic users: named after the run, registered (or found
// again) and logged in, joined in a ring of contacts for 1:1 sends, and in one
// group the first user owns. Set-up is retried with backoff: the target may
// be starting too.
import type { ApiResult, Client, Session } from '../access/client.ts';
import type { Logger } from '../shared/log.ts';
import type { ProberClock } from './clock.ts';

/** The calls the prober makes: a narrower view of the access client, so tests can stand in for it. */
export type ProberSession = Pick<
  Session,
  'user' | 'ticket' | 'sync' | 'send' | 'addContact' | 'createGroup' | 'groupSend' | 'pay'
>;
export interface ProberClient {
  readonly register: Client['register'];
  readonly login: Client['login'];
  session(user: string, ticket: string): ProberSession;
}

export interface User {
  readonly name: string;
  session: ProberSession | undefined;
  snapshot: string | undefined;
  syncing: boolean;
}

export type Timed = <T>(api: string, call: () => Promise<ApiResult<T>>) => Promise<ApiResult<T>>;

export const proberPassword = 'prober-password-not-secret';

export function syntheticUsers(runId: string, n: number): { users: User[]; group: string } {
  return {
    users: Array.from({ length: n }, (_, i) => ({
      name: `p-${runId}-${i}`,
      session: undefined,
      snapshot: undefined,
      syncing: false,
    })),
    group: `p-${runId}`,
  };
}

export async function login(client: ProberClient, timed: Timed, u: User): Promise<boolean> {
  const r = await timed('login', () => client.login(u.name, proberPassword));
  if (r.ok) u.session = client.session(u.name, r.body.ticket);
  return r.ok;
}

async function must<T>(
  timed: Timed,
  api: string,
  call: Promise<ApiResult<T>> | undefined,
): Promise<T> {
  if (!call) throw new Error(`${api}: not logged in`);
  const r = await timed(api, () => call);
  if (!r.ok) throw new Error(`${api}: ${r.status} ${r.reason}`);
  return r.body;
}

/** Registers (or finds) and logs in every user, then connects them: one attempt. */
async function setUpOnce(
  client: ProberClient,
  timed: Timed,
  users: readonly User[],
  group: string,
): Promise<void> {
  for (const u of users) {
    if (u.session) continue;
    const reg = await timed('register', () => client.register(u.name, u.name, proberPassword));
    if (!reg.ok && reg.status !== 409) throw new Error(`register ${u.name}: ${reg.reason}`);
    if (!(await login(client, timed, u))) throw new Error(`login ${u.name} failed`);
  }
  const [first, ...rest] = users;
  for (const [i, u] of users.entries()) {
    const next = users[(i + 1) % users.length];
    if (next && next !== u) await must(timed, 'add-contact', u.session?.addContact(next.name));
  }
  for (const u of rest.slice(1, -1))
    await must(timed, 'add-contact', first?.session?.addContact(u.name));
  const members = rest.map((u) => u.name);
  await must(timed, 'create-group', first?.session?.createGroup(group, 'dial test', members));
}

/** Sets the users up, retrying until done, `deadline` (clock time) or `signal`. */
export async function setUpUsers(o: {
  readonly client: ProberClient;
  readonly timed: Timed;
  readonly users: readonly User[];
  readonly group: string;
  readonly clock: ProberClock;
  readonly deadline: number;
  readonly signal: AbortSignal;
  readonly log: Logger;
}): Promise<void> {
  for (let attempt = 0; !o.signal.aborted && o.clock.now() < o.deadline; attempt++) {
    try {
      await setUpOnce(o.client, o.timed, o.users, o.group);
      return;
    } catch (err) {
      o.log.warn('prober setup failed; retrying', { err, attempt });
      const backoff = Math.min(5000, 250 * 2 ** attempt);
      await o.clock.sleep(backoff, o.signal).catch(() => undefined);
    }
  }
  throw new Error('prober: setup did not finish');
}
