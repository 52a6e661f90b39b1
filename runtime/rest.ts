// A small REST client over the kubeconfig's TLS material and credentials.
// We need what the generated clients do not give: any kind by its resource
// type, subresources (`/status`), raw JSON (string timestamps, as the API
// sends them), a deadline on every request, and watch streams whose life we
// control.
//
// It speaks HTTP/1.1 through node:https on purpose. client-node's fetch
// (undici) negotiates HTTP/2 and multiplexes every request over one
// connection; when that connection goes silent (a half-open TCP connection),
// aborting a stalled watch and opening another lands on the same dead
// connection, so the informer's watchdog cannot recover. With HTTP/1.1 each
// watch has its own connection, and destroying it is the whole recovery.
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import type { IncomingMessage, RequestOptions as HttpRequestOptions } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { RequestOptions as HttpsRequestOptions } from 'node:https';
import { ApiException } from '@kubernetes/client-node';
import type { KubeConfig } from '@kubernetes/client-node';
import { realClock } from './clock.ts';
import { ApiError } from './errors.ts';
import type { Clock } from './clock.ts';
import type { RestClientMetrics } from './metrics.ts';
import type { KubeObject } from './object.ts';
import { resourcePath } from './resource.ts';
import type { ResourceType } from './resource.ts';

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export type Query = Readonly<Record<string, string | number | boolean | undefined>>;

export interface RequestOptions {
  readonly query?: Query;
  readonly body?: unknown;
  readonly contentType?: string;
  readonly signal?: AbortSignal;
  /** Per-request deadline (default: the client's). */
  readonly timeoutMs?: number;
}

export interface ListOptions {
  readonly namespace?: string | undefined;
  readonly labelSelector?: string | undefined;
  readonly fieldSelector?: string | undefined;
  readonly limit?: number;
  readonly continue?: string | undefined;
  readonly resourceVersion?: string;
  readonly signal?: AbortSignal;
  readonly timeoutMs?: number;
}

export interface ObjectList<T> {
  readonly items: T[];
  readonly metadata?: { readonly resourceVersion?: string; readonly continue?: string };
}

export interface RestClientOptions {
  /** Deadline of a request that names none (default 30 s). */
  readonly timeoutMs?: number;
  readonly userAgent?: string;
  /** Where each request is counted and timed (`RuntimeMetrics.restClient()`). */
  readonly metrics?: RestClientMetrics;
  /** Times requests for the metrics (default: the real clock). */
  readonly clock?: Clock;
}

/** Raised when a request outlives its deadline; `cause` is the abort reason. */
export class RequestTimeoutError extends Error {
  constructor(what: string, ms: number, options?: ErrorOptions) {
    super(`${what}: no answer within ${ms} ms`, options);
    this.name = 'RequestTimeoutError';
  }
}

type NodeRequestOptions = HttpsRequestOptions & HttpRequestOptions;

export class RestClient {
  readonly #kc: KubeConfig;
  readonly #server: URL;
  readonly #timeoutMs: number;
  readonly #userAgent: string;
  readonly #proxied: boolean;
  readonly #clock: Clock;
  #metrics: RestClientMetrics | undefined;
  // the kubeconfig's own agent closes connections after each request; ours
  // keeps them alive between requests, as client-go's transport does
  #agent: { readonly agent: HttpAgent; readonly tls: TlsMaterial } | undefined;

  constructor(kc: KubeConfig, opts: RestClientOptions = {}) {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error('the kubeconfig has no current cluster');
    this.#kc = kc;
    this.#server = new URL(cluster.server);
    this.#proxied = Boolean(cluster.proxyUrl);
    this.#timeoutMs = opts.timeoutMs ?? 30_000;
    this.#userAgent = opts.userAgent ?? 'yard-operator';
    this.#clock = opts.clock ?? realClock;
    this.#metrics = opts.metrics;
  }

  /**
   * Reports requests to `metrics` from now on, unless the client reports
   * somewhere already (a client shared by two managers reports to the first):
   * what a manager or a scheduler does with a client it was handed.
   */
  reportTo(metrics: RestClientMetrics): void {
    this.#metrics ??= metrics;
  }

