// The logic tier: register and login (issuing tickets), 1:1 send, group send
// by write-diffusion, payments, Moments, and sync with an opaque snapshot. It
// holds no state of its own: everything is in storage, so any instance can
// answer any user and take over any diffusion job.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Request } from 'express';
import type { Registry } from 'prom-client';
import { defaultPushWaitMs, maxPushWaitMs, routeClientApis } from '../shared/api.ts';
import type { ClientApiName } from '../shared/api.ts';
import { createAuth } from '../shared/auth.ts';
import { HttpError } from '../shared/http-error.ts';
import type { Message } from '../shared/im.ts';
import { kitFor } from '../shared/kit.ts';
import type { CallContext, Handler, ServiceConfig } from '../shared/kit.ts';
import type { OutlierPolicy } from '../shared/outlier.ts';
import { serviceApp } from '../shared/service.ts';
import type { ServiceApp } from '../shared/service.ts';
import { deriveKey, signTicket } from '../shared/ticket.ts';
import { createUpstream } from '../shared/upstream.ts';
import type { EndpointSource } from '../shared/upstream.ts';
import {
  idPattern,
  int,
  limits,
  messageIdPattern,
  object,
  pathId,
  queryInt,
  str,
  strList,
} from '../shared/validate.ts';
import { createDiffusionWorker, defaultDiffusionOptions } from './diffusion.ts';
import type { DiffusionOptions } from './diffusion.ts';
import { decodeSnapshot, encodeSnapshot } from './snapshot.ts';
import type { Versions } from './snapshot.ts';
import { createStorageClient } from './storage-client.ts';
import type { Caller } from './storage-client.ts';
import { decideSync } from './sync.ts';

export interface LogicConfig extends ServiceConfig {
  /** Where each kind of storage is; one source may serve all three. */
  readonly storage: {
    readonly accounts: EndpointSource;
    readonly contacts: EndpointSource;
    readonly messages: EndpointSource;
  };
  readonly ticketSecret: string;
  /** How long a ticket from login lasts. */
  readonly ticketTtlMs?: number;
  /** This instance's name in diffusion claims. */
  readonly instance?: string;
  /** `false`: this instance diffuses nothing (another does). */
  readonly diffusion?: Partial<Omit<DiffusionOptions, 'owner'>> | false;
  /** Messages per sync answer. */
  readonly syncLimit?: number;
  readonly upstreamTimeoutMs?: number;
  readonly outlier?: OutlierPolicy;
}

