// What every service shares: an express app with /healthz, /readyz and
// /metrics, routes that pass the admission gate and are measured, request
// bodies parsed with a size limit, errors translated once into a status and a
// reason, and listen/close for port 0 in tests and a pod address in production.
import express from 'express';
import type { Express, NextFunction, Request, RequestHandler, Response } from 'express';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { createGate, defaultGateOptions } from './gate.ts';
import type { Gate, GateOptions } from './gate.ts';
import { HttpError } from './http-error.ts';
import type { Logger } from './log.ts';
import { createLogger } from './log.ts';
import { createRegistry, createServiceMetrics } from './metrics.ts';
import type { ServiceMetrics } from './metrics.ts';
import { isBusiness, level, userPriority } from './priority.ts';
import type { BusinessPriority } from './priority.ts';
import { limits } from './validate.ts';

/** Headers of the priority protocol between tiers. */
export const headers = {
  /** The business class of the request, set by the entry tier and passed down. */
  business: 'x-yard-business',
  /** On a 503: the business class that was shed. */
  shed: 'x-yard-shed',
  /** On every answer: the service's admission threshold, so callers shed before calling. */
  admissionLevel: 'x-yard-admission-level',
} as const;

export interface ApiMeta {
  /** The API name in metrics and logs. */
  readonly api: string;
  /** The business class, or `caller` to take it from the x-yard-business header (storage). */
  readonly business: BusinessPriority | 'caller';
  /** A long-poll waits without holding a slot of the gate. */
  readonly longPoll?: boolean;
}

export interface CallContext {
  readonly api: string;
  readonly business: BusinessPriority;
  /** Wall-clock time at arrival, ms since the epoch. */
  readonly now: number;
  /** Aborted when the caller goes away (a long-poll stops waiting). */
  readonly signal: AbortSignal;
}

export interface Reply {
  readonly status?: number;
  readonly body: unknown;
}

export type Handler = (req: Request, ctx: CallContext) => Promise<Reply>;

export interface Listening {
  readonly url: string;
  readonly server: Server;
  close(): Promise<void>;
}

export interface KitOptions {
  readonly service: string;
  readonly log: Logger;
  readonly gate?: GateOptions;
  readonly registry?: Registry;
  /** Process metrics: only for a service in its own process. */
  readonly defaultMetrics?: boolean;
  readonly now?: () => number;
}

export interface ServiceKit {
  readonly app: Express;
  readonly metrics: ServiceMetrics;
  readonly gate: Gate;
  readonly log: Logger;
  route(method: 'get' | 'post' | 'put', path: string, meta: ApiMeta, handler: Handler): void;
  /** Readiness: /readyz answers 503 with the reason until this returns undefined. */
  setReadiness(check: () => string | undefined): void;
  listen(host?: string, port?: number): Promise<Listening>;
  close(): void;
}

function sendError(
  res: Response,
  status: number,
  reason: string,
  extra: Readonly<Record<string, string>> = {},
): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  for (const [k, v] of Object.entries(extra)) res.setHeader(k, v);
  res.status(status).json({ error: reason });
}

/** Errors of the JSON body parser carry a 4xx status and a type. */
function bodyParserError(err: unknown): { status: number; reason: string } | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { status?: unknown; type?: unknown; message?: unknown };
  if (typeof e.status !== 'number' || e.status < 400 || e.status >= 500) return undefined;
  const type = typeof e.type === 'string' ? e.type : '';
  if (type === 'entity.too.large') {
    return { status: 413, reason: `body larger than ${limits.bodyBytes} bytes` };
  }
  if (type === 'entity.parse.failed') {
    return { status: 400, reason: `malformed JSON body: ${String(e.message)}` };
  }
  return { status: e.status, reason: typeof e.message === 'string' ? e.message : 'bad request' };
}

export function userOf(req: Request): string {
  const fromPath = req.params['user'];
  if (typeof fromPath === 'string') return fromPath;
  return 'anonymous';
}