  /** Counts and times one request (code undefined: no answer). */
  #observe(method: Method, started: number, code: number | undefined): void {
    this.#metrics?.request(method, this.#server.host, code, (this.#clock.now() - started) / 1000);
  }

  /** The API server's URL. */
  get server(): string {
    return this.#server.toString().replace(/\/$/, '');
  }

  /** One request; 2xx answers parse as JSON, others throw `ApiException`. */
  async request<T>(method: Method, path: string, opts: RequestOptions = {}): Promise<T> {
    const timeoutMs = opts.timeoutMs ?? this.#timeoutMs;
    const deadline = AbortSignal.timeout(timeoutMs);
    const signal = opts.signal ? AbortSignal.any([opts.signal, deadline]) : deadline;
    const what = `${method} ${path}`;
    const started = this.#clock.now();
    let code: number | undefined;
    try {
      const res = await this.#send(method, path, opts, signal);
      const text = await readAll(res);
      code = res.statusCode ?? 0;
      this.#observe(method, started, code);
      if (code < 200 || code > 299) throw apiError(method, path, code, text);
      return (text ? JSON.parse(text) : undefined) as T;
    } catch (err) {
      if (code === undefined) this.#observe(method, started, undefined);
      throw translate(err, what, deadline.aborted && !opts.signal?.aborted ? timeoutMs : undefined);
    }
  }

  get<T extends KubeObject>(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    opts: RequestOptions = {},
  ): Promise<T> {
    return this.request<T>('GET', resourcePath(type, { namespace, name }), opts);
  }

  list<T extends KubeObject>(type: ResourceType, opts: ListOptions = {}): Promise<ObjectList<T>> {
    return this.request<ObjectList<T>>('GET', resourcePath(type, { namespace: opts.namespace }), {
      query: {
        labelSelector: opts.labelSelector,
        fieldSelector: opts.fieldSelector,
        limit: opts.limit,
        continue: opts.continue,
        resourceVersion: opts.resourceVersion,
      },
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
    });
  }

  create<T extends KubeObject>(type: ResourceType, obj: T, opts: RequestOptions = {}): Promise<T> {
    const path = resourcePath(type, { namespace: obj.metadata?.namespace });
    return this.request<T>('POST', path, { ...opts, body: obj });
  }

  /** PUT: fails with 409 when `metadata.resourceVersion` is stale. */
  replace<T extends KubeObject>(
    type: ResourceType,
    obj: T,
    opts: RequestOptions & { readonly subresource?: string } = {},
  ): Promise<T> {
    const path = resourcePath(type, {
      namespace: obj.metadata?.namespace,
      name: requireName(obj),
      subresource: opts.subresource,
    });
    return this.request<T>('PUT', path, { ...opts, body: obj });
  }

  patch<T extends KubeObject>(
    type: ResourceType,
    target: { readonly namespace?: string | undefined; readonly name: string },
    patch: unknown,
    contentType: string,
    opts: RequestOptions & { readonly subresource?: string } = {},
  ): Promise<T> {
    const path = resourcePath(type, { ...target, subresource: opts.subresource });
    return this.request<T>('PATCH', path, { ...opts, body: patch, contentType });
  }

  async delete(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    opts: RequestOptions = {},
  ): Promise<void> {
    await this.request<unknown>('DELETE', resourcePath(type, { namespace, name }), opts);
  }

  /**
   * Opens a watch and calls `onLine` with every JSON line until the server
   * ends the stream (resolves), the request fails (rejects; non-200 answers
   * reject with `ApiException`), `onLine` throws (rejects with that), or
   * `signal` aborts (rejects with the abort reason). Has no deadline of its
   * own: the caller's watchdog decides when a silent stream is dead, and
   * aborting destroys the connection.
   */
  async watch(
    path: string,
    query: Query,
    onLine: (line: string) => void,
    signal: AbortSignal,
  ): Promise<void> {
    const what = `WATCH ${path}`;
    const res = await this.#openWatch(path, query, signal);
    let buffered = '';
    /** what onLine threw: passed on as is, not as a network error */
    let thrown: { readonly err: unknown } | undefined;
    res.setEncoding('utf8'); // decodes characters split across chunks
    try {
      for await (const chunk of res) {
        buffered += String(chunk);
        let nl = buffered.indexOf('\n');
        while (nl >= 0) {
          const line = buffered.slice(0, nl).trim();
          buffered = buffered.slice(nl + 1);
          try {
            if (line) onLine(line);
          } catch (err) {
            thrown = { err };
            throw err;
          }
          nl = buffered.indexOf('\n');
        }
      }
    } catch (err) {
      if (thrown) throw thrown.err;
      if (signal.aborted) throw signal.reason;
      throw translate(err, what, undefined);
    } finally {
      // ends the connection if we stopped reading early (onLine threw)
      if (!res.complete) res.destroy();
    }
    if (signal.aborted) throw signal.reason;
    // a stream cut short (connection reset mid-chunk) is an error, not an end
    if (!res.complete) throw new Error(`${what}: the connection closed mid-stream`);
  }

  /** The response of a watch request, once its headers came: 200, or it throws. */
  async #openWatch(path: string, query: Query, signal: AbortSignal): Promise<IncomingMessage> {
    const started = this.#clock.now();
    let res: IncomingMessage;
    try {
      res = await this.#send('GET', path, { query: { ...query, watch: true } }, signal);
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      this.#observe('GET', started, undefined);
      throw translate(err, `WATCH ${path}`, undefined);
    }
    this.#observe('GET', started, res.statusCode ?? 0);
    if (res.statusCode !== 200) {
      throw apiError('WATCH', path, res.statusCode ?? 0, await readAll(res));
    }
    return res;
  }

  async #send(
    method: Method,
    path: string,
    opts: RequestOptions,
    signal: AbortSignal,
  ): Promise<IncomingMessage> {
    const url = new URL(path, this.#server);
    for (const [k, v] of Object.entries(opts.query ?? {})) {
      if (v !== undefined && v !== '') url.searchParams.set(k, String(v));
    }
    const body =
      opts.body === undefined
        ? undefined
        : typeof opts.body === 'string'
          ? opts.body
          : JSON.stringify(opts.body);
    const options: NodeRequestOptions = {
      method,
      headers: {
        Accept: 'application/json',
        'User-Agent': this.#userAgent,
        ...(body !== undefined
          ? {
              'Content-Type': opts.contentType ?? 'application/json',
              'Content-Length': Buffer.byteLength(body),
            }
          : {}),
      },
      signal,
    };
    // TLS material and credentials (tokens, exec plugins) from the kubeconfig
    await this.#kc.applyToHTTPSOptions(options);
    options.agent = this.#agentFor(options);
    const send = url.protocol === 'http:' ? httpRequest : httpsRequest;
    return new Promise<IncomingMessage>((resolve, reject) => {
      const req = send(url, options, resolve);
      req.on('error', reject);
      req.end(body);
    });
  }

  #agentFor(options: NodeRequestOptions): HttpAgent | undefined {
    if (this.#proxied) return options.agent instanceof HttpAgent ? options.agent : undefined;
    const tls = {
      ca: options.ca,
      cert: options.cert,
      key: options.key,
      pfx: options.pfx,
      passphrase: options.passphrase,
      rejectUnauthorized: options.rejectUnauthorized,
      servername: options.servername,
    };
    // a new agent only when the TLS material changed (a rotated client
    // certificate); the old one is dropped, not destroyed, so the watches on
    // it run on until they end
    if (this.#agent && sameTls(this.#agent.tls, tls)) return this.#agent.agent;
    const agent =
      this.#server.protocol === 'http:'
        ? new HttpAgent({ keepAlive: true })
        : new HttpsAgent({
            keepAlive: true,
            ...Object.fromEntries(Object.entries(tls).filter(([, v]) => v !== undefined)),
          });
    this.#agent = { agent, tls };
    return agent;
  }
}

type TlsMaterial = Readonly<Record<string, unknown>>;

function sameTls(a: TlsMaterial, b: TlsMaterial): boolean {
  return Object.keys({ ...a, ...b }).every((k) => {
    const x = a[k];
    const y = b[k];
    return Buffer.isBuffer(x) && Buffer.isBuffer(y) ? x.equals(y) : x === y;
  });
}

async function readAll(res: IncomingMessage): Promise<string> {
  res.setEncoding('utf8');
  let text = '';
  for await (const chunk of res) text += String(chunk);
  return text;
}

/** API errors pass through; timeouts and network errors say what failed. */
function translate(err: unknown, what: string, timedOutAfterMs: number | undefined): unknown {
  if (err instanceof ApiException) return err;
  if (timedOutAfterMs !== undefined) {
    return new RequestTimeoutError(what, timedOutAfterMs, { cause: err });
  }
  return new Error(`${what}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
}

function requireName(obj: KubeObject): string {
  const name = obj.metadata?.name;
  if (!name) throw new TypeError(`${obj.kind ?? 'object'} has no metadata.name`);
  return name;
}

/** The error of a non-2xx answer: an ApiError with the API's own message. */
function apiError(method: string, path: string, code: number, text: string): ApiError {
  let body: unknown = text;
  try {
    body = JSON.parse(text) as unknown;
  } catch {
    // not JSON (a proxy's error page): keep the text
  }
  const msg = (body as { message?: unknown } | null)?.message;
  const detail = typeof msg === 'string' ? msg : text.slice(0, 300);
  return new ApiError(method, path, code, detail, body);
}
