// The shape the runtime needs of any Kubernetes object, as it arrives in JSON
// from the API server. Kept structural so that client-node's types and the
// generated types of crds/ both fit.

export interface OwnerReference {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly uid: string;
  readonly controller?: boolean;
  readonly blockOwnerDeletion?: boolean;
}

export interface ObjectMeta {
  readonly name?: string;
  readonly generateName?: string;
  readonly namespace?: string;
  readonly uid?: string;
  readonly resourceVersion?: string;
  readonly generation?: number;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly finalizers?: readonly string[];
  readonly ownerReferences?: readonly OwnerReference[];
  readonly creationTimestamp?: string | Date;
  readonly deletionTimestamp?: string | Date;
}

export interface KubeObject {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata?: ObjectMeta;
}

/**
 * The cache and work-queue key of an object: `namespace/name`, or `name` for
 * cluster-scoped objects (client-go's MetaNamespaceKeyFunc).
 */
export function objectKey(namespace: string | undefined, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

export function keyOf(obj: KubeObject): string {
  const name = obj.metadata?.name;
  if (!name)
    throw new TypeError(`object has no metadata.name: ${JSON.stringify(obj).slice(0, 200)}`);
  return objectKey(obj.metadata?.namespace, name);
}

export function splitKey(key: string): { readonly namespace?: string; readonly name: string } {
  const i = key.indexOf('/');
  return i < 0 ? { name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

/** Freezes a JSON object and everything in it: cached objects are shared. */
export function deepFreeze<T>(v: T): T {
  if (v !== null && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const child of Object.values(v)) deepFreeze(child);
  }
  return v;
}

/** Structural equality of JSON values (key order ignored). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  }
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  return (
    ka.length === kb.length &&
    ka.every((k) => jsonEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
  );
}

/** JSON with object keys sorted and undefined members dropped: equal objects give equal text. */
export function canonicalJson(v: unknown): string {
  const canonical = (x: unknown): unknown => {
    if (Array.isArray(x)) return x.map(canonical);
    if (x && typeof x === 'object' && !(x instanceof Date)) {
      return Object.fromEntries(
        Object.entries(x as Record<string, unknown>)
          .filter(([, y]) => y !== undefined)
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
          .map(([k, y]) => [k, canonical(y)]),
      );
    }
    return x;
  };
  return JSON.stringify(canonical(v));
}

/**
 * Whether `actual` holds everything `wanted` says: every member of an object
 * (more in `actual` is fine: server defaults, other managers' fields), arrays
 * of the same length holding their counterparts in order, equal scalars.
 */
export function contains(actual: unknown, wanted: unknown): boolean {
  if (wanted === undefined || actual === wanted) return true;
  if (wanted instanceof Date || actual instanceof Date) {
    return new Date(actual as string).getTime() === new Date(wanted as string).getTime();
  }
  if (typeof wanted !== 'object' || wanted === null) return false;
  if (typeof actual !== 'object' || actual === null) return false;
  if (Array.isArray(wanted)) {
    return (
      Array.isArray(actual) &&
      actual.length === wanted.length &&
      wanted.every((w, i) => contains(actual[i], w))
    );
  }
  if (Array.isArray(actual)) return false;
  return Object.entries(wanted as Record<string, unknown>).every(([k, w]) =>
    contains((actual as Record<string, unknown>)[k], w),
  );
}
