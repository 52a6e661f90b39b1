// The storage tier: a data-access service per kind of data (accounts,
// contacts and groups, messages with the diffusion queue) in front of etcd.
// One process may serve several kinds; each verifies the caller's ticket
// before it touches a user's data.
import { Counter } from 'prom-client';
import type { Request } from 'express';
import { createAuth } from '../shared/auth.ts';
import { HttpError } from '../shared/http-error.ts';
import { isBox, parseMessage } from '../shared/im.ts';
import type { Box } from '../shared/im.ts';
import { kitFor } from '../shared/kit.ts';
import type { Handler, ServiceConfig } from '../shared/kit.ts';
import { serviceApp } from '../shared/service.ts';
import type { ServiceApp } from '../shared/service.ts';
import {
  idPattern,
  int,
  limits,
  object,
  pathId,
  queryInt,
  str,
  strList,
} from '../shared/validate.ts';
import { EtcdError, createEtcd } from './etcd.ts';
import { StoreError, createStore } from './store.ts';
import type { StoreErrorKind } from './store.ts';

export const storageKinds = ['accounts', 'contacts', 'messages'] as const;
export type StorageKind = (typeof storageKinds)[number];

export interface StorageConfig extends ServiceConfig {
  /** Client URLs of the etcd members, one per campus. */
  readonly etcd: readonly string[];
  readonly ticketSecret: string;
  /** Key prefix in etcd (several backends may share one cluster). */
  readonly prefix?: string;
  readonly kinds?: readonly StorageKind[];
  readonly passwordCost?: number;
  readonly etcdDeadlineMs?: number;
}

const statusOf: Record<StoreErrorKind, number> = {
  conflict: 409,
  'not-found': 404,
  'out-of-order': 409,
  unauthenticated: 401,
  contention: 503,
};

/** Store and etcd errors become statuses once, here. */
function translate(err: unknown): unknown {
  if (err instanceof StoreError)
    return new HttpError(statusOf[err.kind], err.message, { cause: err });
  if (err instanceof EtcdError) {
    return new HttpError(err.retryable ? 503 : 500, `storage unavailable: ${err.message}`, {
      cause: err,
    });
  }
  return err;
}

const guarded =
  (fn: Handler): Handler =>
  async (req, ctx) => {
    try {
      return await fn(req, ctx);
    } catch (err) {
      throw translate(err);
    }
  };

function boxParam(req: Request): Box {
  const b = req.params['box'];
  if (!isBox(b)) throw new HttpError(404, `no box ${JSON.stringify(b ?? '')} (inbox or timeline)`);
  return b;
}

