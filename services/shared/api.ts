// The client API of the backend, as access serves it and logic implements it:
// one table, so both tiers agree on each API's business class (which decides
// what is shed first) and on which calls are safe to retry.
import type { Handler, ServiceKit } from './kit.ts';
import type { BusinessPriority } from './priority.ts';

export interface ClientApi {
  readonly method: 'get' | 'post' | 'put';
  readonly path: string;
  readonly api: string;
  readonly business: BusinessPriority;
  /** Whether the caller must hold the ticket of the :user in the path. */
  readonly auth: 'user' | 'none';
  /** Safe to send twice (keyed by a client-chosen id, or read-only). */
  readonly idempotent: boolean;
  readonly longPoll?: boolean;
}

export const clientApis = [
  {
    method: 'post',
    path: '/v1/register',
    api: 'register',
    business: 'message',
    auth: 'none',
    idempotent: false,
  },
  {
    method: 'post',
    path: '/v1/login',
    api: 'login',
    business: 'message',
    auth: 'none',
    idempotent: true,
  },
  {
    method: 'post',
    path: '/v1/users/:user/sync',
    api: 'sync',
    business: 'message',
    auth: 'user',
    idempotent: true,
  },
  {
    method: 'get',
    path: '/v1/users/:user/push',
    api: 'push',
    business: 'message',
    auth: 'user',
    idempotent: false,
    longPoll: true,
  },
  {
    method: 'post',
    path: '/v1/users/:user/messages',
    api: 'send',
    business: 'message',
    auth: 'user',
    idempotent: true,
  },
  {
    method: 'post',
    path: '/v1/users/:user/contacts',
    api: 'add-contact',
    business: 'message',
    auth: 'user',
    idempotent: true,
  },
  {
    method: 'put',
    path: '/v1/users/:user/account',
    api: 'update-account',
    business: 'message',
    auth: 'user',
    idempotent: true,
  },
  {
    method: 'post',
    path: '/v1/users/:user/groups',
    api: 'create-group',
    business: 'groupchat',
    auth: 'user',
    idempotent: true,
  },
  {
    method: 'post',
    path: '/v1/users/:user/groups/:group/messages',
    api: 'group-send',
    business: 'groupchat',
    auth: 'user',
    idempotent: true,
  },
  {
    method: 'post',
    path: '/v1/users/:user/payments',
    api: 'pay',
    business: 'payment',
    auth: 'user',
    idempotent: true,
  },
  {
    method: 'post',
    path: '/v1/users/:user/moments',
    api: 'post-moment',
    business: 'moments',
    auth: 'user',
    idempotent: true,
  },
  {
    method: 'get',
    path: '/v1/users/:user/moments',
    api: 'moments',
    business: 'moments',
    auth: 'user',
    idempotent: true,
  },
] as const satisfies readonly ClientApi[];

export type ClientApiName = (typeof clientApis)[number]['api'];

/** The longest a push long-poll waits before answering "nothing new". */
export const maxPushWaitMs = 30_000;
export const defaultPushWaitMs = 25_000;

/** Serves every client API on a kit, each with its business class and long-poll flag. */
export function routeClientApis(
  kit: ServiceKit,
  handler: (api: (typeof clientApis)[number]) => Handler,
): void {
  for (const api of clientApis) {
    const longPoll = 'longPoll' in api ? { longPoll: api.longPoll } : {};
    kit.route(
      api.method,
      api.path,
      { api: api.api, business: api.business, ...longPoll },
      handler(api),
    );
  }
}
