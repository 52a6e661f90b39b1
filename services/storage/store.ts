// The data-access layer over etcd: accounts and payments (accounts.ts),
// contacts and groups (contacts.ts), boxes — inboxes and Moments timelines
// (boxes.ts) — and the diffusion queue (queue.ts). Every read-modify-write is
// a compare-and-swap on the mod revision of the key it read, retried on
// conflict (txn.ts), so concurrent writers (two logic instances, two storage
// instances, a retry after a lost answer) never lose an update; every append
// is keyed by (sender, message id), so it happens at most once per box.
import { accountStore } from './accounts.ts';
import { boxStore } from './boxes.ts';
import { contactStore } from './contacts.ts';
import type { Etcd } from './etcd.ts';
import { keyspace } from './keys.ts';
import { queueStore } from './queue.ts';
import { casLoop } from './txn.ts';

export { StoreError, storeErrorKinds } from './store-error.ts';
export type { StoreErrorKind } from './store-error.ts';
export type { BoxRead } from './boxes.ts';
export type { ClaimedJob, Job } from './queue.ts';

export interface StoreOptions {
  readonly prefix: string;
  /** scrypt's N: 16384 in production; tests lower it to save CPU. */
  readonly passwordCost?: number;
  readonly now?: () => number;
  /** Compare-and-swap attempts before giving up with `contention`. */
  readonly casAttempts?: number;
  readonly onCasRetry?: (op: string) => void;
  /** Box counters remembered (default 65,536); 0 reads before every append and trim. */
  readonly counterCacheSize?: number;
}

export function createStore(etcd: Etcd, opts: StoreOptions) {
  const k = keyspace(opts.prefix);
  const ctx = {
    etcd,
    k,
    now: opts.now ?? Date.now,
    cas: casLoop(opts.casAttempts ?? 50, opts.onCasRetry),
  };
  return {
    keys: k,
    ...accountStore(ctx, opts.passwordCost ?? 16384),
    ...contactStore(ctx),
    ...boxStore(ctx, opts.counterCacheSize ?? 65_536),
    ...queueStore(ctx),
  };
}

export type Store = ReturnType<typeof createStore>;
