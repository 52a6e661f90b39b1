// The load generator of bench:im: a lean HTTP client (node:http with
// keep-alive: the generator shares two cores with the services, so it spends
// as little CPU per request as it can), users in sender → receiver pairs,
// receivers that long-poll push and sync like a client, and senders closed-loop
// or open-loop at a rate. Every loop is bounded in time and count.
import { Agent, request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BusinessPriority } from '../../services/shared/priority.ts';

export interface Answer {
  /** 0: no answer (connection error or timeout). */
  readonly status: number;
  readonly body: unknown;
  /** The business class shed (503 with x-yard-shed). */
  readonly shed: string | undefined;
}

export interface Http {
  call(
    method: 'GET' | 'POST' | 'PUT',
    path: string,
    opts?: { body?: unknown; ticket?: string; timeoutMs?: number; signal?: AbortSignal },
  ): Promise<Answer>;
  close(): void;
}

/** A JSON client of one base URL over kept-alive connections. */
export function createHttp(base: string, maxSockets = 4096): Http {
  const url = new URL(base);
  const agent = new Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
  return {
    call(method, path, o = {}) {
      return new Promise<Answer>((resolve) => {
        const payload = o.body === undefined ? undefined : JSON.stringify(o.body);
        const h: Record<string, string> = {};
        if (payload !== undefined) {
          h['content-type'] = 'application/json';
          h['content-length'] = String(Buffer.byteLength(payload));
        }
        if (o.ticket !== undefined) h['authorization'] = `Bearer ${o.ticket}`;
        let done = false;
        const finish = (a: Answer): void => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          resolve(a);
        };
        const req = request(
          { host: url.hostname, port: url.port, method, path, headers: h, agent },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => {
              const text = Buffer.concat(chunks).toString();
              let body: unknown = text;
              try {
                body = text === '' ? undefined : JSON.parse(text);
              } catch {
                // keep the text
              }
              const shed = res.headers['x-yard-shed'];
              finish({
                status: res.statusCode ?? 0,
                body,
                shed: typeof shed === 'string' ? shed : undefined,
              });
            });
            res.on('error', (err) => finish({ status: 0, body: err.message, shed: undefined }));
          },
        );
        const timer = setTimeout(() => {
          req.destroy(new Error('timeout'));
          finish({ status: 0, body: 'timeout', shed: undefined });
        }, o.timeoutMs ?? 10_000);
        o.signal?.addEventListener('abort', () => req.destroy(new Error('aborted')), {
          once: true,
        });
        req.on('error', (err) => finish({ status: 0, body: err.message, shed: undefined }));
        req.end(payload);
      });
    },
    close: () => agent.destroy(),
  };
}

export const reason = (a: Answer): string =>
  typeof a.body === 'object' && a.body !== null && 'error' in a.body
    ? String(a.body.error)
    : String(a.body);

function must<T>(a: Answer, what: string): T {
  if (a.status < 200 || a.status >= 300) throw new Error(`${what}: ${a.status} ${reason(a)}`);
  return a.body as T;
}

export interface User {
  readonly user: string;
  readonly ticket: string;
}

export interface Pair {
  readonly sender: User;
  readonly receiver: User;
  /** A group of the two, for group messages. */
  readonly group: string;
}

const password = 'bench password 1';

/** Runs `fn` over `items` with at most `width` at once. */
export async function eachLimited<T>(
  items: readonly T[],
  width: number,
  fn: (item: T, i: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        await fn(items[i] as T, i);
      }
    }),
  );
}

/** Registers and logs in `count` pairs, makes each pair contacts and gives it a group. */
export async function setupPairs(http: Http, count: number, tag: string): Promise<Pair[]> {
  const pairs: Pair[] = [];
  const user = async (name: string): Promise<User> => {
    must(
      await http.call('POST', '/v1/register', { body: { user: name, name, password } }),
      `register ${name}`,
    );
    const { ticket } = must<{ ticket: string }>(
      await http.call('POST', '/v1/login', { body: { user: name, password } }),
      `login ${name}`,
    );
    return { user: name, ticket };
  };
  await eachLimited(
    Array.from({ length: count }, (_, i) => i),
    16,
    async (i) => {
      const sender = await user(`${tag}-s${i}`);
      const receiver = await user(`${tag}-r${i}`);
      const p = `/v1/users/${sender.user}`;
      must(
        await http.call('POST', `${p}/contacts`, {
          body: { contact: receiver.user },
          ticket: sender.ticket,
        }),
        'befriend',
      );
      const group = `${tag}-g${i}`;
      must(
        await http.call('POST', `${p}/groups`, {
          body: { id: group, name: group, members: [receiver.user] },
          ticket: sender.ticket,
        }),
        'create group',
      );
      pairs[i] = { sender, receiver, group };
    },
  );
  return pairs;
}

