// Building etcd transactions and reading their answers, and the
// compare-and-swap loop every read-modify-write of the store runs in: read,
// write guarded by the mod revision read, and on a lost race read again (with
// a short random backoff) until it wins or gives up with `contention`.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Etcd, KeyValue, RangeResult, RequestOp, TxnResult } from './etcd.ts';
import type { keyspace } from './keys.ts';
import { StoreError } from './store-error.ts';

export function parse<T>(kv: KeyValue | undefined): T | undefined {
  if (!kv) return undefined;
  try {
    return JSON.parse(kv.value) as T;
  } catch {
    return undefined;
  }
}

export const put = (key: string, value: unknown, lease?: string): RequestOp => ({
  put: {
    key,
    value: typeof value === 'string' ? value : JSON.stringify(value),
    ...(lease ? { lease } : {}),
  },
});
export const get = (key: string): RequestOp => ({ range: { key } });

/** The i-th answer of a transaction as a range (empty when it was not one). */
export function rangeAt(t: TxnResult, i: number): RangeResult {
  const r = t.responses[i];
  return r?.kind === 'range' ? r.range : { kvs: [], count: 0, more: false, revision: t.revision };
}

/** Runs `attempt` until it returns a value; `undefined` means "lost a race, read again". */
export type Cas = <T>(op: string, attempt: () => Promise<T | undefined>) => Promise<T>;

export function casLoop(attempts: number, onRetry?: (op: string) => void): Cas {
  return async (op, attempt) => {
    for (let i = 0; i < attempts; i++) {
      const r = await attempt();
      if (r !== undefined) return r;
      onRetry?.(op);
      await sleep(Math.random() * Math.min(50, 2 ** i));
    }
    throw new StoreError(
      'contention',
      `${op}: ${attempts} compare-and-swap attempts lost to concurrent writers`,
    );
  };
}

/** What every part of the store works with. */
export interface StoreContext {
  readonly etcd: Etcd;
  readonly k: ReturnType<typeof keyspace>;
  readonly now: () => number;
  readonly cas: Cas;
}
