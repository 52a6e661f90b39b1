// Leader election on a coordination.k8s.io/v1 Lease (client-go's algorithm).
//
// - Every `retryPeriodMs` a candidate reads the Lease. It may take it when it
//   is free (no holder: released) or expired: the record did not change for
//   `leaseDurationSeconds` *as measured by this process's clock since it
//   first saw that record* (not by comparing the holder's renewTime with our
//   clock, so clock skew between machines does not matter).
// - Every write carries the resourceVersion read, so of two candidates only
//   one wins (the other gets 409).
// - The leader renews every `retryPeriodMs`; if it has not renewed for
//   `renewDeadlineMs` it stops leading — before its lease can expire, so two
//   leaders never act at once (renewDeadline < leaseDuration).
// - On graceful stop the leader releases the Lease (no holder, 1 s), and a
//   standby takes over at its next retry instead of waiting out the lease.
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { microTime, realClock, sleep } from './clock.ts';
import type { Clock } from './clock.ts';
import { isConflict, isNotFound } from './errors.ts';
import { nullLogger } from './logger.ts';
import type { Logger } from './logger.ts';
import type { LeaderMetrics } from './metrics.ts';
import { jsonEqual } from './object.ts';
import type { KubeObject } from './object.ts';
import { kinds } from './resource.ts';
import type { RestClient } from './rest.ts';

export interface LeaseSpec {
  readonly holderIdentity?: string;
  readonly leaseDurationSeconds?: number;
  readonly acquireTime?: string;
  readonly renewTime?: string;
  readonly leaseTransitions?: number;
}

export interface Lease extends KubeObject {
  readonly spec?: LeaseSpec;
}

export type LeaseDecision =
  | { readonly kind: 'create' }
  | { readonly kind: 'renew' }
  | { readonly kind: 'take'; readonly from: string }
  | { readonly kind: 'wait'; readonly holder: string; readonly expiresAt: number };

/**
 * What a candidate may do with a lease (pure). `observedAt` is when this
 * process first saw the current record (its own clock).
 */
export function decide(
  spec: LeaseSpec | undefined,
  identity: string,
  now: number,
  observedAt: number,
): LeaseDecision {
  if (!spec) return { kind: 'create' };
  const holder = spec.holderIdentity ?? '';
  if (holder === identity) return { kind: 'renew' };
  const expiresAt = observedAt + (spec.leaseDurationSeconds ?? 0) * 1000;
  if (holder !== '' && expiresAt > now) return { kind: 'wait', holder, expiresAt };
  return { kind: 'take', from: holder };
}

/** The record a candidate writes after deciding to create, take or renew (pure). */
export function nextLeaseSpec(
  decision: Exclude<LeaseDecision, { readonly kind: 'wait' }>,
  spec: LeaseSpec | undefined,
  identity: string,
  now: number,
  leaseDurationMs: number,
): LeaseSpec {
  const transitions = spec?.leaseTransitions ?? 0;
  return {
    holderIdentity: identity,
    leaseDurationSeconds: Math.ceil(leaseDurationMs / 1000),
    acquireTime: decision.kind === 'renew' && spec?.acquireTime ? spec.acquireTime : microTime(now),
    renewTime: microTime(now),
    leaseTransitions: decision.kind === 'take' ? transitions + 1 : transitions,
  };
}

export class LeaderElectionLostError extends Error {
  constructor() {
    super('leader election lost: stopped the controllers; restart the process');
    this.name = 'LeaderElectionLostError';
  }
}

export interface LeaderElectionConfig {
  readonly namespace: string;
  /** The Lease's name, e.g. `yard-operator`. */
  readonly name: string;
  /** Unique per replica (default: hostname and a UUID). */
  readonly identity?: string;
  /** How long a lease is valid without renewal (default 15 s). */
  readonly leaseDurationMs?: number;
  /** The leader gives up if it could not renew for this long (default 10 s). */
  readonly renewDeadlineMs?: number;
  /** Between tries (default 2 s). */
  readonly retryPeriodMs?: number;
}

export interface LeaderElectorOptions extends LeaderElectionConfig {
  readonly rest: RestClient;
  /** Called when this replica starts leading; `signal` aborts when it stops. */
  readonly onStartedLeading: (signal: AbortSignal) => void | Promise<void>;
  /** Called once when leading ends: `lost` (could not renew) or `stopped`. */
  readonly onStoppedLeading?: (reason: 'lost' | 'stopped') => void;
  /** Called when the observed holder changes (including to ourselves). */
  readonly onNewLeader?: (identity: string) => void;
  readonly clock?: Clock;
  readonly random?: () => number;
  readonly log?: Logger;
  readonly metrics?: LeaderMetrics;
}

