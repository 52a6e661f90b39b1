// Finalizers: a controller that must clean up outside the object's own
// children (node taints, a campus shield) adds one, and removes it only after
// the clean-up. Changes are merge patches conditional on the resourceVersion
// the caller read: the finalizer list is replaced whole, so a concurrent
// change by someone else must fail (409, retried by the reconcile) rather
// than be overwritten.
import { mergePatch } from './apply.ts';
import type { KubeObject } from './object.ts';
import type { ResourceType } from './resource.ts';
import type { RestClient } from './rest.ts';

export function hasFinalizer(obj: KubeObject, finalizer: string): boolean {
  return obj.metadata?.finalizers?.includes(finalizer) ?? false;
}

/** The object is being deleted (and waits for its finalizers). */
export function isDeleting(obj: KubeObject): boolean {
  return obj.metadata?.deletionTimestamp !== undefined && obj.metadata.deletionTimestamp !== null;
}

async function setFinalizers<T extends KubeObject>(
  rest: RestClient,
  type: ResourceType,
  obj: T,
  finalizers: readonly string[],
): Promise<T> {
  const name = obj.metadata?.name;
  if (!name) throw new TypeError(`${type.kind} has no metadata.name`);
  const rv = obj.metadata?.resourceVersion;
  return mergePatch<T>(
    rest,
    type,
    { namespace: obj.metadata?.namespace, name },
    { metadata: { finalizers } },
    rv ? { resourceVersion: rv } : {},
  );
}

/** Adds `finalizer` unless present; returns the object as stored (or `obj` if unchanged). */
export function addFinalizer<T extends KubeObject>(
  rest: RestClient,
  type: ResourceType,
  obj: T,
  finalizer: string,
): Promise<T> {
  if (hasFinalizer(obj, finalizer)) return Promise.resolve(obj);
  return setFinalizers(rest, type, obj, [...(obj.metadata?.finalizers ?? []), finalizer]);
}

/** Removes `finalizer` if present; returns the object as stored (or `obj` if unchanged). */
export function removeFinalizer<T extends KubeObject>(
  rest: RestClient,
  type: ResourceType,
  obj: T,
  finalizer: string,
): Promise<T> {
  if (!hasFinalizer(obj, finalizer)) return Promise.resolve(obj);
  const rest_ = (obj.metadata?.finalizers ?? []).filter((f) => f !== finalizer);
  return setFinalizers(rest, type, obj, rest_);
}
