// Kubernetes Events about our objects, written through events.k8s.io/v1.
//
// Why events.k8s.io/v1 and not core/v1: it is the current API (core/v1
// Events are kept for compatibility), it names the writer
// (`reportingController`, `reportingInstance`) and the verb (`action`), and
// it has `series`, the field designed for de-duplication. Both APIs are views
// of the same objects, so `kubectl describe` and `kubectl events` show ours.
//
// De-duplication, so a hot loop cannot flood the API server:
// - the first occurrence of an event creates it at once;
// - identical occurrences (same object, type, reason, action, note) after it
//   only count, in memory; every `seriesFlushMs` (30 s) a changed count is
//   written as one patch of `series: { count, lastObservedTime }`;
// - an event not seen again for `seriesWindowMs` (6 min, client-go's) is
//   forgotten; its next occurrence starts a new Event;
// - on top, a token bucket per object (25 events, one more every 5 min, as
//   client-go's spam filter) drops floods of *different* events.
// Writes are best-effort and asynchronous: a failed write is logged, never
// thrown into a reconcile.
import { PatchStrategy } from '@kubernetes/client-node';
import { microTime, realClock } from './clock.ts';
import type { Cancel, Clock } from './clock.ts';
import { nullLogger } from './logger.ts';
import type { Logger } from './logger.ts';
import type { KubeObject } from './object.ts';
import { kinds } from './resource.ts';
import type { RestClient } from './rest.ts';

export const eventTypes = ['Normal', 'Warning'] as const;
export type EventType = (typeof eventTypes)[number];

export interface ObjectReference {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly name?: string;
  readonly namespace?: string;
  readonly uid?: string;
  readonly resourceVersion?: string;
}

export interface EventSeries {
  readonly count: number;
  readonly lastObservedTime: string;
}

/** An events.k8s.io/v1 Event, as sent. */
export interface KubeEvent {
  readonly apiVersion: 'events.k8s.io/v1';
  readonly kind: 'Event';
  readonly metadata: { readonly name: string; readonly namespace: string };
  readonly eventTime: string;
  readonly reportingController: string;
  readonly reportingInstance: string;
  readonly action: string;
  readonly reason: string;
  readonly type: EventType;
  readonly note: string;
  readonly regarding: ObjectReference;
  readonly series?: EventSeries;
}

/** Where events go: the API (restEventSink) or, in unit tests, a recorder of calls. */
export interface EventSink {
  create(event: KubeEvent): Promise<void>;
  patchSeries(namespace: string, name: string, series: EventSeries): Promise<void>;
}

export function restEventSink(rest: RestClient): EventSink {
  return {
    async create(event) {
      await rest.create(kinds.Event, event);
    },
    async patchSeries(namespace, name, series) {
      await rest.patch(kinds.Event, { namespace, name }, { series }, PatchStrategy.MergePatch);
    },
  };
}

export interface EventRecorderOptions {
  readonly sink: EventSink;
  /** Who writes, as a qualified name: `yard.dev/imservice-controller`. */
  readonly reportingController: string;
  /** Which replica writes (pod name); max 128 characters. */
  readonly reportingInstance: string;
  readonly clock?: Clock;
  readonly log?: Logger;
  readonly seriesFlushMs?: number;
  readonly seriesWindowMs?: number;
  /** Spam filter: events per object at once, and ms to earn one more. */
  readonly burst?: number;
  readonly refillMs?: number;
}

export interface EventInput {
  readonly type: EventType;
  /** CamelCase, why: `CampusShielded`. */
  readonly reason: string;
  /** CamelCase, what we did or failed to do: `Shield`. */
  readonly action: string;
  /** For people; cut to 1 KiB. */
  readonly note: string;
}

interface Pending {
  readonly namespace: string;
  readonly name: string;
  count: number;
  written: number;
  lastObserved: number;
  /** the create, which patches must wait for */
  created: Promise<boolean>;
}

export class EventRecorder {
  readonly #o: Required<Omit<EventRecorderOptions, 'clock' | 'log'>>;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #series = new Map<string, Pending>();
  readonly #buckets = new Map<string, { tokens: number; at: number }>();
  readonly #inFlight = new Set<Promise<unknown>>();
  #cancelFlush: Cancel | undefined;
  #closed = false;