/** When each message was sent and when it became visible in its receiver's sync. */
export class Tracker {
  private readonly sent = new Map<string, number>();
  /** Send start → visible, ms, for messages sent while recording. */
  latencies: number[] = [];
  delivered = 0;
  private recording = false;
  private readonly maxTracked: number;

  constructor(maxTracked = 500_000) {
    this.maxTracked = maxTracked;
  }

  /** Starts a new measurement: forgets earlier latencies. */
  record(on: boolean): void {
    this.recording = on;
    if (on) {
      this.latencies = [];
      this.delivered = 0;
    }
  }

  sending(id: string, at: number): void {
    if (this.recording && this.sent.size < this.maxTracked) this.sent.set(id, at);
  }

  visible(id: string, at: number): void {
    const t0 = this.sent.get(id);
    if (t0 === undefined) return;
    this.sent.delete(id);
    this.delivered++;
    this.latencies.push(at - t0);
  }

  /** Sent while recording and not visible yet. */
  pending(): number {
    return this.sent.size;
  }

  forget(): void {
    this.sent.clear();
  }
}

interface SyncBody {
  messages: { id: string; from: string }[];
  more: boolean;
  snapshot: string;
}

/**
 * Each receiver as a client: push (long-poll) with its snapshot, and on
 * "changed" sync until nothing more is pending. A failed call backs off like a
 * client would (200 ms doubling to 3.2 s, with jitter), so a shed receiver
 * does not come back as a storm of retries.
 */
export function startReceivers(
  http: Http,
  pairs: readonly Pair[],
  tracker: Tracker,
  pushWaitMs = 5000,
): { stop(): Promise<void>; failures: () => number } {
  const stopper = new AbortController();
  let failures = 0;
  const one = async (r: User): Promise<void> => {
    const p = `/v1/users/${r.user}`;
    let snapshot: string | undefined;
    let streak = 0;
    const failed = async (): Promise<void> => {
      failures++;
      const ms = 200 * 2 ** Math.min(4, streak++);
      await sleep(ms / 2 + Math.random() * ms, undefined, { signal: stopper.signal }).catch(
        () => undefined,
      );
    };
    const sync = async (): Promise<boolean> => {
      for (let i = 0; i < 50 && !stopper.signal.aborted; i++) {
        const a = await http.call('POST', `${p}/sync`, {
          body: snapshot === undefined ? {} : { snapshot },
          ticket: r.ticket,
          signal: stopper.signal,
        });
        if (a.status !== 200) return false;
        const b = a.body as SyncBody;
        const at = performance.now();
        for (const m of b.messages) tracker.visible(m.id, at);
        snapshot = b.snapshot;
        if (!b.more) return true;
      }
      return true;
    };
    while (!stopper.signal.aborted) {
      // the first sync: everything so far, and a snapshot
      if (snapshot === undefined) {
        if (await sync()) streak = 0;
        else if (!stopper.signal.aborted) await failed();
        continue;
      }
      const a = await http.call(
        'GET',
        `${p}/push?snapshot=${encodeURIComponent(snapshot)}&timeoutMs=${pushWaitMs}`,
        { ticket: r.ticket, timeoutMs: pushWaitMs + 10_000, signal: stopper.signal },
      );
      if (stopper.signal.aborted) break;
      if (a.status !== 200) {
        await failed();
        continue;
      }
      if ((a.body as { changed?: boolean }).changed && !(await sync())) {
        if (!stopper.signal.aborted) await failed();
        continue;
      }
      streak = 0;
    }
  };
  const loops = pairs.map((p) => one(p.receiver));
  return {
    failures: () => failures,
    async stop() {
      stopper.abort();
      await Promise.all(loops);
    },
  };
}

let ids = 0;
/** A message id unique in this run. */
export const nextId = (tag: string): string => `${tag}-${(++ids).toString(36)}`;

/** A 1:1 message from a pair's sender, tracked from send start. */
export async function sendMessage(
  http: Http,
  pair: Pair,
  tracker: Tracker,
  tag: string,
  timeoutMs: number,
): Promise<Answer> {
  const id = nextId(tag);
  tracker.sending(id, performance.now());
  return http.call('POST', `/v1/users/${pair.sender.user}/messages`, {
    body: { id, to: pair.receiver.user, text: `bench ${id} ${'x'.repeat(40)}` },
    ticket: pair.sender.ticket,
    timeoutMs,
  });
}