export function createLogic(config: LogicConfig): ServiceApp {
  const kit = kitFor('logic', config);
  const { log } = kit;
  const now = config.now ?? Date.now;
  const registry: Registry = kit.metrics.registry;
  const upstream = (name: string, endpoints: EndpointSource) =>
    createUpstream({
      name,
      endpoints,
      registry,
      log,
      now,
      ...(config.upstreamTimeoutMs !== undefined ? { timeoutMs: config.upstreamTimeoutMs } : {}),
      ...(config.outlier ? { outlier: config.outlier } : {}),
    });
  const storage = createStorageClient(
    {
      accounts: upstream('storage-accounts', config.storage.accounts),
      contacts: upstream('storage-contacts', config.storage.contacts),
      messages: upstream('storage-messages', config.storage.messages),
    },
    now,
  );
  const auth = createAuth(config.ticketSecret, now);
  const snapshotKey = deriveKey(config.ticketSecret, 'snapshot');
  const ticketTtlMs = config.ticketTtlMs ?? 12 * 3_600_000;
  const syncLimit = config.syncLimit ?? 100;
  const instance =
    config.instance ?? `logic-${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;

  const mint = (sub: string, role: 'user' | 'service', ttlMs: number): string =>
    signTicket(config.ticketSecret, { sub, role, iat: now(), exp: now() + ttlMs });

  /** Checks the ticket against the :user of the path; the caller for storage calls. */
  const callerOf = (req: Request, ctx: CallContext): Caller => {
    const user = pathId(req.params['user'], 'user');
    auth.asUser(req, user);
    return { ticket: auth.token(req), user, business: ctx.business, signal: ctx.signal };
  };

  const mustBeContact = async (caller: Caller, other: string): Promise<void> => {
    if (other === caller.user) throw new HttpError(400, 'cannot send to yourself');
    if (!(await storage.isContact(caller, other)).contact) {
      throw new HttpError(403, `${other} is not a contact of ${caller.user}`);
    }
  };

  const handlers: Record<ClientApiName, Handler> = {
    async register(req, ctx) {
      const b = object(req.body, ['user', 'name', 'password']);
      const user = str(b, 'user', { pattern: idPattern });
      const caller: Caller = { ticket: '', user, business: ctx.business, signal: ctx.signal };
      const r = await storage.createAccount(caller, {
        user,
        name: str(b, 'name', { min: 1, max: limits.nameChars }),
        password: str(b, 'password', { min: 8, max: limits.passwordChars }),
      });
      return { status: 201, body: { user: r.user } };
    },

    async login(req, ctx) {
      const b = object(req.body, ['user', 'password']);
      const user = str(b, 'user', { pattern: idPattern });
      const caller: Caller = { ticket: '', user, business: ctx.business, signal: ctx.signal };
      await storage.checkPassword(caller, user, str(b, 'password', { max: limits.passwordChars }));
      return {
        body: { user, ticket: mint(user, 'user', ticketTtlMs), expiresAt: now() + ticketTtlMs },
      };
    },

    async sync(req, ctx) {
      const caller = callerOf(req, ctx);
      const b = object(req.body ?? {}, ['snapshot']);
      const token = b['snapshot'] === undefined ? undefined : str(b, 'snapshot', { max: 512 });
      const snap = decodeSnapshot(snapshotKey, token, caller.user);
      if (snap.kind === 'refused') throw new HttpError(snap.status, snap.reason);
      const client = snap.versions;
      const [account, contacts, inbox] = await Promise.all([
        storage.getAccount(caller, client.account),
        storage.getContacts(caller, client.contacts),
        storage.readBox(caller, 'inbox', client.messages, syncLimit),
      ]);
      const d = decideSync(
        client,
        {
          account: {
            version: account.version,
            ...(account.account ? { data: account.account } : {}),
          },
          contacts: {
            version: contacts.version,
            ...(contacts.contacts
              ? { contacts: contacts.contacts, groups: contacts.groups ?? [] }
              : {}),
          },
          inbox,
        },
        syncLimit,
      );
      if (d.kind === 'refused') throw new HttpError(d.status, d.reason);
      if (d.trimThrough !== undefined) {
        // best effort: an item not trimmed now is trimmed by a later sync
        await storage.trim(caller, 'inbox', d.trimThrough).catch((err: unknown) => {
          log.warn('trim failed', { user: caller.user, through: d.trimThrough, err });
        });
      }
      return { body: { ...d.reply, snapshot: encodeSnapshot(snapshotKey, caller.user, d.next) } };
    },

    async push(req, ctx) {
      const caller = callerOf(req, ctx);
      const token = typeof req.query['snapshot'] === 'string' ? req.query['snapshot'] : undefined;
      const snap = decodeSnapshot(snapshotKey, token, caller.user);
      if (snap.kind === 'refused') throw new HttpError(snap.status, snap.reason);
      const waitMs = queryInt(
        req.query['timeoutMs'],
        'timeoutMs',
        defaultPushWaitMs,
        maxPushWaitMs,
      );
      return { body: await waitForNews(caller, snap.versions, waitMs, ctx.signal) };
    },

    async send(req, ctx) {
      const caller = callerOf(req, ctx);
      const b = object(req.body, ['id', 'to', 'text']);
      const to = str(b, 'to', { pattern: idPattern });
      const m: Message = {
        id: str(b, 'id', { pattern: messageIdPattern }),
        from: caller.user,
        kind: 'text',
        text: str(b, 'text', { max: limits.textChars }),
        to,
        sentAt: ctx.now,
      };
      await mustBeContact(caller, to);
      const r = await storage.append(caller, 'inbox', to, m);
      return { body: { id: m.id, seq: r.seq, duplicate: r.duplicate } };
    },

    async 'add-contact'(req, ctx) {
      const caller = callerOf(req, ctx);
      const b = object(req.body, ['contact']);
      const other = str(b, 'contact', { pattern: idPattern });
      if (other === caller.user) throw new HttpError(400, 'a user cannot be their own contact');
      if (!(await storage.accountExists(caller, other)).exists)
        throw new HttpError(404, `no user ${other}`);
      return { body: { contact: other, ...(await storage.befriend(caller, other)) } };
    },

    async 'update-account'(req, ctx) {
      const caller = callerOf(req, ctx);
      const b = object(req.body, ['name']);
      return {
        body: await storage.updateAccount(
          caller,
          str(b, 'name', { min: 1, max: limits.nameChars }),
        ),
      };
    },

    async 'create-group'(req, ctx) {
      const caller = callerOf(req, ctx);
      const b = object(req.body, ['id', 'name', 'members']);
      const members = strList(b, 'members', limits.groupMembers, { pattern: idPattern });
      const all = members.includes(caller.user) ? members : [caller.user, ...members];
      if (all.length > limits.groupMembers)
        throw new HttpError(400, `a group has at most ${limits.groupMembers} members`);
      const { contacts = [] } = await storage.getContacts(caller, 0);
      const strangers = all.filter((m) => m !== caller.user && !contacts.includes(m));
      if (strangers.length > 0) {
        throw new HttpError(
          403,
          `not contacts of ${caller.user}: ${strangers.slice(0, 5).join(', ')}`,
        );
      }
      const r = await storage.createGroup(caller, {
        id: str(b, 'id', { pattern: idPattern }),
        name: str(b, 'name', { min: 1, max: limits.nameChars }),
        members: all,
      });
      return { status: r.duplicate ? 200 : 201, body: { group: r.group } };
    },

    async 'group-send'(req, ctx) {
      const caller = callerOf(req, ctx);
      const groupId = pathId(req.params['group'], 'group');
      const b = object(req.body, ['id', 'text']);
      const m: Message = {
        id: str(b, 'id', { pattern: messageIdPattern }),
        from: caller.user,
        kind: 'text',
        text: str(b, 'text', { max: limits.textChars }),
        group: groupId,
        sentAt: ctx.now,
      };
      // storage refuses the group to a non-member
      const { group } = await storage.getGroup(caller, groupId);
      const r = await storage.enqueue(caller, { box: 'inbox', message: m, members: group.members });
      // acknowledged: the job is durable in storage; members get it asynchronously
      return { status: 202, body: { id: m.id, queued: true, duplicate: r.duplicate } };
    },

    async pay(req, ctx) {
      const caller = callerOf(req, ctx);
      const b = object(req.body, ['id', 'to', 'amountCents']);
      const p = {
        id: str(b, 'id', { pattern: messageIdPattern }),
        to: str(b, 'to', { pattern: idPattern }),
        amountCents: int(b, 'amountCents', 1, 100_000_000),
      };
      await mustBeContact(caller, p.to);
      await storage.recordPayment(caller, p);
      const m: Message = {
        id: p.id,
        from: caller.user,
        kind: 'transfer',
        text: `transfer of ${(p.amountCents / 100).toFixed(2)}`,
        to: p.to,
        amountCents: p.amountCents,
        sentAt: ctx.now,
      };
      const r = await storage.append(caller, 'inbox', p.to, m);
      return { body: { id: p.id, seq: r.seq } };
    },

    async 'post-moment'(req, ctx) {
      const caller = callerOf(req, ctx);
      const b = object(req.body, ['id', 'text']);
      const m: Message = {
        id: str(b, 'id', { pattern: messageIdPattern }),
        from: caller.user,
        kind: 'moment',
        text: str(b, 'text', { max: limits.textChars }),
        sentAt: ctx.now,
      };
      const { contacts = [] } = await storage.getContacts(caller, 0);
      const members = [caller.user, ...contacts].slice(0, limits.groupMembers + 1);
      const r = await storage.enqueue(caller, { box: 'timeline', message: m, members });
      return { status: 202, body: { id: m.id, queued: true, duplicate: r.duplicate } };
    },

    async moments(req, ctx) {
      const caller = callerOf(req, ctx);
      const after = queryInt(req.query['after'], 'after', 0);
      const r = await storage.readBox(caller, 'timeline', after, 50);
      return { body: { head: r.head, items: r.items } };
    },
  };

  /** Answers as soon as anything is newer than the snapshot, or "nothing" when the wait is over. */
  async function waitForNews(
    caller: Caller,
    v: Versions,
    waitMs: number,
    signal: AbortSignal,
  ): Promise<{ changed: boolean }> {
    const deadline = now() + waitMs;
    for (let round = 0; round < 100 && !signal.aborted; round++) {
      const [account, contacts, inbox] = await Promise.all([
        storage.getAccount(caller, v.account),
        storage.getContacts(caller, v.contacts),
        storage.readBox(caller, 'inbox', v.messages, 1),
      ]);
      if (account.version > v.account || contacts.version > v.contacts || inbox.head > v.messages) {
        return { changed: true };
      }
      const left = deadline - now();
      if (left <= 0) break;
      const since = Math.min(account.revision, contacts.revision, inbox.revision);
      await storage.waitChanges(caller, since, Math.min(left, maxPushWaitMs));
    }
    return { changed: false };
  }

  routeClientApis(kit, (api) => handlers[api.api]);

  const worker =
    config.diffusion === false
      ? undefined
      : createDiffusionWorker(
          {
            storage,
            serviceTicket: () => mint(instance, 'service', 60_000),
            senderTicket: (user) => mint(user, 'user', 60_000),
            log,
            registry,
          },
          { ...defaultDiffusionOptions, ...config.diffusion, owner: instance },
        );

  return serviceApp('logic', kit, {
    start: () => worker?.start(),
    stop: async () => {
      await worker?.stop();
    },
  });
}
