// The scheduler publishes what it decided: per campus the online ceiling in
// force, online and offline grants and use; per queue its fair share, use and
// pending demand; per job its admitted share. They go to the status of the
// Campus, OfflineQueue and OfflineJob objects, by server-side apply under its
// own field manager (`yard-scheduler`), so that the operator's controllers —
// which own the other status fields — read them instead of computing their
// own. Four answers to one question would disagree exactly during a shield.
//
// The first half is pure (what each object's status says, whether it is due;
// tables in publish.test.ts). The second, `Publisher`, runs only while the
// scheduler leads: once a second it takes the grants as they stand, and
// writes each object whose numbers changed — at most once a second per
// object, the latest numbers winning, writes in the binder's lowest lane so
// that they never delay a bind. Campuses and queues are written again at
// least every `heartbeatMs` with a new `publishedAt`, so a reader can tell
// numbers nobody computes any more (the scheduler stopped, or lost its lease).
import type {
  Campus as CampusObject,
  OfflineJob,
  OfflineQueue as QueueObject,
  ResourceAmounts,
} from '../../crds/index.ts';
import { yardKinds } from '../../crds/index.ts';
import { applyStatus, isNotFound, keyOf, rfc3339, sleep } from '../../runtime/index.ts';
import type { Clock, Informer, Logger, RestClient, ResourceType } from '../../runtime/index.ts';
import { cpuQuantity, memoryQuantity } from '../../runtime/quantity.ts';
import type { CampusGrant, Grants, JobGrant, QueueGrant, Resources } from '../core/index.ts';

export const publisherFieldManager = 'yard-scheduler';

// --- what each status says (pure) ---------------------------------------------------

const amounts = (r: Resources): ResourceAmounts => ({
  cpu: cpuQuantity(Math.max(0, r.cpu)),
  memory: memoryQuantity(Math.max(0, r.memory)),
});

/** A fraction as a decimal string, three places: "0.125", "1", "0". */
export const fraction = (f: number): string => String(Math.round(f * 1000) / 1000);

/** A ceiling as a percent string, one place: "66.7", "100". */
export const percent = (f: number): string => String(Math.round(f * 1000) / 10);

const scaled = (r: Resources, f: number): Resources => ({
  cpu: r.cpu * f,
  memory: r.memory * f,
  pods: r.pods * f,
});

/** The fields of a Campus's status the scheduler owns. */
export interface CampusNumbers {
  readonly allocatable: ResourceAmounts;
  readonly onlineCeilingPercent: string;
  readonly onlineCeiling: ResourceAmounts;
  readonly failoverCeiling: ResourceAmounts;
  readonly onlineGrant: ResourceAmounts;
  readonly onlineRequests: ResourceAmounts;
  readonly offlineGrant: ResourceAmounts;
  readonly offlineRequests: ResourceAmounts;
  readonly reserve: ResourceAmounts;
  readonly headroom: ResourceAmounts;
}

export function campusNumbers(g: CampusGrant): CampusNumbers {
  const cap = g.online.cap;
  return {
    allocatable: amounts(g.allocatable),
    onlineCeilingPercent: percent(g.ceiling),
    onlineCeiling: amounts(cap),
    failoverCeiling: amounts(scaled(g.allocatable, g.failoverCeiling)),
    onlineGrant: amounts(g.online.grant),
    onlineRequests: amounts(g.online.used),
    offlineGrant: amounts(g.offline.grant),
    offlineRequests: amounts(g.offline.used),
    reserve: amounts(g.reserve),
    headroom: amounts({
      cpu: cap.cpu - g.online.used.cpu,
      memory: cap.memory - g.online.used.memory,
      pods: 0,
    }),
  };
}

/** The fields of an OfflineQueue's status the scheduler owns. */
export interface QueueNumbers {
  readonly used: ResourceAmounts;
  readonly fairShare: ResourceAmounts;
  readonly dominantShare: string;
  readonly fairDominantShare: string;
  readonly pendingDemand: ResourceAmounts;
}

const none: Resources = { cpu: 0, memory: 0, pods: 0 };

/** A fair share may be unbounded in a dimension (no max, no pool): it is not written then. */
const finite = (r: Resources): ResourceAmounts => {
  const a = amounts(r);
  return {
    ...(Number.isFinite(r.cpu) ? { cpu: a.cpu } : {}),
    ...(Number.isFinite(r.memory) ? { memory: a.memory } : {}),
  };
};

export function queueNumbers(g: QueueGrant, pending: Resources | undefined): QueueNumbers {
  return {
    used: amounts(g.used),
    fairShare: finite(g.fairShare),
    dominantShare: fraction(g.dominantShare),
    fairDominantShare: fraction(g.fairFraction),
    pendingDemand: amounts(pending ?? none),
  };
}

