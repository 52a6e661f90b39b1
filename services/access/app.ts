// The access tier: where clients connect. Short HTTP requests and a push
// long-poll (GET /v1/users/:user/push answers as soon as anything is newer
// than the client's snapshot, or after ~25 s). It verifies the ticket of
// every request, gives each its business class, and forwards it to a logic
// instance chosen by the upstream client (outlier ejection, no retry into an
// overloaded instance).
import type { Request } from 'express';
import type { ClientApi } from '../shared/api.ts';
import { defaultPushWaitMs, maxPushWaitMs, routeClientApis } from '../shared/api.ts';
import { createAuth } from '../shared/auth.ts';
import type { GateOptions } from '../shared/gate.ts';
import { HttpError } from '../shared/http-error.ts';
import { headers, kitFor } from '../shared/kit.ts';
import type { CallContext, Reply, ServiceConfig } from '../shared/kit.ts';
import type { OutlierPolicy } from '../shared/outlier.ts';
import { level, userPriority } from '../shared/priority.ts';
import { serviceApp } from '../shared/service.ts';
import type { ServiceApp } from '../shared/service.ts';
import { createUpstream } from '../shared/upstream.ts';
import type { EndpointSource } from '../shared/upstream.ts';
import { pathId, queryInt } from '../shared/validate.ts';

export interface AccessConfig extends ServiceConfig {
  readonly logic: EndpointSource;
  readonly ticketSecret: string;
  /** How long a push long-poll waits at most (default 25 s). */
  readonly pushWaitMs?: number;
  readonly upstreamTimeoutMs?: number;
  readonly outlier?: OutlierPolicy;
}

export const defaultAccessGate: GateOptions = {
  maxConcurrency: 512,
  maxQueue: 2048,
  maxQueueWaitMs: 1000,
  policy: {
    targetQueueMs: 20,
    decrease: 0.05,
    increase: 0.01,
    windowMs: 1000,
    windowRequests: 2000,
  },
};

export function createAccess(config: AccessConfig): ServiceApp {
  const kit = kitFor('access', config, defaultAccessGate);
  const { log } = kit;
  const now = config.now ?? Date.now;
  const auth = createAuth(config.ticketSecret, now);
  const upstreamTimeoutMs = config.upstreamTimeoutMs ?? 5000;
  const pushWaitMs = Math.min(config.pushWaitMs ?? defaultPushWaitMs, maxPushWaitMs);
  const logic = createUpstream({
    name: 'logic',
    endpoints: config.logic,
    registry: kit.metrics.registry,
    log,
    now,
    timeoutMs: upstreamTimeoutMs,
    ...(config.outlier ? { outlier: config.outlier } : {}),
  });
  kit.setReadiness(() =>
    logic.state().some((e) => !e.ejected) ? undefined : 'no logic instance is reachable',
  );

  const forward =
    (api: ClientApi) =>
    async (req: Request, ctx: CallContext): Promise<Reply> => {
      let user = 'anonymous';
      let ticket: string | undefined;
      if (api.auth === 'user') {
        user = pathId(req.params['user'], 'user');
        auth.asUser(req, user);
        ticket = auth.token(req);
      }
      let path = req.originalUrl;
      let timeoutMs = upstreamTimeoutMs;
      if (api.longPoll) {
        // the wait is bounded here, whatever the client asked for
        const wait = Math.min(
          queryInt(req.query['timeoutMs'], 'timeoutMs', pushWaitMs, maxPushWaitMs),
          pushWaitMs,
        );
        const snapshot = typeof req.query['snapshot'] === 'string' ? req.query['snapshot'] : '';
        path = `${req.path}?timeoutMs=${wait}&snapshot=${encodeURIComponent(snapshot)}`;
        timeoutMs = wait + upstreamTimeoutMs;
      }
      const r = await logic.call({
        method: api.method === 'get' ? 'GET' : api.method === 'put' ? 'PUT' : 'POST',
        path,
        ...(req.body !== undefined && api.method !== 'get' ? { body: req.body as unknown } : {}),
        ...(ticket !== undefined ? { ticket } : {}),
        business: ctx.business,
        level: level(ctx.business, userPriority(user, now())),
        idempotent: api.idempotent,
        timeoutMs,
        signal: ctx.signal,
      });
      if (r.kind === 'shed') {
        throw new HttpError(503, `shed ${ctx.business}: ${r.reason}`, {
          headers: { [headers.shed]: ctx.business },
        });
      }
      if (r.kind === 'unavailable') throw new HttpError(503, r.reason);
      if (r.shed) {
        const reason =
          typeof r.body === 'object' && r.body !== null && 'error' in r.body
            ? String(r.body.error)
            : 'shed';
        throw new HttpError(503, reason, { headers: { [headers.shed]: r.shed } });
      }
      return { status: r.status, body: r.body };
    };

  routeClientApis(kit, forward);
  return serviceApp('access', kit);
}
