// Owner references: the link that lets the garbage collector delete what a
// controller created when its owner goes, and lets the controller map an
// event on an owned object back to the owner's key.
import type { KubeObject, OwnerReference } from './object.ts';
import { objectKey } from './object.ts';
import { groupOf } from './resource.ts';
import type { ResourceType } from './resource.ts';

export interface OwnerReferenceOptions {
  /** This owner is the managing controller (at most one per object). Default true. */
  readonly controller?: boolean;
  /** Foreground deletion of the owner waits for this object. Default true. */
  readonly blockOwnerDeletion?: boolean;
}

/** An ownerReference to `owner`, which must have been read from the API (it needs a uid). */
export function ownerReference(
  owner: KubeObject,
  opts: OwnerReferenceOptions = {},
): OwnerReference {
  const { apiVersion, kind } = owner;
  const name = owner.metadata?.name;
  const uid = owner.metadata?.uid;
  if (!apiVersion || !kind || !name || !uid) {
    throw new TypeError(
      `an owner needs apiVersion, kind, metadata.name and metadata.uid; got ${apiVersion}/${kind} ${name} uid=${uid}`,
    );
  }
  return {
    apiVersion,
    kind,
    name,
    uid,
    controller: opts.controller ?? true,
    blockOwnerDeletion: opts.blockOwnerDeletion ?? true,
  };
}

/** The reference to the object's managing controller, if any. */
export function controllerOf(obj: KubeObject): OwnerReference | undefined {
  return obj.metadata?.ownerReferences?.find((r) => r.controller === true);
}

export function isControlledBy(obj: KubeObject, owner: KubeObject): boolean {
  const ref = controllerOf(obj);
  return ref !== undefined && ref.uid === owner.metadata?.uid;
}

/** Raised when an object already has another managing controller. */
export class AlreadyOwnedError extends Error {
  constructor(obj: KubeObject, ref: OwnerReference) {
    super(
      `${obj.kind ?? 'object'} ${obj.metadata?.name} is already controlled by ${ref.kind} ${ref.name}`,
    );
    this.name = 'AlreadyOwnedError';
  }
}

/**
 * `obj` with `owner` as its managing controller (a copy; `obj` is not
 * changed). A namespaced owner must be in the object's namespace: the garbage
 * collector ignores references across namespaces.
 */
export function withControllerReference<T extends KubeObject>(obj: T, owner: KubeObject): T {
  const ownerNs = owner.metadata?.namespace;
  if (ownerNs && ownerNs !== obj.metadata?.namespace) {
    throw new TypeError(
      `an owner in namespace ${ownerNs} cannot own an object in ${obj.metadata?.namespace ?? 'cluster scope'}`,
    );
  }
  const ref = ownerReference(owner);
  const existing = controllerOf(obj);
  if (existing && existing.uid !== ref.uid) throw new AlreadyOwnedError(obj, existing);
  const others = (obj.metadata?.ownerReferences ?? []).filter((r) => r.uid !== ref.uid);
  return { ...obj, metadata: { ...obj.metadata, ownerReferences: [...others, ref] } };
}

/**
 * The work-queue key of the owner of `obj` of kind `ownerType`, if its
 * managing controller is one (a cluster-scoped owner's key is its name).
 */
export function ownerKey(obj: KubeObject, ownerType: ResourceType): string | undefined {
  const ref = controllerOf(obj);
  if (!ref || ref.kind !== ownerType.kind || groupOf(ref.apiVersion) !== ownerType.group) {
    return undefined;
  }
  return objectKey(ownerType.namespaced ? obj.metadata?.namespace : undefined, ref.name);
}
