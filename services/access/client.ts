// A typed client of the access tier's API, for the prober, tests and anyone
// scripting the backend. It never throws for an HTTP answer: a refusal comes
// back with its status and reason, a shed request says which business was
// shed, and a network failure has status 0.
import type { Account, BoxItem, Group } from '../shared/im.ts';
import { headers } from '../shared/kit.ts';

export type ApiResult<T> =
  | { readonly ok: true; readonly status: number; readonly body: T }
  | {
      readonly ok: false;
      readonly status: number;
      readonly reason: string;
      readonly shed: string | undefined;
    };

export interface SyncAnswer {
  readonly account?: Account;
  readonly contacts?: string[];
  readonly groups?: { id: string; name: string }[];
  readonly messages: BoxItem[];
  readonly more: boolean;
  readonly gap: boolean;
  readonly snapshot: string;
}

export interface ClientOptions {
  readonly timeoutMs?: number;
}

/** An HTTP answer as a result: the parsed body, or the status and reason of a refusal. */
async function answer<T>(res: Response): Promise<ApiResult<T>> {
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    // not JSON: keep the text as the reason
  }
  if (res.ok) return { ok: true, status: res.status, body: parsed as T };
  const reason =
    typeof parsed === 'object' && parsed !== null && 'error' in parsed
      ? String(parsed.error)
      : text;
  return {
    ok: false,
    status: res.status,
    reason,
    shed: res.headers.get(headers.shed) ?? undefined,
  };
}

/**
 * A client of one access URL, or of a changing set: a function that names the
 * instance for each request (the prober spreads over the access instances that
 * discovery says serve) and undefined when there is none.
 */
export function createClient(
  baseUrl: string | (() => string | undefined),
  opts: ClientOptions = {},
) {
  const fixed = typeof baseUrl === 'string' ? baseUrl.replace(/\/+$/, '') : undefined;
  const pick = typeof baseUrl === 'string' ? () => fixed : baseUrl;
  const timeoutMs = opts.timeoutMs ?? 10_000;

  async function request<T>(
    method: string,
    path: string,
    body?: unknown,
    ticket?: string,
    wait = timeoutMs,
  ): Promise<ApiResult<T>> {
    const base = pick()?.replace(/\/+$/, '');
    if (base === undefined) {
      return { ok: false, status: 0, reason: 'no access instance serves', shed: undefined };
    }
    const h: Record<string, string> = {};
    if (body !== undefined) h['content-type'] = 'application/json';
    if (ticket !== undefined) h['authorization'] = `Bearer ${ticket}`;
    try {
      const res = await fetch(`${base}${path}`, {
        method,
        headers: h,
        signal: AbortSignal.timeout(wait),
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      return await answer<T>(res);
    } catch (err) {
      const cause =
        err instanceof Error && err.cause instanceof Error ? ` (${err.cause.message})` : '';
      return {
        ok: false,
        status: 0,
        reason: `${err instanceof Error ? err.message : String(err)}${cause}`,
        shed: undefined,
      };
    }
  }

  const u = encodeURIComponent;
  return {
    register: (user: string, name: string, password: string) =>
      request<{ user: string }>('POST', '/v1/register', { user, name, password }),
    login: (user: string, password: string) =>
      request<{ user: string; ticket: string; expiresAt: number }>('POST', '/v1/login', {
        user,
        password,
      }),
    /** The calls of one logged-in user. */
    session(user: string, ticket: string) {
      const p = `/v1/users/${u(user)}`;
      return {
        user,
        ticket,
        sync: (snapshot?: string) =>
          request<SyncAnswer>(
            'POST',
            `${p}/sync`,
            snapshot === undefined ? {} : { snapshot },
            ticket,
          ),
        push: (snapshot: string, waitMs: number) =>
          request<{ changed: boolean }>(
            'GET',
            `${p}/push?snapshot=${u(snapshot)}&timeoutMs=${waitMs}`,
            undefined,
            ticket,
            waitMs + timeoutMs,
          ),
        send: (to: string, id: string, text: string) =>
          request<{ id: string; seq: number }>('POST', `${p}/messages`, { id, to, text }, ticket),
        addContact: (contact: string) =>
          request<{ contact: string; version: number }>(
            'POST',
            `${p}/contacts`,
            { contact },
            ticket,
          ),
        updateAccount: (name: string) =>
          request<{ version: number }>('PUT', `${p}/account`, { name }, ticket),
        createGroup: (id: string, name: string, members: readonly string[]) =>
          request<{ group: Group }>('POST', `${p}/groups`, { id, name, members }, ticket),
        groupSend: (group: string, id: string, text: string) =>
          request<{ id: string; queued: boolean }>(
            'POST',
            `${p}/groups/${u(group)}/messages`,
            { id, text },
            ticket,
          ),
        pay: (to: string, id: string, amountCents: number) =>
          request<{ id: string; seq: number }>(
            'POST',
            `${p}/payments`,
            { id, to, amountCents },
            ticket,
          ),
        postMoment: (id: string, text: string) =>
          request<{ id: string }>('POST', `${p}/moments`, { id, text }, ticket),
        moments: (after = 0) =>
          request<{ head: number; items: BoxItem[] }>(
            'GET',
            `${p}/moments?after=${after}`,
            undefined,
            ticket,
          ),
      };
    },
    /** A raw request, for tests of bad input. */
    raw: request,
  };
}

export type Client = ReturnType<typeof createClient>;
export type Session = ReturnType<Client['session']>;
