// The caller side of every hop (access → logic → storage): a small HTTP
// client over a pluggable endpoint list that decides on its own which
// instances to call. It round-robins over endpoints that outlier detection
// has not ejected (outlier.ts), retries an idempotent call once on another
// endpoint after a timeout or connection error, never retries a shed request,
// and does not even send a request that an endpoint's last announced
// admission level would shed (DAGOR's upstream shedding).
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { Counter, Gauge, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';
import { admits } from './admission.ts';
import { headers } from './kit.ts';
import type { Logger } from './log.ts';
import { silentLogger } from './log.ts';
import { latencyBuckets } from './metrics.ts';
import { defaultOutlierPolicy, record, refresh, usable } from './outlier.ts';
import type { OutlierEvent, OutlierPolicy, OutlierTable } from './outlier.ts';
import { isBusiness } from './priority.ts';
import type { BusinessPriority } from './priority.ts';

/** Where the instances of a service are; discovery by watching pods implements the same. */
export interface EndpointSource {
  endpoints(): readonly string[];
}

export function staticEndpoints(urls: readonly string[]): EndpointSource {
  const list = urls.map((u) => u.replace(/\/+$/, ''));
  return { endpoints: () => list };
}

export interface UpstreamOptions {
  /** The service called, for metrics and logs (`logic`, `storage-messages`). */
  readonly name: string;
  readonly endpoints: EndpointSource;
  /** Per attempt. */
  readonly timeoutMs?: number;
  readonly outlier?: OutlierPolicy;
  /** Extra attempts on other endpoints for idempotent calls after a timeout or connection error. */
  readonly retries?: number;
  /** How long an endpoint's announced admission level is trusted without news. */
  readonly levelTtlMs?: number;
  readonly registry?: Registry;
  readonly log?: Logger;
  readonly now?: () => number;
}

export interface CallOptions {
  readonly method: 'GET' | 'POST' | 'PUT';
  /** Path and query, e.g. `/v1/boxes/inbox/alice?after=3`. */
  readonly path: string;
  readonly body?: unknown;
  readonly ticket?: string;
  readonly business?: BusinessPriority;
  /** The request's priority level, for shedding before sending. */
  readonly level?: number;
  /** Safe to send twice (every write of this backend is keyed by an id). */
  readonly idempotent?: boolean;
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

export type CallResult =
  | {
      readonly kind: 'response';
      readonly status: number;
      readonly body: unknown;
      readonly endpoint: string;
      /** Set when the endpoint shed the request. */
      readonly shed: BusinessPriority | undefined;
    }
  | { readonly kind: 'unavailable'; readonly reason: string }
  | { readonly kind: 'shed'; readonly reason: string };

export interface Upstream {
  readonly name: string;
  call(opts: CallOptions): Promise<CallResult>;
  /** Endpoints and whether each is ejected, for status pages and tests. */
  state(): { endpoint: string; ejected: boolean; consecutiveFailures: number }[];
}

interface UpstreamMetrics {
  requests: Counter<'upstream' | 'outcome'>;
  duration: Histogram<'upstream'>;
  ejections: Counter<'upstream'>;
  ejected: Gauge<'upstream'>;
  retries: Counter<'upstream'>;
}

const metricsByRegistry = new WeakMap<Registry, UpstreamMetrics>();

function upstreamMetrics(registry: Registry): UpstreamMetrics {
  const known = metricsByRegistry.get(registry);
  if (known) return known;
  const registers = [registry];
  const m: UpstreamMetrics = {
    requests: new Counter({
      name: 'yard_upstream_requests_total',
      help: 'Calls to another service by outcome: ok, status-5xx, shed (the callee shed it), not-sent (its admission level would shed it), timeout, connect-error, no-endpoint.',
      labelNames: ['upstream', 'outcome'],
      registers,
    }),
    duration: new Histogram({
      name: 'yard_upstream_request_duration_seconds',
      help: 'Time of one attempt to another service.',
      labelNames: ['upstream'],
      buckets: latencyBuckets,
      registers,
    }),
    ejections: new Counter({
      name: 'yard_upstream_ejections_total',
      help: 'Endpoints ejected by outlier detection (consecutive failures or timeouts).',
      labelNames: ['upstream'],
      registers,
    }),
    ejected: new Gauge({
      name: 'yard_upstream_ejected_endpoints',
      help: 'Endpoints ejected now.',
      labelNames: ['upstream'],
      registers,
    }),
    retries: new Counter({
      name: 'yard_upstream_retries_total',
      help: 'Second attempts on another endpoint after a timeout or connection error.',
      labelNames: ['upstream'],
      registers,
    }),
  };
  metricsByRegistry.set(registry, m);
  return m;
}

type AttemptOutcome =
  | { readonly kind: 'response'; readonly result: CallResult & { kind: 'response' } }
  | {
      readonly kind: 'failed';
      readonly reason: string;
      readonly outcome: 'timeout' | 'connect-error';
    }
  | { readonly kind: 'aborted' };

/** A body as JSON when it parses, else as text; undefined when empty. */
// node:http with kept-alive connections: a fetch round trip costs several
// times the CPU on this Node (bench:im measured about 250 µs against 70 µs)
const httpAgent = new HttpAgent({ keepAlive: true });
const httpsAgent = new HttpsAgent({ keepAlive: true });

function parseBody(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function requestHeaders(call: CallOptions): Record<string, string> {
  const h: Record<string, string> = {};
  if (call.body !== undefined) h['content-type'] = 'application/json';
  if (call.ticket) h['authorization'] = `Bearer ${call.ticket}`;
  if (call.business !== undefined) h[headers.business] = call.business;
  return h;
}

function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  return err.cause instanceof Error ? `${err.message}: ${err.cause.message}` : err.message;
}

export function createUpstream(opts: UpstreamOptions): Upstream {
  const now = opts.now ?? Date.now;
  const policy = opts.outlier ?? defaultOutlierPolicy;
  const timeoutMs = opts.timeoutMs ?? 2000;
  const retries = opts.retries ?? 1;
  const levelTtlMs = opts.levelTtlMs ?? 1000;
  const log = opts.log ?? silentLogger;
  const metrics = opts.registry ? upstreamMetrics(opts.registry) : undefined;
  const name = opts.name;
  let table: OutlierTable = new Map();
  let next = 0;
  // the admission threshold each endpoint last announced, and when
  const levels = new Map<string, { threshold: number; at: number }>();

  const note = (e: OutlierEvent): void => {
    if (e.kind === 'ejected') {
      metrics?.ejections.inc({ upstream: name });
      log.warn('endpoint ejected', { upstream: name, endpoint: e.endpoint, reason: e.reason });
    } else if (e.kind === 'returned') {
      log.info('endpoint returned', { upstream: name, endpoint: e.endpoint, reason: e.reason });
    }
  };

  const current = (): readonly string[] => {
    const endpoints = opts.endpoints.endpoints();
    const r = refresh(table, endpoints, now(), policy);
    table = r.table;
    r.events.forEach(note);
    metrics?.ejected.set(
      { upstream: name },
      endpoints.length - usable(table, endpoints, now()).length,
    );
    return endpoints;
  };

  const learn = (endpoint: string, v: string | string[] | undefined): void => {
    if (typeof v === 'string' && /^\d+$/.test(v))
      levels.set(endpoint, { threshold: Number(v), at: now() });
  };

  const wouldShed = (endpoint: string, lvl: number | undefined): boolean => {
    if (lvl === undefined) return false;
    const known = levels.get(endpoint);
    return known !== undefined && now() - known.at < levelTtlMs && !admits(known.threshold, lvl);
  };

  const outcome = (endpoint: string, o: 'success' | 'failure'): void => {
    const r = record(table, opts.endpoints.endpoints(), endpoint, o, now(), policy);
    table = r.table;
    if (r.event) note(r.event);
  };

  async function attempt(endpoint: string, call: CallOptions): Promise<AttemptOutcome> {
    const started = performance.now();
    const limit = call.timeoutMs ?? timeoutMs;
    return new Promise<AttemptOutcome>((resolve) => {
      const payload = call.body !== undefined ? JSON.stringify(call.body) : undefined;
      const h = requestHeaders(call);
      if (payload !== undefined) h['content-length'] = String(Buffer.byteLength(payload));
      let timedOut = false;
      let done = false;
      const url = new URL(call.path, endpoint);
      const req =
        url.protocol === 'https:'
          ? httpsRequest(url, { method: call.method, headers: h, agent: httpsAgent })
          : httpRequest(url, { method: call.method, headers: h, agent: httpAgent });
      const onAbort = (): void => {
        req.destroy(new Error('aborted'));
      };
      const finish = (o: AttemptOutcome): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        call.signal?.removeEventListener('abort', onAbort);
        metrics?.duration.observe({ upstream: name }, (performance.now() - started) / 1000);
        resolve(o);
      };
      const timer = setTimeout(() => {
        timedOut = true;
        req.destroy(new Error('timeout'));
      }, limit);
      call.signal?.addEventListener('abort', onAbort, { once: true });
      const failed = (err: unknown): void => {
        if (call.signal?.aborted) finish({ kind: 'aborted' });
        else if (timedOut)
          finish({
            kind: 'failed',
            outcome: 'timeout',
            reason: `${endpoint} did not answer within ${limit} ms`,
          });
        else
          finish({
            kind: 'failed',
            outcome: 'connect-error',
            reason: `${endpoint}: ${describeError(err)}`,
          });
      };
      req.on('error', failed);
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', failed);
        res.on('end', () => {
          const body = parseBody(Buffer.concat(chunks).toString('utf8'));
          learn(endpoint, res.headers[headers.admissionLevel]);
          const shedHeader = res.headers[headers.shed];
          const status = res.statusCode ?? 0;
          const shed = status === 503 && isBusiness(shedHeader) ? shedHeader : undefined;
          finish({ kind: 'response', result: { kind: 'response', status, body, endpoint, shed } });
        });
      });
      req.end(payload);
    });
  }

  /** The next endpoint for a call, or why there is none. */
  function pick(
    c: CallOptions,
    tried: ReadonlySet<string>,
  ): { endpoint: string } | 'shed' | 'none' {
    const open = usable(table, current(), now()).filter((e) => !tried.has(e));
    const admitting = open.filter((e) => !wouldShed(e, c.level));
    const endpoint = admitting[next++ % Math.max(1, admitting.length)];
    if (endpoint !== undefined) return { endpoint };
    return open.length > 0 ? 'shed' : 'none';
  }

  /** Counts an answer: a shed is an answer from a healthy, busy instance, not a failure. */
  function settle(endpoint: string, result: CallResult & { kind: 'response' }): CallResult {
    // ejecting a shedding instance would pour its load onto the others
    const failed = result.status >= 500 && result.shed === undefined;
    metrics?.requests.inc({
      upstream: name,
      outcome: result.shed ? 'shed' : failed ? 'status-5xx' : 'ok',
    });
    outcome(endpoint, failed ? 'failure' : 'success');
    return result;
  }

  async function call(c: CallOptions): Promise<CallResult> {
    const tried = new Set<string>();
    const maxAttempts = c.idempotent ? 1 + retries : 1;
    let lastReason = 'no endpoints configured';
    for (let i = 0; i < maxAttempts; i++) {
      const picked = pick(c, tried);
      if (picked === 'none') break;
      if (picked === 'shed') {
        metrics?.requests.inc({ upstream: name, outcome: 'not-sent' });
        return { kind: 'shed', reason: `every ${name} instance is shedding this priority` };
      }
      const { endpoint } = picked;
      tried.add(endpoint);
      if (i > 0) metrics?.retries.inc({ upstream: name });
      const out = await attempt(endpoint, c);
      if (out.kind === 'aborted') return { kind: 'unavailable', reason: 'caller went away' };
      if (out.kind === 'response') return settle(endpoint, out.result);
      metrics?.requests.inc({ upstream: name, outcome: out.outcome });
      outcome(endpoint, 'failure');
      lastReason = out.reason;
    }
    metrics?.requests.inc({ upstream: name, outcome: 'no-endpoint' });
    return { kind: 'unavailable', reason: `${name} unavailable: ${lastReason}` };
  }

  return {
    name,
    call,
    state: () => {
      const endpoints = current();
      const open = new Set(usable(table, endpoints, now()));
      return endpoints.map((endpoint) => ({
        endpoint,
        ejected: !open.has(endpoint),
        consecutiveFailures: table.get(endpoint)?.consecutiveFailures ?? 0,
      }));
    },
  };
}