  constructor(opts: EventRecorderOptions) {
    this.#o = {
      sink: opts.sink,
      reportingController: opts.reportingController,
      reportingInstance: opts.reportingInstance.slice(0, 128),
      seriesFlushMs: opts.seriesFlushMs ?? 30_000,
      seriesWindowMs: opts.seriesWindowMs ?? 6 * 60_000,
      burst: opts.burst ?? 25,
      refillMs: opts.refillMs ?? 5 * 60_000,
    };
    this.#clock = opts.clock ?? realClock;
    this.#log = (opts.log ?? nullLogger).child({ component: 'events' });
  }

  /** Records an event about `regarding` (an object read from the API). */
  event(regarding: KubeObject, input: EventInput): void {
    if (this.#closed) return;
    const ref = referenceTo(regarding);
    if (!ref.name) return void this.#log.warn('event about an object without a name', { ...input });
    const now = this.#clock.now();
    const note = input.note.length > 1024 ? `${input.note.slice(0, 1021)}...` : input.note;
    const key = JSON.stringify([
      ref.uid ?? '',
      ref.kind,
      ref.namespace,
      ref.name,
      input.type,
      input.reason,
      input.action,
      note,
    ]);
    const known = this.#series.get(key);
    if (known && now - known.lastObserved < this.#o.seriesWindowMs) {
      known.count++;
      known.lastObserved = now;
      this.#scheduleFlush();
      return;
    }
    if (!this.#take(ref, now)) {
      this.#log.debug('event dropped by the spam filter', { ...input, object: ref.name });
      return;
    }
    const namespace = ref.namespace || 'default';
    const name = `${ref.name}.${now.toString(16)}${Math.random().toString(16).slice(2, 8)}`;
    const event: KubeEvent = {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { name, namespace },
      eventTime: microTime(now),
      reportingController: this.#o.reportingController,
      reportingInstance: this.#o.reportingInstance,
      action: input.action,
      reason: input.reason,
      type: input.type,
      note,
      regarding: ref,
    };
    const created = this.#track(
      this.#o.sink.create(event).then(
        () => true,
        (err: unknown) => {
          this.#log.warn('could not write an event', { err, reason: input.reason });
          return false;
        },
      ),
    );
    this.#series.set(key, { namespace, name, count: 1, written: 1, lastObserved: now, created });
    this.#scheduleFlush();
  }

  /** Writes counts that changed since the last write, and forgets old series. */
  async flush(): Promise<void> {
    this.#cancelFlush?.();
    this.#cancelFlush = undefined;
    const now = this.#clock.now();
    for (const [key, s] of this.#series) {
      if (s.count > s.written) {
        const count = s.count;
        s.written = count;
        const series: EventSeries = { count, lastObservedTime: microTime(s.lastObserved) };
        void this.#track(
          s.created.then(async (ok) => {
            if (!ok) return;
            try {
              await this.#o.sink.patchSeries(s.namespace, s.name, series);
            } catch (err) {
              this.#log.warn('could not update an event series', { err, event: s.name });
            }
          }),
        );
      } else if (now - s.lastObserved >= this.#o.seriesWindowMs) {
        this.#series.delete(key);
      }
    }
    // a full bucket holds nothing worth remembering
    for (const [id, b] of this.#buckets) {
      if (b.tokens + Math.floor((now - b.at) / this.#o.refillMs) >= this.#o.burst) {
        this.#buckets.delete(id);
      }
    }
    // keep flushing while series are remembered, so old ones get forgotten
    if (this.#series.size > 0) this.#scheduleFlush();
    await this.settled();
  }

  /** Waits for every write started so far. */
  async settled(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.all([...this.#inFlight]);
  }

  /** Flushes and stops recording. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.flush();
    this.#cancelFlush?.();
    this.#cancelFlush = undefined;
  }

  #scheduleFlush(): void {
    if (this.#cancelFlush || this.#closed) return;
    this.#cancelFlush = this.#clock.setTimer(this.#o.seriesFlushMs, () => {
      this.#cancelFlush = undefined;
      void this.flush();
    });
  }

  /** `p` never rejects (callers catch); tracked so `settled` can wait for it. */
  #track<T>(p: Promise<T>): Promise<T> {
    this.#inFlight.add(p);
    void p.then(() => this.#inFlight.delete(p));
    return p;
  }

  #take(ref: ObjectReference, now: number): boolean {
    const id = ref.uid ?? `${ref.kind}/${ref.namespace}/${ref.name}`;
    const b = this.#buckets.get(id) ?? { tokens: this.#o.burst, at: now };
    const earned = Math.floor((now - b.at) / this.#o.refillMs);
    if (earned > 0) {
      b.tokens = Math.min(this.#o.burst, b.tokens + earned);
      b.at += earned * this.#o.refillMs;
    }
    if (b.tokens >= this.#o.burst) b.at = now;
    this.#buckets.set(id, b);
    if (b.tokens <= 0) return false;
    b.tokens--;
    return true;
  }
}

function referenceTo(obj: KubeObject): ObjectReference {
  const m = obj.metadata;
  return {
    ...(obj.apiVersion ? { apiVersion: obj.apiVersion } : {}),
    ...(obj.kind ? { kind: obj.kind } : {}),
    ...(m?.name ? { name: m.name } : {}),
    ...(m?.namespace ? { namespace: m.namespace } : {}),
    ...(m?.uid ? { uid: m.uid } : {}),
    ...(m?.resourceVersion ? { resourceVersion: m.resourceVersion } : {}),
  };
}
