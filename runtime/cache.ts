// The informer's store: the last known state of every object, keyed
// `namespace/name`, with optional secondary indexes (client-go's Indexer).
// Objects are frozen on the way in: they are shared by every controller that
// reads them, and a reconcile that mutated one would corrupt all the others.
import { deepFreeze, keyOf } from './object.ts';
import type { KubeObject } from './object.ts';

/** The index values of an object, e.g. its node name or owner's uid. */
export type IndexFunc<T> = (obj: T) => readonly string[];

/** What a relist changed, to be told to handlers as adds, updates and deletes. */
export interface ReplaceResult<T> {
  readonly added: readonly T[];
  readonly updated: readonly { readonly old: T; readonly obj: T }[];
  readonly deleted: readonly T[];
}

/** The read side, which is all that controllers get. */
export interface StoreReader<T> {
  get(key: string): T | undefined;
  list(): T[];
  keys(): string[];
  readonly size: number;
  /** Objects whose index `index` includes `value`. */
  byIndex(index: string, value: string): T[];
}

/** Every store has this index: the objects of one namespace. */
export const namespaceIndex = 'namespace';

export class Store<T extends KubeObject> implements StoreReader<T> {
  readonly #items = new Map<string, T>();
  readonly #indexers = new Map<string, IndexFunc<T>>();
  readonly #indices = new Map<string, Map<string, Set<string>>>();

  constructor(indexers: Readonly<Record<string, IndexFunc<T>>> = {}) {
    this.addIndexers({ [namespaceIndex]: (o) => [o.metadata?.namespace ?? ''], ...indexers });
  }

  /** Adds indexes, indexing what is already stored. A name may be added once. */
  addIndexers(indexers: Readonly<Record<string, IndexFunc<T>>>): void {
    for (const [name, fn] of Object.entries(indexers)) {
      if (this.#indexers.has(name)) throw new Error(`index ${name} already exists`);
      this.#indexers.set(name, fn);
      this.#indices.set(name, new Map());
      for (const [key, obj] of this.#items) this.#index(name, fn, key, obj);
    }
  }

  hasIndex(name: string): boolean {
    return this.#indexers.has(name);
  }

  get size(): number {
    return this.#items.size;
  }

  get(key: string): T | undefined {
    return this.#items.get(key);
  }

  list(): T[] {
    return [...this.#items.values()];
  }

  keys(): string[] {
    return [...this.#items.keys()];
  }

  byIndex(index: string, value: string): T[] {
    const idx = this.#indices.get(index);
    if (!idx) throw new Error(`no index named ${index}`);
    const keys = idx.get(value);
    return keys ? [...keys].flatMap((k) => this.#items.get(k) ?? []) : [];
  }

  /** Stores `obj` and returns what it replaced, if anything. */
  upsert(obj: T): T | undefined {
    const key = keyOf(obj);
    const old = this.#items.get(key);
    if (old) this.#unindex(key, old);
    this.#items.set(key, deepFreeze(obj));
    for (const [name, fn] of this.#indexers) this.#index(name, fn, key, obj);
    return old;
  }

  /** Removes and returns the object under `key`, if any. */
  remove(key: string): T | undefined {
    const old = this.#items.get(key);
    if (!old) return undefined;
    this.#unindex(key, old);
    this.#items.delete(key);
    return old;
  }

  /**
   * Makes the store hold exactly `objs` (a fresh list) and says what changed.
   * An object whose resourceVersion did not change is not reported.
   */
  replace(objs: readonly T[]): ReplaceResult<T> {
    const seen = new Set<string>();
    const added: T[] = [];
    const updated: { old: T; obj: T }[] = [];
    for (const obj of objs) {
      seen.add(keyOf(obj));
      const old = this.upsert(obj);
      if (!old) added.push(obj);
      else if (old.metadata?.resourceVersion !== obj.metadata?.resourceVersion) {
        updated.push({ old, obj });
      }
    }
    const deleted: T[] = [];
    for (const key of this.keys()) {
      if (seen.has(key)) continue;
      const old = this.remove(key);
      if (old) deleted.push(old);
    }
    return { added, updated, deleted };
  }

  #index(name: string, fn: IndexFunc<T>, key: string, obj: T): void {
    const idx = this.#indices.get(name);
    if (!idx) return;
    for (const value of fn(obj)) {
      let keys = idx.get(value);
      if (!keys) idx.set(value, (keys = new Set()));
      keys.add(key);
    }
  }

  #unindex(key: string, obj: T): void {
    for (const [name, fn] of this.#indexers) {
      const idx = this.#indices.get(name);
      for (const value of fn(obj)) {
        const keys = idx?.get(value);
        keys?.delete(key);
        if (keys?.size === 0) idx?.delete(value);
      }
    }
  }
}