export interface Outcomes {
  offered: number;
  ok: number;
  /** Answered 2xx within the deadline. */
  okInTime: number;
  shed: number;
  /** 503 without x-yard-shed, other 4xx/5xx. */
  failed: number;
  /** No answer within the client timeout, or a connection error. */
  noAnswer: number;
  /** Not sent: the generator already had its maximum in flight. */
  notSent: number;
  /** Answer times of successes, ms. */
  latencies: number[];
}

export const emptyOutcomes = (): Outcomes => ({
  offered: 0,
  ok: 0,
  okInTime: 0,
  shed: 0,
  failed: 0,
  noAnswer: 0,
  notSent: 0,
  latencies: [],
});

export function count(o: Outcomes, a: Answer, ms: number, deadlineMs: number): void {
  if (a.status >= 200 && a.status < 300) {
    o.ok++;
    if (ms <= deadlineMs) o.okInTime++;
    o.latencies.push(ms);
  } else if (a.status === 503 && a.shed !== undefined) o.shed++;
  else if (a.status === 0) o.noAnswer++;
  else o.failed++;
}

/** Closed loop: `width` lanes each send, wait for the answer, send again, until `ms` pass. */
export async function closedLoop(
  width: number,
  ms: number,
  send: (lane: number, i: number) => Promise<Answer>,
  deadlineMs: number,
  signal?: AbortSignal,
): Promise<Outcomes> {
  const o = emptyOutcomes();
  const end = performance.now() + ms;
  await Promise.all(
    Array.from({ length: width }, async (_, lane) => {
      for (let i = 0; performance.now() < end && i < 10_000_000 && !signal?.aborted; i++) {
        const t0 = performance.now();
        o.offered++;
        count(o, await send(lane, i), performance.now() - t0, deadlineMs);
      }
    }),
  );
  return o;
}

/**
 * Open loop: requests fired at `rate` per second for `ms`, whatever the
 * answers (ticks of 5 ms), at most `maxInFlight` outstanding; `send(i)` gets
 * the request's number. Outcomes per key (`classify(i)`).
 */
export async function openLoop<K extends string>(
  rate: number,
  ms: number,
  maxInFlight: number,
  classify: (i: number) => K,
  send: (i: number) => Promise<Answer>,
  deadlineMs: number,
  signal?: AbortSignal,
): Promise<Map<K, Outcomes>> {
  const out = new Map<K, Outcomes>();
  const of = (k: K): Outcomes => {
    let o = out.get(k);
    if (!o) out.set(k, (o = emptyOutcomes()));
    return o;
  };
  const t0 = performance.now();
  const total = Math.round((rate * ms) / 1000);
  let inFlight = 0;
  const calls: Promise<void>[] = [];
  for (let i = 0; i < total && !signal?.aborted;) {
    const due = Math.min(total, Math.floor(((performance.now() - t0) * rate) / 1000) + 1);
    for (; i < due; i++) {
      const o = of(classify(i));
      o.offered++;
      if (inFlight >= maxInFlight) {
        o.notSent++;
        continue;
      }
      inFlight++;
      const started = performance.now();
      calls.push(
        send(i).then((a) => {
          inFlight--;
          count(o, a, performance.now() - started, deadlineMs);
        }),
      );
    }
    if (performance.now() - t0 > ms + 1000) break; // the generator fell behind: stop, bounded
    await sleep(5);
  }
  await Promise.all(calls);
  return out;
}

/** One request of a business class, from pair `pair`: what the overload mix sends. */
export function businessRequest(
  http: Http,
  business: BusinessPriority,
  pair: Pair,
  tracker: Tracker,
  timeoutMs: number,
): Promise<Answer> {
  const s = pair.sender;
  const p = `/v1/users/${s.user}`;
  switch (business) {
    case 'payment':
      return http.call('POST', `${p}/payments`, {
        body: { id: nextId('pay'), to: pair.receiver.user, amountCents: 100 },
        ticket: s.ticket,
        timeoutMs,
      });
    case 'message':
      return sendMessage(http, pair, tracker, 'mix', timeoutMs);
    case 'groupchat':
      return http.call('POST', `${p}/groups/${pair.group}/messages`, {
        body: { id: nextId('grp'), text: 'bench group message' },
        ticket: s.ticket,
        timeoutMs,
      });
    case 'moments':
      return http.call('GET', `${p}/moments?after=0`, { ticket: s.ticket, timeoutMs });
  }
}

/** The p-th percentile (0-100) of values, nearest rank; undefined when empty. */
export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}
