// A client of etcd's v3 JSON gateway (the gRPC API over HTTP: /v3/kv/range,
// /v3/kv/txn, /v3/watch, /v3/lease/*), over HTTP, with fail-over between the
// members. etcd is the quorum store: one member per campus, a write is
// acknowledged once two of three have it, so losing one campus loses no
// acknowledged write and stops no write. Consensus is etcd's; this file only
// encodes requests, picks a member, and retries what is safe to retry.
// Requests go over node:http with kept-alive connections rather than fetch:
// storage makes a dozen etcd calls per message, and fetch costs several times
// the CPU of a plain http request.
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import type { IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';

export interface KeyValue {
  readonly key: string;
  readonly value: string;
  readonly createRevision: number;
  readonly modRevision: number;
  readonly version: number;
  readonly lease: string | undefined;
}

export type CompareTarget = 'VERSION' | 'CREATE' | 'MOD' | 'VALUE' | 'LEASE';
export type CompareResult = 'EQUAL' | 'GREATER' | 'LESS' | 'NOT_EQUAL';

export interface Compare {
  readonly key: string;
  readonly target: CompareTarget;
  readonly result: CompareResult;
  /** A revision or version for VERSION/CREATE/MOD, the value for VALUE, the lease id for LEASE. */
  readonly operand: number | string;
}

/** The key does not exist. */
export const absent = (key: string): Compare => ({
  key,
  target: 'VERSION',
  result: 'EQUAL',
  operand: 0,
});
/** The key exists. */
export const present = (key: string): Compare => ({
  key,
  target: 'VERSION',
  result: 'GREATER',
  operand: 0,
});
/** The key was last written at `rev` (0: it does not exist): the compare-and-swap guard. */
export const modIs = (key: string, rev: number): Compare =>
  rev === 0 ? absent(key) : { key, target: 'MOD', result: 'EQUAL', operand: rev };
export const valueIs = (key: string, value: string): Compare => ({
  key,
  target: 'VALUE',
  result: 'EQUAL',
  operand: value,
});

export interface RangeRequest {
  readonly key: string;
  /** Every key starting with `key`. */
  readonly prefix?: boolean;
  /** Keys in [key, end). */
  readonly end?: string;
  readonly limit?: number;
  readonly keysOnly?: boolean;
  readonly sortTarget?: 'KEY' | 'CREATE' | 'MOD';
  readonly sortOrder?: 'ASCEND' | 'DESCEND';
}

export type RequestOp =
  | { readonly range: RangeRequest }
  | { readonly put: { readonly key: string; readonly value: string; readonly lease?: string } }
  | {
      readonly deleteRange: {
        readonly key: string;
        readonly prefix?: boolean;
        readonly end?: string;
      };
    };

export interface RangeResult {
  readonly kvs: KeyValue[];
  readonly count: number;
  readonly more: boolean;
  readonly revision: number;
}

export type OpResult =
  | { readonly kind: 'range'; readonly range: RangeResult }
  | { readonly kind: 'put' }
  | { readonly kind: 'deleteRange'; readonly deleted: number };

export interface TxnResult {
  readonly succeeded: boolean;
  readonly revision: number;
  readonly responses: OpResult[];
}

export class EtcdError extends Error {
  /** Whether another attempt might succeed (no member answered, no leader, timeouts). */
  readonly retryable: boolean;
  constructor(message: string, retryable: boolean, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EtcdError';
    this.retryable = retryable;
  }
}

export interface EtcdOptions {
  /** Client URLs of the members, e.g. one per campus. */
  readonly endpoints: readonly string[];
  /** One attempt against one member. */
  readonly attemptTimeoutMs?: number;
  /** All attempts of one request (a leader election takes about one election timeout). */
  readonly deadlineMs?: number;
  /** Called once per attempt, for metrics. */
  readonly onAttempt?: (
    op: string,
    endpoint: string,
    outcome: 'ok' | 'error' | 'unreachable',
  ) => void;
}

export interface Etcd {
  range(r: RangeRequest): Promise<RangeResult>;
  get(key: string): Promise<KeyValue | undefined>;
  txn(
    compare: readonly Compare[],
    success: readonly RequestOp[],
    failure?: readonly RequestOp[],
  ): Promise<TxnResult>;
  leaseGrant(ttlSeconds: number): Promise<string>;
  /** The remaining TTL, 0 when the lease is gone. */
  leaseKeepAlive(id: string): Promise<number>;
  leaseRevoke(id: string): Promise<void>;
  /**
   * Waits until a key in the range changes after `afterRevision`, or the
   * timeout passes, or `signal` aborts. Answers `changed: true` also when the
   * watch broke (a member went away): the caller re-reads either way.
   */
  watch(r: {
    key: string;
    prefix?: boolean;
    afterRevision: number;
    timeoutMs: number;
    signal?: AbortSignal;
  }): Promise<{ changed: boolean }>;
  /** The member the next request goes to first. */
  preferred(): string;
}

const b64 = (s: string | Buffer): string => Buffer.from(s).toString('base64');
const unb64 = (s: unknown): string =>
  typeof s === 'string' ? Buffer.from(s, 'base64').toString('utf8') : '';
const num = (v: unknown): number =>
  typeof v === 'string' || typeof v === 'number' ? Number(v) : 0;

/** The range end that covers every key starting with `prefix`, as etcd defines it. */
export function prefixEnd(prefix: string): Buffer {
  const bytes = Buffer.from(prefix);
  for (let i = bytes.length - 1; i >= 0; i--) {
    const b = bytes[i] ?? 0;
    if (b < 0xff) {
      const end = Buffer.from(bytes.subarray(0, i + 1));
      end[i] = b + 1;
      return end;
    }
  }
  return Buffer.from([0]);
}

function rangeEnd(r: { key: string; prefix?: boolean; end?: string }): string | undefined {
  if (r.prefix) return b64(prefixEnd(r.key));
  if (r.end !== undefined) return b64(r.end);
  return undefined;
}

function encodeRange(r: RangeRequest): Record<string, unknown> {
  const end = rangeEnd(r);
  return {
    key: b64(r.key),
    ...(end !== undefined ? { range_end: end } : {}),
    ...(r.limit !== undefined ? { limit: r.limit } : {}),
    ...(r.keysOnly ? { keys_only: true } : {}),
    ...(r.sortTarget ? { sort_target: r.sortTarget } : {}),
    ...(r.sortOrder ? { sort_order: r.sortOrder } : {}),
  };
}

function encodeOp(op: RequestOp): Record<string, unknown> {
  if ('range' in op) return { request_range: encodeRange(op.range) };
  if ('put' in op) {
    return {
      request_put: {
        key: b64(op.put.key),
        value: b64(op.put.value),
        ...(op.put.lease !== undefined ? { lease: op.put.lease } : {}),
      },
    };
  }
  const end = rangeEnd(op.deleteRange);
  return {
    request_delete_range: {
      key: b64(op.deleteRange.key),
      ...(end !== undefined ? { range_end: end } : {}),
    },
  };
}

function encodeCompare(c: Compare): Record<string, unknown> {
  const field: Record<CompareTarget, string> = {
    VERSION: 'version',
    CREATE: 'create_revision',
    MOD: 'mod_revision',
    VALUE: 'value',
    LEASE: 'lease',
  };
  const operand = c.target === 'VALUE' ? b64(String(c.operand)) : String(c.operand);
  return { key: b64(c.key), target: c.target, result: c.result, [field[c.target]]: operand };
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (typeof v === 'object' && v !== null ? (v as Json) : {});

function decodeKv(v: unknown): KeyValue {
  const o = obj(v);
  return {
    key: unb64(o['key']),
    value: unb64(o['value']),
    createRevision: num(o['create_revision']),
    modRevision: num(o['mod_revision']),
    version: num(o['version']),
    lease: typeof o['lease'] === 'string' ? o['lease'] : undefined,
  };
}

function decodeRange(v: unknown, fallbackRevision: number): RangeResult {
  const o = obj(v);
  const kvs = Array.isArray(o['kvs']) ? o['kvs'].map(decodeKv) : [];
  const revision = num(obj(o['header'])['revision']) || fallbackRevision;
  return { kvs, count: num(o['count']), more: o['more'] === true, revision };
}

function decodeOp(v: unknown, revision: number): OpResult {
  const o = obj(v);
  if (o['response_range'] !== undefined)
    return { kind: 'range', range: decodeRange(o['response_range'], revision) };
  if (o['response_delete_range'] !== undefined) {
    return { kind: 'deleteRange', deleted: num(obj(o['response_delete_range'])['deleted']) };
  }
  return { kind: 'put' };
}

/** Kept-alive connections to the members, one pool per scheme. */
interface Transport {
  readonly http: HttpAgent;
  readonly https: HttpsAgent;
}

const newTransport = (): Transport => ({
  http: new HttpAgent({ keepAlive: true }),
  https: new HttpsAgent({ keepAlive: true }),
});

/**
 * POSTs a JSON body to `endpoint + path`; resolves with the response once its
 * headers arrive, rejects on a connection error or when no headers came
 * within `timeoutMs` (when given). `signal` cuts the request, before or after
 * the headers (a watch stream).
 */
function open(
  t: Transport,
  endpoint: string,
  path: string,
  body: string,
  signal: AbortSignal | undefined,
  timeoutMs?: number,
): Promise<{ res: IncomingMessage; cancel: () => void }> {
  return new Promise((resolve, reject) => {
    const url = new URL(path, endpoint);
    const https = url.protocol === 'https:';
    const req = (https ? httpsRequest : httpRequest)(url, {
      method: 'POST',
      agent: https ? t.https : t.http,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    });
    const cancel = (why: string): void => {
      req.destroy(new Error(why));
    };
    const onAbort = (): void => cancel('aborted');
    const timer =
      timeoutMs === undefined
        ? undefined
        : setTimeout(() => cancel(`no answer within ${timeoutMs} ms`), timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    req.once('close', () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    });
    req.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.once('response', (res) => {
      clearTimeout(timer);
      resolve({ res, cancel: () => cancel('cancelled') });
    });
    if (signal?.aborted) cancel('aborted');
    req.end(body);
  });
}

/** The whole body of a response as text; rejects when the connection breaks first, or after `timeoutMs`. */
function readAll(res: IncomingMessage, cancel: () => void, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const timer = setTimeout(cancel, timeoutMs);
    res.on('data', (c: Buffer) => chunks.push(c));
    res.once('end', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    res.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    res.once('aborted', () => {
      clearTimeout(timer);
      reject(new Error('the connection closed before the answer was complete'));
    });
  });
}

/** One request and its whole answer, all within `timeoutMs`. */
async function exchange(
  t: Transport,
  endpoint: string,
  path: string,
  body: string,
  timeoutMs: number,
): Promise<{ status: number; text: string }> {
  const started = performance.now();
  const { res, cancel } = await open(t, endpoint, path, body, undefined, timeoutMs);
  const left = Math.max(1, timeoutMs - (performance.now() - started));
  return { status: res.statusCode ?? 0, text: await readAll(res, cancel, left) };
}

/** gRPC codes that mean "try again, maybe elsewhere": unavailable, deadline, aborted, exhausted. */
const retryableCodes = new Set([4, 8, 10, 14]);

export function createEtcd(opts: EtcdOptions): Etcd {
  if (opts.endpoints.length === 0) throw new Error('etcd: no endpoints');
  const endpoints = opts.endpoints.map((e) => e.replace(/\/+$/, ''));
  const attemptTimeoutMs = opts.attemptTimeoutMs ?? 2000;
  const deadlineMs = opts.deadlineMs ?? 10_000;
  const transport = newTransport();
  let preferred = 0;

  /** One attempt against one member: its answer, or why another member should be tried. */
  async function attemptOnce(
    op: string,
    endpoint: string,
    path: string,
    body: string,
    timeoutMs: number,
  ): Promise<{ ok: true; json: Json } | { ok: false; reason: string }> {
    let status: number;
    let text: string;
    try {
      ({ status, text } = await exchange(transport, endpoint, path, body, timeoutMs));
    } catch (err) {
      opts.onAttempt?.(op, endpoint, 'unreachable');
      return {
        ok: false,
        reason: `${endpoint}: ${err instanceof Error ? err.message : String(err)}`,
      };
    }
    let parsed: unknown = {};
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: judged by the status alone
    }
    const json = obj(parsed);
    const ok = status >= 200 && status < 300;
    if (ok && json['error'] === undefined) {
      opts.onAttempt?.(op, endpoint, 'ok');
      return { ok: true, json };
    }
    opts.onAttempt?.(op, endpoint, 'error');
    const said = json['message'] ?? json['error'];
    const message = typeof said === 'string' ? said : `HTTP ${status}`;
    if (!retryableCodes.has(num(json['code'])) && status !== 503 && status !== 504) {
      throw new EtcdError(`etcd ${op}: ${message}`, false);
    }
    return { ok: false, reason: `${endpoint}: ${message}` };
  }

  async function post(op: string, path: string, request: Json): Promise<Json> {
    const body = JSON.stringify(request);
    const deadline = Date.now() + deadlineMs;
    for (let attempt = 0; ; attempt++) {
      const i = preferred % endpoints.length;
      const timeoutMs = Math.max(50, Math.min(attemptTimeoutMs, deadline - Date.now()));
      const r = await attemptOnce(op, endpoints[i] ?? '', path, body, timeoutMs);
      if (r.ok) return r.json;
      // this member failed: the next attempt goes to the next one
      if (preferred % endpoints.length === i) preferred = i + 1;
      if (Date.now() >= deadline) {
        throw new EtcdError(
          `etcd ${op}: no member answered within ${deadlineMs} ms (last: ${r.reason})`,
          true,
        );
      }
      // a full round without success: wait a little (an election is under way)
      if ((attempt + 1) % endpoints.length === 0) {
        await sleep(Math.min(400, 25 * 2 ** Math.min(4, (attempt + 1) / endpoints.length)));
      }
    }
  }

  const etcd: Etcd = {
    preferred: () => endpoints[preferred % endpoints.length] ?? '',
    async range(r) {
      const json = await post('range', '/v3/kv/range', encodeRange(r));
      return decodeRange(json, 0);
    },
    async get(key) {
      return (await etcd.range({ key })).kvs[0];
    },
    async txn(compare, success, failure = []) {
      const json = await post('txn', '/v3/kv/txn', {
        compare: compare.map(encodeCompare),
        success: success.map(encodeOp),
        failure: failure.map(encodeOp),
      });
      const revision = num(obj(json['header'])['revision']);
      const responses = Array.isArray(json['responses'])
        ? json['responses'].map((r) => decodeOp(r, revision))
        : [];
      return { succeeded: json['succeeded'] === true, revision, responses };
    },
    async leaseGrant(ttlSeconds) {
      const json = await post('lease-grant', '/v3/lease/grant', { TTL: ttlSeconds });
      return String(json['ID']);
    },
    async leaseKeepAlive(id) {
      const json = await post('lease-keepalive', '/v3/lease/keepalive', { ID: id });
      return num(obj(json['result'])['TTL']);
    },
    async leaseRevoke(id) {
      try {
        await post('lease-revoke', '/v3/lease/revoke', { ID: id });
      } catch (err) {
        // a lease that is already gone is revoked
        if (!(err instanceof EtcdError) || err.retryable) throw err;
      }
    },
    watch: (r) => watchOnce(transport, endpoints, () => preferred, r),
  };
  return etcd;
}