/** The fields of an OfflineJob's status the scheduler owns. */
export interface JobNumbers {
  readonly admitted: ResourceAmounts;
  readonly admittedShare: string;
  readonly queueShare: string;
}

/** A job with no pod on the books has nothing admitted. */
export function jobNumbers(g: JobGrant | undefined): JobNumbers {
  return {
    admitted: amounts(g?.used ?? none),
    admittedShare: fraction(g?.dominantShare ?? 0),
    queueShare: fraction(g?.queueShare ?? 0),
  };
}

/**
 * The requests of the pods waiting in each queue, charged to its ancestors
 * too (as `used` is), from the offline pods pending and each queue's parent.
 */
export function pendingByQueue(
  pending: Iterable<{ readonly queue: string; readonly requests: Resources }>,
  parents: ReadonlyMap<string, string | undefined>,
): Map<string, Resources> {
  const out = new Map<string, Resources>();
  for (const p of pending) {
    const seen = new Set<string>();
    for (let q: string | undefined = p.queue; q !== undefined && !seen.has(q); q = parents.get(q)) {
      if (!parents.has(q)) break; // not in the tree: nobody to charge
      seen.add(q);
      const t = out.get(q) ?? none;
      out.set(q, {
        cpu: t.cpu + p.requests.cpu,
        memory: t.memory + p.requests.memory,
        pods: t.pods + p.requests.pods,
      });
    }
  }
  return out;
}

/** The published fields of a status, picked from the object (what the cache shows). */
export function pick<T extends object>(
  status: Readonly<Record<string, unknown>> | undefined,
  like: T,
): Partial<T> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(like)) if (status?.[k] !== undefined) out[k] = status[k];
  return out as Partial<T>;
}

const canonical = (x: unknown): string =>
  JSON.stringify(x, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );

export const sameNumbers = (a: unknown, b: unknown): boolean => canonical(a) === canonical(b);

/** What the publisher knows of one object: what it last sent (this leadership), else what the cache shows. */
export interface Seen {
  readonly numbers: unknown;
  /** When those numbers were published; undefined when never. */
  readonly at: number | undefined;
}

export interface DueOptions {
  readonly now: number;
  /** Numbers this old are published again even if unchanged; undefined: only on change. */
  readonly heartbeatMs?: number;
}

/** Whether an object's numbers must be written now: they changed, or they are due for a heartbeat. */
export function due(seen: Seen, next: unknown, o: DueOptions): 'changed' | 'heartbeat' | undefined {
  if (!sameNumbers(seen.numbers, next)) return 'changed';
  if (o.heartbeatMs === undefined) return undefined;
  if (seen.at === undefined || o.now - seen.at >= o.heartbeatMs) return 'heartbeat';
  return undefined;
}

/** Zero numbers are what a job without the field says (nothing admitted). */
const jobZero = jobNumbers(undefined);

// --- the process side ----------------------------------------------------------------

export interface PublisherOptions {
  readonly rest: RestClient;
  readonly clock: Clock;
  readonly log: Logger;
  readonly campuses: Informer<CampusObject>;
  readonly queues: Informer<QueueObject>;
  readonly jobs: Informer<OfflineJob>;
  /** The grants as they stand, or undefined while the books are being rebuilt. */
  readonly grants: () => Grants | undefined;
  /** Offline pods waiting to be placed, with their queue and requests. */
  readonly pending: () => Iterable<{ readonly queue: string; readonly requests: Resources }>;
  /** Where writes go: the binder's lowest lane, so they never delay a bind. */
  readonly run: <T>(write: () => Promise<T>) => Promise<T>;
  /** How often the numbers are looked at, and the most often one object is written (default 1 s). */
  readonly intervalMs?: number;
  /** Campuses and queues are republished at least this often (default 30 s). */
  readonly heartbeatMs?: number;
  readonly onWrite?: (kind: 'Campus' | 'OfflineQueue' | 'OfflineJob') => void;
}

interface Target {
  readonly type: ResourceType;
  readonly kind: 'Campus' | 'OfflineQueue' | 'OfflineJob';
  readonly name: string;
  readonly namespace?: string;
  readonly numbers: object;
  readonly current: Readonly<Record<string, unknown>> | undefined;
  readonly heartbeat: boolean;
}

const publishedAt = (s: { publishedAt?: string } | undefined): number | undefined => {
  const t = s?.publishedAt === undefined ? NaN : Date.parse(s.publishedAt);
  return Number.isNaN(t) ? undefined : t;
};