export function createStorage(config: StorageConfig): ServiceApp {
  const kit = kitFor('storage', config);
  const now = config.now ?? Date.now;
  const registers = [kit.metrics.registry];
  const etcdAttempts = new Counter({
    name: 'yard_im_etcd_requests_total',
    help: 'Attempts against one etcd member, by operation and outcome (ok, error, unreachable: the client failed over).',
    labelNames: ['op', 'outcome'],
    registers,
  });
  const casRetries = new Counter({
    name: 'yard_im_etcd_cas_retries_total',
    help: 'Compare-and-swap transactions lost to a concurrent writer and retried.',
    labelNames: ['op'],
    registers,
  });
  const etcd = createEtcd({
    endpoints: config.etcd,
    ...(config.etcdDeadlineMs !== undefined ? { deadlineMs: config.etcdDeadlineMs } : {}),
    onAttempt: (op, _endpoint, outcome) => etcdAttempts.inc({ op, outcome }),
  });
  const store = createStore(etcd, {
    prefix: config.prefix ?? '/yard/im/',
    ...(config.passwordCost !== undefined ? { passwordCost: config.passwordCost } : {}),
    now,
    onCasRetry: (op) => casRetries.inc({ op }),
  });
  const auth = createAuth(config.ticketSecret, now);
  const kinds = new Set(config.kinds ?? storageKinds);
  const route = (
    method: 'get' | 'post' | 'put',
    path: string,
    api: string,
    fn: Handler,
    longPoll = false,
  ): void => kit.route(method, path, { api, business: 'caller', longPoll }, guarded(fn));
  const user = (req: Request): string => pathId(req.params['user'], 'user');

  if (kinds.has('accounts')) {
    // no ticket: there is no user yet
    route('post', '/v1/accounts', 'create-account', async (req) => {
      const b = object(req.body, ['user', 'name', 'password']);
      const u = str(b, 'user', { pattern: idPattern });
      const r = await store.createAccount({
        user: u,
        name: str(b, 'name', { min: 1, max: limits.nameChars }),
        password: str(b, 'password', { min: 8, max: limits.passwordChars }),
      });
      return { status: 201, body: { user: u, version: r.version } };
    });
    // no ticket: the password is the credential
    route('post', '/v1/accounts/:user/password-check', 'password-check', async (req) => {
      const b = object(req.body, ['password']);
      const account = await store.checkPassword(
        user(req),
        str(b, 'password', { max: limits.passwordChars }),
      );
      return { body: { account } };
    });
    route('get', '/v1/accounts/:user', 'get-account', async (req) => {
      const u = user(req);
      auth.asUser(req, u);
      const since = queryInt(req.query['since'], 'since', -1);
      const r = await store.getAccount(u);
      return {
        body: {
          version: r.version,
          revision: r.revision,
          ...(r.version > since ? { account: r.account } : {}),
        },
      };
    });
    route('get', '/v1/accounts/:user/exists', 'account-exists', async (req) => {
      auth.anyUser(req);
      return { body: { exists: await store.accountExists(user(req)) } };
    });
    route('put', '/v1/accounts/:user', 'update-account', async (req) => {
      const u = user(req);
      auth.asUser(req, u);
      const b = object(req.body, ['name']);
      return {
        body: await store.updateAccount(u, str(b, 'name', { min: 1, max: limits.nameChars })),
      };
    });
    route('put', '/v1/payments/:user/:id', 'record-payment', async (req) => {
      const u = user(req);
      auth.asUser(req, u);
      const b = object(req.body, ['to', 'amountCents']);
      const r = await store.recordPayment(u, {
        id: pathId(req.params['id'], 'payment id', /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/),
        to: str(b, 'to', { pattern: idPattern }),
        amountCents: int(b, 'amountCents', 1, 100_000_000),
      });
      return { status: r.duplicate ? 200 : 201, body: r };
    });
  }

  if (kinds.has('contacts')) {
    route('get', '/v1/contacts/:user', 'get-contacts', async (req) => {
      const u = user(req);
      auth.asUser(req, u);
      return { body: await store.getContacts(u, queryInt(req.query['since'], 'since', -1)) };
    });
    route('get', '/v1/contacts/:user/:other', 'is-contact', async (req) => {
      const u = user(req);
      auth.asUser(req, u);
      return {
        body: { contact: await store.isContact(u, pathId(req.params['other'], 'contact')) },
      };
    });
    route('put', '/v1/contacts/:user/:other', 'befriend', async (req) => {
      const u = user(req);
      auth.asUser(req, u);
      const other = pathId(req.params['other'], 'contact');
      if (other === u) throw new HttpError(400, 'a user cannot be their own contact');
      return { body: await store.befriend(u, other) };
    });
    route('post', '/v1/groups', 'create-group', async (req) => {
      const b = object(req.body, ['id', 'name', 'owner', 'members']);
      const owner = str(b, 'owner', { pattern: idPattern });
      auth.asUser(req, owner);
      const members = strList(b, 'members', limits.groupMembers, { pattern: idPattern });
      if (!members.includes(owner)) throw new HttpError(400, 'the owner must be a member');
      const r = await store.createGroup({
        id: str(b, 'id', { pattern: idPattern }),
        name: str(b, 'name', { min: 1, max: limits.nameChars }),
        owner,
        members,
      });
      return { status: r.duplicate ? 200 : 201, body: r };
    });
    route('get', '/v1/groups/:id', 'get-group', async (req) => {
      const claims = auth.verify(req);
      const g = await store.getGroup(pathId(req.params['id'], 'group'));
      if (claims.role === 'user' && !g.members.includes(claims.sub)) {
        throw new HttpError(403, `${claims.sub} is not a member of group ${g.id}`);
      }
      return { body: { group: g } };
    });
  }

  if (kinds.has('messages')) {
    route('post', '/v1/boxes/:box/:user/items', 'append', async (req) => {
      const box = boxParam(req);
      const u = user(req);
      const m = parseMessage(req.body);
      // the sender's ticket may put a message from the sender into another user's box
      auth.asUser(req, m.from);
      const r = await store.append(box, u, m);
      return { status: r.duplicate ? 200 : 201, body: r };
    });
    route('get', '/v1/boxes/:box/:user', 'read-box', async (req) => {
      const box = boxParam(req);
      const u = user(req);
      auth.asUser(req, u);
      const after = queryInt(req.query['after'], 'after', 0);
      const limit = queryInt(req.query['limit'], 'limit', 100, 1000);
      return { body: await store.readBox(box, u, after, Math.max(1, limit)) };
    });
    route('post', '/v1/boxes/:box/:user/trim', 'trim', async (req) => {
      const box = boxParam(req);
      const u = user(req);
      auth.asUser(req, u);
      const b = object(req.body, ['through']);
      return { body: await store.trim(box, u, int(b, 'through', 0, Number.MAX_SAFE_INTEGER)) };
    });
    route(
      'get',
      '/v1/users/:user/changes',
      'wait-changes',
      async (req, ctx) => {
        const u = user(req);
        auth.asUser(req, u);
        const after = queryInt(req.query['after'], 'after', 0);
        const timeoutMs = queryInt(req.query['timeoutMs'], 'timeoutMs', 25_000, 60_000);
        return { body: await store.watchUser(u, after, timeoutMs, ctx.signal) };
      },
      true,
    );
    route('post', '/v1/jobs', 'enqueue', async (req) => {
      const b = object(req.body, ['box', 'message', 'members']);
      const box = b['box'];
      if (!isBox(box)) throw new HttpError(400, 'box must be inbox or timeline');
      const message = parseMessage(b['message']);
      auth.asUser(req, message.from);
      const members = strList(b, 'members', limits.groupMembers + 1, { pattern: idPattern });
      const id = `${message.from}.${message.id}`;
      const r = await store.enqueue({ id, box, message, members });
      return { status: r.duplicate ? 200 : 201, body: { id, ...r } };
    });
    route('post', '/v1/jobs/claim', 'claim-jobs', async (req) => {
      auth.service(req);
      const b = object(req.body, ['owner', 'max', 'ttlSeconds']);
      return {
        body: await store.claim(
          str(b, 'owner', { max: 128 }),
          int(b, 'max', 1, 64),
          int(b, 'ttlSeconds', 1, 300),
        ),
      };
    });
    route('post', '/v1/jobs/renew', 'renew-claim', async (req) => {
      auth.service(req);
      const b = object(req.body, ['lease']);
      return { body: { ttl: await store.renew(str(b, 'lease', { pattern: /^\d{1,20}$/ })) } };
    });
    route('post', '/v1/jobs/release', 'release-claims', async (req) => {
      auth.service(req);
      const b = object(req.body, ['lease']);
      await etcd.leaseRevoke(str(b, 'lease', { pattern: /^\d{1,20}$/ }));
      return { body: { released: true } };
    });
    route('post', '/v1/jobs/:id/progress', 'job-progress', async (req) => {
      auth.service(req);
      const b = object(req.body, ['lease', 'done']);
      const id = pathId(req.params['id'], 'job', /^[a-z0-9_.-]{1,100}$/i);
      return {
        body: await store.progress(
          id,
          str(b, 'lease', { pattern: /^\d{1,20}$/ }),
          int(b, 'done', 0, limits.groupMembers + 1),
        ),
      };
    });
    route('post', '/v1/jobs/:id/complete', 'complete-job', async (req) => {
      auth.service(req);
      const b = object(req.body, ['lease']);
      const id = pathId(req.params['id'], 'job', /^[a-z0-9_.-]{1,100}$/i);
      return { body: await store.complete(id, str(b, 'lease', { pattern: /^\d{1,20}$/ })) };
    });
    route('get', '/v1/jobs', 'list-jobs', async (req) => {
      auth.service(req);
      return { body: { jobs: await store.listJobs() } };
    });
  }

  return serviceApp('storage', kit);
}
