// Boxes (inboxes and Moments timelines): append once per (sender, message
// id) under the next sequence number, read after a sequence number at one
// revision, trim what a snapshot proved delivered, and watch a user for
// changes. The head and trim counters are compare-and-swapped; this process
// remembers the last ones it saw, so the common case is one transaction.
import { fingerprint } from '../shared/im.ts';
import type { Box, BoxItem, Message } from '../shared/im.ts';
import { absent, modIs } from './etcd.ts';
import type { Compare, KeyValue } from './etcd.ts';
import { StoreError } from './store-error.ts';
import { get, parse, put, rangeAt } from './txn.ts';
import type { StoreContext } from './txn.ts';

export interface BoxRead {
  readonly head: number;
  readonly trimmedThrough: number;
  readonly items: BoxItem[];
  readonly revision: number;
}

/** A box counter (head or trim mark) as last seen: its value and mod revision (0: absent). */
interface Counter {
  readonly value: number;
  readonly rev: number;
}

const counterOf = (kv: KeyValue | undefined): Counter => ({
  value: Number(kv?.value ?? '0'),
  rev: kv?.modRevision ?? 0,
});

/**
 * The last counters this process saw, by key, so an append or a trim can
 * try its compare-and-swap at once instead of reading first. Only a hint: a
 * stale entry makes the transaction fail, and the failure answer carries the
 * fresh value for the next attempt. Bounded: the oldest entries go first.
 */
function counterCache(max: number) {
  const m = new Map<string, Counter>();
  return {
    get: (key: string): Counter | undefined => m.get(key),
    /** Keeps the newer of what is known and `c` (counters only grow). */
    see(key: string, c: Counter): void {
      const known = m.get(key);
      if (known && known.rev >= c.rev) return;
      m.delete(key);
      m.set(key, c);
      if (m.size > max) m.delete(m.keys().next().value ?? '');
    },
  };
}