/** Whether a line of the watch stream reports a change (or a reason to re-read). */
function watchLineChanged(line: string): boolean {
  const result = obj(obj(JSON.parse(line) as unknown)['result']);
  const events = result['events'];
  // a compacted start revision or a cancelled watch: re-read to be safe
  return (
    (Array.isArray(events) && events.length > 0) ||
    result['compact_revision'] !== undefined ||
    result['canceled'] === true
  );
}

/** Reads a watch stream until a change; false when the stream ends without one. */
async function streamChanged(body: AsyncIterable<Buffer>): Promise<boolean> {
  let buffered = '';
  const decoder = new TextDecoder();
  for await (const chunk of body) {
    buffered += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl).trim();
      buffered = buffered.slice(nl + 1);
      if (line !== '' && watchLineChanged(line)) return true;
    }
  }
  return false;
}

async function watchOnce(
  transport: Transport,
  endpoints: readonly string[],
  preferred: () => number,
  r: {
    key: string;
    prefix?: boolean;
    afterRevision: number;
    timeoutMs: number;
    signal?: AbortSignal;
  },
): Promise<{ changed: boolean }> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), r.timeoutMs);
  const onAbort = (): void => controller.abort();
  r.signal?.addEventListener('abort', onAbort, { once: true });
  const end = rangeEnd(r);
  const body = JSON.stringify({
    create_request: {
      key: b64(r.key),
      ...(end !== undefined ? { range_end: end } : {}),
      start_revision: String(r.afterRevision + 1),
    },
  });
  try {
    for (let i = 0; i < endpoints.length && !controller.signal.aborted; i++) {
      const endpoint = endpoints[(preferred() + i) % endpoints.length] ?? '';
      let res: IncomingMessage;
      try {
        ({ res } = await open(transport, endpoint, '/v3/watch', body, controller.signal));
      } catch {
        continue; // this member does not answer: the next one
      }
      const status = res.statusCode ?? 0;
      if (status < 200 || status >= 300) {
        res.resume();
        continue;
      }
      try {
        // a stream that ends without an event: the member went away; the caller re-reads
        return { changed: (await streamChanged(res)) || !controller.signal.aborted };
      } catch {
        return { changed: !controller.signal.aborted };
      }
    }
    if (controller.signal.aborted) return { changed: false };
    throw new EtcdError('etcd watch: no member answered', true);
  } finally {
    clearTimeout(timer);
    r.signal?.removeEventListener('abort', onAbort);
    controller.abort();
  }
}