/** client-go's JitterFactor for the acquire loop. */
const jitterFactor = 1.2;

export class LeaderElector {
  readonly identity: string;
  readonly #o: LeaderElectorOptions;
  readonly #leaseMs: number;
  readonly #renewMs: number;
  readonly #retryMs: number;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #log: Logger;
  #observed: { spec: LeaseSpec | undefined; at: number } | undefined;
  #lease: Lease | undefined;
  #leading: AbortController | undefined;
  #leaderWork: Promise<void> | undefined;
  #stop: AbortController | undefined;
  #loop: Promise<void> | undefined;
  #lastContact: number | undefined;
  #startedAt: number | undefined;
  #holder = '';

  constructor(opts: LeaderElectorOptions) {
    this.#o = opts;
    this.identity = opts.identity ?? `${hostname()}_${randomUUID()}`;
    this.#leaseMs = opts.leaseDurationMs ?? 15_000;
    this.#renewMs = opts.renewDeadlineMs ?? 10_000;
    this.#retryMs = opts.retryPeriodMs ?? 2_000;
    if (this.#leaseMs <= this.#renewMs) {
      throw new RangeError('leaseDuration must be greater than renewDeadline');
    }
    if (this.#renewMs <= jitterFactor * this.#retryMs) {
      throw new RangeError('renewDeadline must be greater than 1.2 × retryPeriod');
    }
    if (this.#leaseMs < 1000) throw new RangeError('leaseDuration must be at least 1 s');
    this.#clock = opts.clock ?? realClock;
    this.#random = opts.random ?? Math.random;
    this.#log = (opts.log ?? nullLogger).child({
      lease: `${opts.namespace}/${opts.name}`,
      identity: this.identity,
    });
  }

  isLeader(): boolean {
    return this.#leading !== undefined;
  }

  /** The holder last seen in the Lease ('' if none). */
  leader(): string {
    return this.#holder;
  }

  /** Why this replica is unhealthy, or undefined: it leads, or it reached the Lease recently. */
  unhealthy(): string | undefined {
    if (this.isLeader()) return undefined;
    const since = this.#lastContact ?? this.#startedAt;
    if (since === undefined) return 'leader election is not running';
    const bound = 2 * this.#leaseMs + 2 * this.#retryMs;
    if (this.#clock.now() - since > bound) {
      return `could not read the Lease for ${Math.round((this.#clock.now() - since) / 1000)} s`;
    }
    return undefined;
  }

  /** Starts competing for the lease. Once leadership is lost the elector does not compete again. */
  start(): void {
    if (this.#loop) return;
    const stop = new AbortController();
    this.#stop = stop;
    this.#startedAt = this.#clock.now();
    this.#loop = this.#run(stop.signal).catch((err: unknown) => {
      this.#log.error('leader election failed', { err });
    });
  }

  /** Resolves when the election loop ended (leadership lost, or stopped). */
  async done(): Promise<void> {
    await this.#loop;
  }

  /**
   * Stops competing. If leading: stops the leader's work (its signal
   * aborts), and releases the Lease unless `release` is false — false is what
   * a crash looks like to the others (they wait for the lease to expire).
   */
  async stop(opts: { readonly release?: boolean } = {}): Promise<void> {
    this.#stop?.abort();
    await this.#loop;
    if (this.#leading) {
      this.#stopLeading('stopped');
      if (opts.release ?? true) await this.#release();
    }
  }

  /**
   * One try to take or renew the lease (the loop calls it every retry
   * period). True if this replica holds the lease afterwards.
   */
  async tryAcquireOrRenew(timeoutMs = this.#retryMs): Promise<boolean> {
    const opts = { timeoutMs: Math.max(1, timeoutMs) };
    const read = await this.#read(opts);
    if (!read.ok) return false;
    const { lease } = read;
    const now = this.#clock.now();
    this.#lastContact = now;
    const spec = lease?.spec;
    if (!this.#observed || !jsonEqual(this.#observed.spec, spec))
      this.#observed = { spec, at: now };
    this.#see(spec?.holderIdentity ?? '');
    const decision = decide(spec, this.identity, now, this.#observed.at);
    if (decision.kind === 'wait') return false;
    const body: Lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {
        name: this.#o.name,
        namespace: this.#o.namespace,
        // the precondition: of two candidates writing the same version, one gets 409
        ...(lease?.metadata?.resourceVersion
          ? { resourceVersion: lease.metadata.resourceVersion }
          : {}),
      },
      spec: nextLeaseSpec(decision, spec, this.identity, now, this.#leaseMs),
    };
    try {
      this.#lease =
        decision.kind === 'create'
          ? await this.#o.rest.create<Lease>(kinds.Lease, body, opts)
          : await this.#o.rest.replace<Lease>(kinds.Lease, body, opts);
    } catch (err) {
      // 409: someone else wrote the lease since we read it; we lost this round
      if (!isConflict(err)) this.#log.warn('could not write the lease', { err });
      return false;
    }
    this.#observed = { spec: this.#lease.spec, at: now };
    this.#see(this.identity);
    return true;
  }

  async #read(opts: {
    readonly timeoutMs: number;
  }): Promise<{ readonly ok: false } | { readonly ok: true; readonly lease: Lease | undefined }> {
    try {
      const lease = await this.#o.rest.get<Lease>(
        kinds.Lease,
        this.#o.namespace,
        this.#o.name,
        opts,
      );
      return { ok: true, lease };
    } catch (err) {
      if (isNotFound(err)) return { ok: true, lease: undefined };
      this.#log.warn('could not read the lease', { err });
      return { ok: false };
    }
  }

  async #run(signal: AbortSignal): Promise<void> {
    this.#log.info('waiting to lead');
    while (!signal.aborted) {
      if (await this.tryAcquireOrRenew()) break;
      await sleep(this.#clock, this.#retryMs * (1 + jitterFactor * this.#random()), signal);
    }
    if (signal.aborted) return;
    this.#startLeading();
    let renewed = this.#clock.now();
    while (!signal.aborted) {
      await sleep(this.#clock, this.#retryMs, signal);
      if (signal.aborted) return;
      const left = renewed + this.#renewMs - this.#clock.now();
      if (left > 0 && (await this.tryAcquireOrRenew(Math.min(left, this.#renewMs)))) {
        renewed = this.#clock.now();
        continue;
      }
      if (signal.aborted) return;
      const taken = this.#holder !== '' && this.#holder !== this.identity;
      if (taken || this.#clock.now() >= renewed + this.#renewMs) {
        this.#log.error('leadership lost', {
          reason: taken ? `the lease is held by ${this.#holder}` : 'renew deadline passed',
        });
        this.#stopLeading('lost');
        return;
      }
    }
  }

  #startLeading(): void {
    const leading = new AbortController();
    this.#leading = leading;
    this.#o.metrics?.leading(true);
    this.#log.info('started leading');
    this.#leaderWork = Promise.resolve()
      .then(() => this.#o.onStartedLeading(leading.signal))
      .catch((err: unknown) => this.#log.error('leader work failed', { err }));
  }

  #stopLeading(reason: 'lost' | 'stopped'): void {
    const leading = this.#leading;
    if (!leading) return;
    this.#leading = undefined;
    leading.abort(new Error(`leadership ${reason}`));
    this.#o.metrics?.leading(false);
    this.#log.info('stopped leading', { reason });
    this.#o.onStoppedLeading?.(reason);
  }

  /** Leader work started by onStartedLeading, to wait for after stopping. */
  async leaderWorkDone(): Promise<void> {
    await this.#leaderWork;
  }

  async #release(): Promise<void> {
    const lease = this.#lease;
    if (!lease?.metadata?.resourceVersion) return;
    const now = this.#clock.now();
    try {
      await this.#o.rest.replace<Lease>(kinds.Lease, {
        ...lease,
        spec: {
          leaseDurationSeconds: 1,
          acquireTime: microTime(now),
          renewTime: microTime(now),
          leaseTransitions: lease.spec?.leaseTransitions ?? 0,
        },
      });
      this.#log.info('released the lease');
    } catch (err) {
      // someone took it already, or the API is away: the lease expires anyway
      this.#log.warn('could not release the lease', { err });
    }
  }

  #see(holder: string): void {
    if (holder === this.#holder) return;
    this.#holder = holder;
    if (holder) this.#o.onNewLeader?.(holder);
  }
}
