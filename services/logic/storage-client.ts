// Logic's client of the storage tier: one upstream per kind of data, each
// call carrying the user's ticket (storage verifies it again) and the
// request's business class (storage sheds by it). Storage's refusals come
// back as HttpErrors with storage's reason.
import { HttpError } from '../shared/http-error.ts';
import type { Account, Box, BoxItem, Group, Message } from '../shared/im.ts';
import { headers } from '../shared/kit.ts';
import { level, userPriority } from '../shared/priority.ts';
import type { BusinessPriority } from '../shared/priority.ts';
import type { CallOptions, Upstream } from '../shared/upstream.ts';

export interface StorageUpstreams {
  readonly accounts: Upstream;
  readonly contacts: Upstream;
  readonly messages: Upstream;
}

/** Who a call is for: the ticket to show and the priority to carry. */
export interface Caller {
  readonly ticket: string;
  readonly user: string;
  readonly business: BusinessPriority;
  readonly signal?: AbortSignal;
}

export interface ClaimedJob {
  readonly id: string;
  readonly box: Box;
  readonly message: Message;
  readonly members: readonly string[];
  readonly done: number;
}

function errorOf(body: unknown): string {
  if (typeof body === 'object' && body !== null && 'error' in body) return String(body.error);
  return typeof body === 'string' ? body : 'no reason given';
}

