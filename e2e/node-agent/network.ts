// Which of the agent's nodes are out of reach, from the API: it watches the
// Campus objects and the nodes, evaluates Campus.spec.blackhole with
// blackhole.ts at the injected clock's time, and tells the agent which nodes
// changed. The blackhole is state in the API, never a call that dies with its
// caller: whoever set it can be gone and it still lifts at its `until` — a
// timer at the next expiry, plus a periodic re-check in case a timer or the
// clock is off — with no watch event needed, even while the API is down. A
// restarted agent finds the same state in the API and blocks the same nodes.
import type { Campus } from '../../crds/generated/types.ts';
import type { StoreReader } from '../../runtime/cache.ts';
import type { Cancel, Clock } from '../../runtime/clock.ts';
import type { EventHandler } from '../../runtime/informer.ts';
import type { Logger } from '../../runtime/logger.ts';
import { blackholedNodes, blockMessage, nextLiftIn } from './blackhole.ts';
import type { CampusBlock } from './blackhole.ts';
import { isSimulatedNode } from './select.ts';
import type { NodeObject } from './types.ts';

/** What `blackholes()` and the control API report. */
export interface BlackholeState {
  /** The blackholes in force on campuses with at least one of the agent's nodes. */
  readonly campuses: readonly {
    readonly campus: string;
    readonly reason: string;
    readonly by: string;
    readonly until: string;
  }[];
  /** The agent's nodes out of reach now, sorted. */
  readonly nodes: readonly string[];
}

/** What it reads of an informer: its cache, and its change notifications. */
export interface Watched<T> {
  readonly store: StoreReader<T>;
  addHandler(handler: EventHandler<T>): () => void;
}

export interface BlackholeWatchOptions {
  /** Informers the agent starts and syncs before `start`. */
  readonly campuses: Watched<Campus>;
  readonly nodes: Watched<NodeObject>;
  readonly clock: Clock;
  /** Re-evaluate this often whatever happens (a timer that fired late, a clock that jumped). */
  readonly recheckMs: number;
  readonly log: Logger;
  /** Nodes whose blackhole began, ended or changed (its until, reason or author). */
  changed(nodes: ReadonlySet<string>): void;
}

export class BlackholeWatch {
  readonly #o: BlackholeWatchOptions;
  #blocked: ReadonlyMap<string, CampusBlock> = new Map();
  #cancelLift: Cancel | undefined;
  #cancelRecheck: Cancel | undefined;
  #unsubscribe: (() => void)[] = [];
  #stopped = false;

  constructor(o: BlackholeWatchOptions) {
    this.#o = o;
  }

  /** Evaluates once, then on every Campus or Node change, at each expiry and every `recheckMs`. */
  start(): void {
    this.evaluate();
    const again = {
      onAdd: () => this.evaluate(),
      onUpdate: () => this.evaluate(),
      onDelete: () => this.evaluate(),
    };
    this.#unsubscribe = [this.#o.campuses.addHandler(again), this.#o.nodes.addHandler(again)];
    const recheck = (): void => {
      if (this.#stopped) return;
      this.evaluate();
      this.#cancelRecheck = this.#o.clock.setTimer(this.#o.recheckMs, recheck);
    };
    this.#cancelRecheck = this.#o.clock.setTimer(this.#o.recheckMs, recheck);
  }

  /** The block that holds `node` now, if any. */
  blockOf(node: string): CampusBlock | undefined {
    return this.#blocked.get(node);
  }

  get blocked(): ReadonlyMap<string, CampusBlock> {
    return this.#blocked;
  }

  state(): BlackholeState {
    const campuses = new Map<string, CampusBlock>();
    for (const b of this.#blocked.values()) campuses.set(b.campus, b);
    return {
      campuses: [...campuses.values()]
        .sort((a, b) => a.campus.localeCompare(b.campus))
        .map((b) => ({
          campus: b.campus,
          reason: b.reason,
          by: b.by,
          until: b.until.toISOString().replace(/\.\d{3}Z$/, 'Z'),
        })),
      nodes: [...this.#blocked.keys()].sort(),
    };
  }

  /** Computes the blocked nodes now, reports those that changed and sets the timer of the next lift. */
  evaluate(): void {
    if (this.#stopped) return;
    const now = new Date(this.#o.clock.now());
    const campuses = this.#o.campuses.store.list();
    const nodes = this.#o.nodes.store.list().filter(isSimulatedNode);
    const next = blackholedNodes(nodes, campuses, now);
    const changed = new Set<string>();
    for (const n of new Set([...this.#blocked.keys(), ...next.keys()])) {
      const a = this.#blocked.get(n);
      const b = next.get(n);
      if ((a && blockMessage(a)) !== (b && blockMessage(b))) changed.add(n);
    }
    this.#blocked = next;
    this.#cancelLift?.();
    const lift = nextLiftIn(campuses, now);
    // at `until` itself the block no longer holds (shieldState): the timer lands on the lift
    this.#cancelLift =
      lift === undefined ? undefined : this.#o.clock.setTimer(lift, () => this.evaluate());
    if (changed.size === 0) return;
    const s = this.state();
    this.#o.log.info('blackholes changed', {
      campuses: s.campuses,
      nodes: s.nodes,
      changed: [...changed].sort(),
    });
    this.#o.changed(changed);
  }

  stop(): void {
    this.#stopped = true;
    this.#cancelLift?.();
    this.#cancelRecheck?.();
    for (const u of this.#unsubscribe) u();
    this.#blocked = new Map();
  }
}