export function createKit(opts: KitOptions): ServiceKit {
  const now = opts.now ?? Date.now;
  const registry = opts.registry ?? createRegistry(opts.service, opts.defaultMetrics ?? false);
  const metrics = createServiceMetrics(registry);
  const gate = createGate(opts.gate ?? defaultGateOptions, metrics);
  metrics.admissionLevel.set(gate.threshold());
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  const json = express.json({ limit: limits.bodyBytes, strict: true });
  let readiness: () => string | undefined = () => undefined;
  // the business class the gate settled on, for the handler
  const businessOf = new WeakMap<Response, BusinessPriority>();
  let listening = false;

  app.get('/healthz', (_req, res) => {
    res.json({ ok: true });
  });
  app.get('/readyz', (_req, res) => {
    const why = readiness();
    if (why === undefined) res.json({ ok: true });
    else res.status(503).json({ error: why });
  });
  app.get('/metrics', async (_req, res) => {
    res.setHeader('content-type', registry.contentType);
    res.send(await registry.metrics());
  });

  function route(
    method: 'get' | 'post' | 'put',
    path: string,
    meta: ApiMeta,
    handler: Handler,
  ): void {
    const admit: RequestHandler = (req, res, next) => {
      const started = performance.now();
      const headerBusiness = req.get(headers.business);
      let business: BusinessPriority = 'message';
      if (meta.business !== 'caller') business = meta.business;
      else if (headerBusiness !== undefined) {
        if (!isBusiness(headerBusiness)) {
          sendError(
            res,
            400,
            `${headers.business} must be one of payment, message, groupchat, moments`,
          );
          return;
        }
        business = headerBusiness;
      }
      businessOf.set(res, business);
      res.on('finish', () => {
        const code = String(res.statusCode);
        metrics.requests.inc({ api: meta.api, business, code });
        metrics.duration.observe({ api: meta.api, business }, (performance.now() - started) / 1000);
        if (res.statusCode >= 500 && res.getHeader(headers.shed) === undefined) {
          metrics.failures.inc({ api: meta.api, business, reason: code });
        }
      });
      const lvl = level(business, userPriority(userOf(req), now()));
      gate.enter(lvl, business, !meta.longPoll).then(
        (r) => {
          res.setHeader(headers.admissionLevel, String(gate.threshold()));
          if (r.kind === 'shed') {
            metrics.shed.inc({ api: meta.api, business, reason: r.reason });
            sendError(res, 503, `shed ${business} (${r.reason}): ${r.detail}`, {
              [headers.shed]: business,
            });
            return;
          }
          if (res.closed) {
            r.release();
            return;
          }
          res.once('close', r.release);
          next();
        },
        (err: unknown) => next(err),
      );
    };
    const serve: RequestHandler = async (req, res) => {
      const controller = new AbortController();
      // only a caller that left before the answer aborts: an AbortError for
      // every answered request would cost a DOMException and its listeners
      res.once('close', () => {
        if (!res.writableFinished) controller.abort();
      });
      const business = businessOf.get(res) ?? 'message';
      const reply = await handler(req, {
        api: meta.api,
        business,
        now: now(),
        signal: controller.signal,
      });
      if (res.headersSent) return;
      res.status(reply.status ?? 200).json(reply.body);
    };
    app[method](path, admit, json, serve);
  }

  return {
    app,
    metrics,
    gate,
    log: opts.log,
    route,
    setReadiness(check) {
      readiness = check;
    },
    async listen(host = '127.0.0.1', port = 0) {
      if (listening) throw new Error(`${opts.service}: listen called twice`);
      listening = true;
      // the catch-alls go last, after every route
      app.use((req, res) => sendError(res, 404, `no route ${req.method} ${req.path}`));
      app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
        if (err instanceof HttpError) {
          sendError(res, err.status, err.reason, err.headers);
          return;
        }
        const parsed = bodyParserError(err);
        if (parsed) {
          sendError(res, parsed.status, parsed.reason);
          return;
        }
        opts.log.error('unhandled error', { method: req.method, path: req.path, err });
        sendError(res, 500, 'internal error');
      });
      const server = createServer(app);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve();
        });
      });
      const addr = server.address() as AddressInfo;
      const url = `http://${addr.address}:${addr.port}`;
      return {
        url,
        server,
        close: () =>
          new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeAllConnections();
          }),
      };
    },
    close() {
      gate.close();
    },
  };
}

/** What every service's configuration shares. */
export interface ServiceConfig {
  readonly gate?: GateOptions;
  readonly log?: Logger;
  /** Process metrics: only for a service in its own process. */
  readonly defaultMetrics?: boolean;
  readonly now?: () => number;
}

export function kitFor(
  service: string,
  c: ServiceConfig,
  gate: GateOptions = defaultGateOptions,
): ServiceKit {
  return createKit({
    service,
    log: c.log ?? createLogger(service),
    gate: c.gate ?? gate,
    defaultMetrics: c.defaultMetrics ?? false,
    now: c.now ?? Date.now,
  });
}