export class Publisher {
  readonly #o: PublisherOptions;
  /** Per object key: what this leadership last sent, and when. */
  readonly #sent = new Map<string, { numbers: unknown; at: number }>();
  readonly #inFlight = new Set<string>();

  constructor(opts: PublisherOptions) {
    this.#o = opts;
  }

  /** Publishes until `signal` aborts (leadership lost, or stopping). */
  async run(signal: AbortSignal): Promise<void> {
    this.#sent.clear(); // a new leadership trusts what the API shows, not an old memory
    const every = this.#o.intervalMs ?? 1_000;
    while (!signal.aborted) {
      try {
        this.tick();
      } catch (err) {
        this.#o.log.error('publishing status failed', { err });
      }
      await sleep(this.#o.clock, every, signal);
    }
  }

  /** One pass: every object whose numbers are due is written (not awaited). Returns how many. */
  tick(): number {
    const g = this.#o.grants();
    if (!g) return 0;
    const now = this.#o.clock.now();
    const heartbeatMs = this.#o.heartbeatMs ?? 30_000;
    let writes = 0;
    const live = new Set<string>();
    for (const t of this.#targets(g)) {
      const key = `${t.kind}/${t.namespace ?? ''}/${t.name}`;
      live.add(key);
      if (this.#inFlight.has(key)) continue; // the latest numbers go when it is back
      const sent = this.#sent.get(key);
      const seen: Seen = sent ?? {
        numbers:
          t.kind === 'OfflineJob'
            ? { ...jobZero, ...pick(t.current, t.numbers) }
            : pick(t.current, t.numbers),
        at: publishedAt(t.current),
      };
      if (!due(seen, t.numbers, { now, ...(t.heartbeat ? { heartbeatMs } : {}) })) continue;
      writes++;
      this.#write(key, t, now);
    }
    for (const k of this.#sent.keys()) if (!live.has(k)) this.#sent.delete(k);
    return writes;
  }

  *#targets(g: Grants): Iterable<Target> {
    const { campuses, queues, jobs } = this.#o;
    const byCampus = new Map(g.campuses.map((c) => [c.campus, c]));
    for (const c of campuses.store.list()) {
      const grant = byCampus.get(c.metadata.name ?? '');
      if (!grant) continue;
      yield {
        type: yardKinds.Campus,
        kind: 'Campus',
        name: c.metadata.name ?? '',
        numbers: campusNumbers(grant),
        current: c.status as Record<string, unknown> | undefined,
        heartbeat: true,
      };
    }
    const parents = new Map(g.queues.map((q) => [q.queue, q.parent]));
    const pending = pendingByQueue(this.#o.pending(), parents);
    const byQueue = new Map(g.queues.map((q) => [q.queue, q]));
    for (const q of queues.store.list()) {
      const grant = byQueue.get(q.metadata.name ?? '');
      if (!grant) continue; // not in the tree: the queue controller says why
      yield {
        type: yardKinds.OfflineQueue,
        kind: 'OfflineQueue',
        name: q.metadata.name ?? '',
        numbers: queueNumbers(grant, pending.get(grant.queue)),
        current: q.status as Record<string, unknown> | undefined,
        heartbeat: true,
      };
    }
    const byJob = new Map(g.jobs.map((j) => [j.job, j]));
    for (const j of jobs.store.list()) {
      if (j.metadata.deletionTimestamp) continue;
      yield {
        type: yardKinds.OfflineJob,
        kind: 'OfflineJob',
        name: j.metadata.name ?? '',
        namespace: j.metadata.namespace ?? '',
        numbers: jobNumbers(byJob.get(keyOf(j))),
        current: j.status as Record<string, unknown> | undefined,
        heartbeat: false,
      };
    }
  }

  #write(key: string, t: Target, now: number): void {
    this.#inFlight.add(key);
    const status = { ...t.numbers, publishedAt: rfc3339(new Date(now)) };
    const metadata = { name: t.name, ...(t.namespace ? { namespace: t.namespace } : {}) };
    void this.#o
      .run(() =>
        applyStatus(
          this.#o.rest,
          t.type,
          { metadata, status },
          { fieldManager: publisherFieldManager, force: true },
        ),
      )
      .then(
        () => {
          this.#sent.set(key, { numbers: t.numbers, at: now });
          this.#o.onWrite?.(t.kind);
        },
        (err: unknown) => {
          // gone: nothing to publish to; otherwise the next pass tries again
          if (!isNotFound(err)) this.#o.log.warn('could not publish status', { object: key, err });
        },
      )
      .finally(() => this.#inFlight.delete(key));
  }
}