/** `counterCacheSize`: box counters remembered (0 reads before every append and trim). */
export function boxStore({ etcd, k, cas }: StoreContext, counterCacheSize: number) {
  const counters = counterCache(counterCacheSize);
  const seeCounter = (key: string, kv: KeyValue | undefined): Counter => {
    const c = counterOf(kv);
    if (counterCacheSize > 0) counters.see(key, c);
    return c;
  };

  interface AppendedMark {
    readonly seq: number;
    readonly fp: string;
  }

  /**
   * Appends a message to a box once: the next sequence number, the item and
   * the (sender, id) mark are written in one transaction guarded by the
   * counter's mod revision and the mark's absence. A second append of the
   * same message finds the mark and answers with the first one's sequence.
   * With the counter remembered from an earlier call, that transaction is the
   * only one; a failed one reads the counter and the mark in its failure
   * branch, so the next attempt needs no read either.
   */
  function append(
    box: Box,
    user: string,
    m: Message,
  ): Promise<{ seq: number; duplicate: boolean }> {
    const bk = k.box(box, user);
    const markKey = bk.appended(m.from, m.id);
    const fp = fingerprint(m);
    const duplicateOf = (
      kv: KeyValue | undefined,
    ): { seq: number; duplicate: boolean } | undefined => {
      const mark = parse<AppendedMark>(kv);
      if (!mark) return undefined;
      if (mark.fp !== fp) {
        throw new StoreError(
          'conflict',
          `message id ${m.id} of ${m.from} was already used for another message`,
        );
      }
      return { seq: mark.seq, duplicate: true };
    };
    let known = counterCacheSize > 0 ? counters.get(bk.head) : undefined;
    return cas('append', async () => {
      let head = known;
      known = undefined;
      if (!head) {
        const read = await etcd.txn([], [get(bk.head), get(markKey)]);
        const dup = duplicateOf(rangeAt(read, 1).kvs[0]);
        if (dup) return dup;
        head = seeCounter(bk.head, rangeAt(read, 0).kvs[0]);
      }
      const seq = head.value + 1;
      const item: BoxItem = { ...m, seq };
      const compare: Compare[] = [modIs(bk.head, head.rev), absent(markKey)];
      const t = await etcd.txn(
        compare,
        [
          put(bk.head, String(seq)),
          put(bk.item(seq), item),
          put(markKey, { seq, fp } satisfies AppendedMark),
        ],
        [get(markKey), get(bk.head)],
      );
      if (t.succeeded) {
        if (counterCacheSize > 0) counters.see(bk.head, { value: seq, rev: t.revision });
        return { seq, duplicate: false };
      }
      const dup = duplicateOf(rangeAt(t, 0).kvs[0]);
      if (dup) return dup;
      // lost the counter to another append: the next attempt starts from what it wrote
      known = seeCounter(bk.head, rangeAt(t, 1).kvs[0]);
      return undefined;
    });
  }

  /** Items after `after`, oldest first, read at one revision together with the head and trim mark. */
  async function readBox(box: Box, user: string, after: number, limit: number): Promise<BoxRead> {
    const bk = k.box(box, user);
    const t = await etcd.txn(
      [],
      [
        get(bk.head),
        get(bk.trim),
        { range: { key: bk.item(after + 1), end: `${bk.itemsPrefix}\u007f`, limit } },
      ],
    );
    const head = seeCounter(bk.head, rangeAt(t, 0).kvs[0]).value;
    const trimmedThrough = seeCounter(bk.trim, rangeAt(t, 1).kvs[0]).value;
    const items = rangeAt(t, 2)
      .kvs.map((kv) => parse<BoxItem>(kv))
      .filter((i): i is BoxItem => i !== undefined);
    return { head, trimmedThrough, items, revision: t.revision };
  }

  /**
   * Deletes items up to `through` (proved delivered); never past the head.
   * When this process knows a head at or past `through` (heads only grow) and
   * the trim mark (a sync reads both just before), the guarded write is the
   * only transaction; a failed one reads both in its failure branch.
   */
  function trim(box: Box, user: string, through: number): Promise<{ trimmedThrough: number }> {
    const bk = k.box(box, user);
    const cachedHead = counterCacheSize > 0 ? counters.get(bk.head) : undefined;
    const cachedMark = counterCacheSize > 0 ? counters.get(bk.trim) : undefined;
    let known =
      cachedHead && cachedMark && cachedHead.value >= through && through > cachedMark.value
        ? { head: cachedHead.value, mark: cachedMark }
        : undefined;
    return cas('trim', async () => {
      let state = known;
      known = undefined;
      if (!state) {
        const read = await etcd.txn([], [get(bk.head), get(bk.trim)]);
        state = {
          head: seeCounter(bk.head, rangeAt(read, 0).kvs[0]).value,
          mark: seeCounter(bk.trim, rangeAt(read, 1).kvs[0]),
        };
      }
      if (through > state.head) {
        throw new StoreError(
          'out-of-order',
          `cannot trim through ${through}: the ${box} of ${user} ends at ${state.head}`,
        );
      }
      if (through <= state.mark.value) return { trimmedThrough: state.mark.value };
      const t = await etcd.txn(
        [modIs(bk.trim, state.mark.rev)],
        [
          put(bk.trim, String(through)),
          { deleteRange: { key: bk.item(0), end: bk.item(through + 1) } },
        ],
        [get(bk.head), get(bk.trim)],
      );
      if (t.succeeded) {
        if (counterCacheSize > 0) counters.see(bk.trim, { value: through, rev: t.revision });
        return { trimmedThrough: through };
      }
      // another trim won: decide again on what the failure branch read
      known = {
        head: seeCounter(bk.head, rangeAt(t, 0).kvs[0]).value,
        mark: seeCounter(bk.trim, rangeAt(t, 1).kvs[0]),
      };
      return undefined;
    });
  }

  function watchUser(
    user: string,
    afterRevision: number,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<{ changed: boolean }> {
    return etcd.watch({
      key: k.user(user),
      prefix: true,
      afterRevision,
      timeoutMs,
      ...(signal ? { signal } : {}),
    });
  }

  return { append, readBox, trim, watchUser };
}