export function createStorageClient(up: StorageUpstreams, now: () => number = Date.now) {
  async function call<T>(
    upstream: Upstream,
    caller: Caller,
    c: Omit<CallOptions, 'ticket' | 'business' | 'level'>,
  ): Promise<T> {
    const r = await upstream.call({
      ...c,
      ticket: caller.ticket,
      business: caller.business,
      level: level(caller.business, userPriority(caller.user, now())),
      ...(caller.signal ? { signal: caller.signal } : {}),
    });
    if (r.kind === 'shed') {
      throw new HttpError(503, `shed ${caller.business}: ${r.reason}`, {
        headers: { [headers.shed]: caller.business },
      });
    }
    if (r.kind === 'unavailable') throw new HttpError(503, r.reason);
    if (r.shed) {
      throw new HttpError(503, `${upstream.name}: ${errorOf(r.body)}`, {
        headers: { [headers.shed]: r.shed },
      });
    }
    if (r.status >= 500) throw new HttpError(503, `${upstream.name}: ${errorOf(r.body)}`);
    if (r.status >= 400) throw new HttpError(r.status, `${upstream.name}: ${errorOf(r.body)}`);
    return r.body as T;
  }
  const q = encodeURIComponent;

  return {
    createAccount: (caller: Caller, a: { user: string; name: string; password: string }) =>
      call<{ user: string; version: number }>(up.accounts, caller, {
        method: 'POST',
        path: '/v1/accounts',
        body: a,
      }),
    checkPassword: (caller: Caller, user: string, password: string) =>
      call<{ account: Account }>(up.accounts, caller, {
        method: 'POST',
        path: `/v1/accounts/${q(user)}/password-check`,
        body: { password },
        idempotent: true,
      }),
    getAccount: (caller: Caller, since: number) =>
      call<{ version: number; revision: number; account?: Account }>(up.accounts, caller, {
        method: 'GET',
        path: `/v1/accounts/${q(caller.user)}?since=${since}`,
        idempotent: true,
      }),
    accountExists: (caller: Caller, user: string) =>
      call<{ exists: boolean }>(up.accounts, caller, {
        method: 'GET',
        path: `/v1/accounts/${q(user)}/exists`,
        idempotent: true,
      }),
    updateAccount: (caller: Caller, name: string) =>
      call<{ version: number }>(up.accounts, caller, {
        method: 'PUT',
        path: `/v1/accounts/${q(caller.user)}`,
        body: { name },
        idempotent: true,
      }),
    recordPayment: (caller: Caller, p: { id: string; to: string; amountCents: number }) =>
      call<{ duplicate: boolean }>(up.accounts, caller, {
        method: 'PUT',
        path: `/v1/payments/${q(caller.user)}/${q(p.id)}`,
        body: { to: p.to, amountCents: p.amountCents },
        idempotent: true,
      }),
    getContacts: (caller: Caller, since: number) =>
      call<{
        version: number;
        revision: number;
        contacts?: string[];
        groups?: { id: string; name: string }[];
      }>(up.contacts, caller, {
        method: 'GET',
        path: `/v1/contacts/${q(caller.user)}?since=${since}`,
        idempotent: true,
      }),
    isContact: (caller: Caller, other: string) =>
      call<{ contact: boolean }>(up.contacts, caller, {
        method: 'GET',
        path: `/v1/contacts/${q(caller.user)}/${q(other)}`,
        idempotent: true,
      }),
    befriend: (caller: Caller, other: string) =>
      call<{ version: number }>(up.contacts, caller, {
        method: 'PUT',
        path: `/v1/contacts/${q(caller.user)}/${q(other)}`,
        idempotent: true,
      }),
    createGroup: (caller: Caller, g: { id: string; name: string; members: readonly string[] }) =>
      call<{ duplicate: boolean; group: Group }>(up.contacts, caller, {
        method: 'POST',
        path: '/v1/groups',
        body: { ...g, owner: caller.user },
        idempotent: true,
      }),
    getGroup: (caller: Caller, id: string) =>
      call<{ group: Group }>(up.contacts, caller, {
        method: 'GET',
        path: `/v1/groups/${q(id)}`,
        idempotent: true,
      }),
    append: (caller: Caller, box: Box, user: string, m: Message) =>
      call<{ seq: number; duplicate: boolean }>(up.messages, caller, {
        method: 'POST',
        path: `/v1/boxes/${box}/${q(user)}/items`,
        body: m,
        idempotent: true,
      }),
    readBox: (caller: Caller, box: Box, after: number, limit: number) =>
      call<{ head: number; trimmedThrough: number; items: BoxItem[]; revision: number }>(
        up.messages,
        caller,
        {
          method: 'GET',
          path: `/v1/boxes/${box}/${q(caller.user)}?after=${after}&limit=${limit}`,
          idempotent: true,
        },
      ),
    trim: (caller: Caller, box: Box, through: number) =>
      call<{ trimmedThrough: number }>(up.messages, caller, {
        method: 'POST',
        path: `/v1/boxes/${box}/${q(caller.user)}/trim`,
        body: { through },
        idempotent: true,
      }),
    waitChanges: (caller: Caller, afterRevision: number, timeoutMs: number) =>
      call<{ changed: boolean }>(up.messages, caller, {
        method: 'GET',
        path: `/v1/users/${q(caller.user)}/changes?after=${afterRevision}&timeoutMs=${timeoutMs}`,
        timeoutMs: timeoutMs + 5000,
      }),
    enqueue: (caller: Caller, job: { box: Box; message: Message; members: readonly string[] }) =>
      call<{ id: string; duplicate: boolean }>(up.messages, caller, {
        method: 'POST',
        path: '/v1/jobs',
        body: job,
        idempotent: true,
      }),
    claimJobs: (caller: Caller, owner: string, max: number, ttlSeconds: number) =>
      call<{ lease: string; jobs: ClaimedJob[] }>(up.messages, caller, {
        method: 'POST',
        path: '/v1/jobs/claim',
        body: { owner, max, ttlSeconds },
      }),
    renewClaims: (caller: Caller, lease: string) =>
      call<{ ttl: number }>(up.messages, caller, {
        method: 'POST',
        path: '/v1/jobs/renew',
        body: { lease },
        idempotent: true,
      }),
    releaseClaims: (caller: Caller, lease: string) =>
      call<{ released: boolean }>(up.messages, caller, {
        method: 'POST',
        path: '/v1/jobs/release',
        body: { lease },
        idempotent: true,
      }),
    jobProgress: (caller: Caller, id: string, lease: string, done: number) =>
      call<{ held: boolean }>(up.messages, caller, {
        method: 'POST',
        path: `/v1/jobs/${q(id)}/progress`,
        body: { lease, done },
        idempotent: true,
      }),
    completeJob: (caller: Caller, id: string, lease: string) =>
      call<{ completed: boolean }>(up.messages, caller, {
        method: 'POST',
        path: `/v1/jobs/${q(id)}/complete`,
        body: { lease },
        idempotent: true,
      }),
    listJobs: (caller: Caller) =>
      call<{ jobs: { id: string; members: number; done: number; claimedBy?: string }[] }>(
        up.messages,
        caller,
        {
          method: 'GET',
          path: '/v1/jobs',
          idempotent: true,
        },
      ),
  };
}

export type StorageClient = ReturnType<typeof createStorageClient>;
