// Server-side apply: a controller sends the whole of what it wants, under its
// field manager, and the API server merges it, tracking which fields are
// whose. Idempotent (applying the same object again changes nothing, not even
// the resourceVersion, so it wakes no watcher), and free of read-modify-write
// races. `force` takes fields over from other managers: the controller is the
// authority on what it applies.
//
// Status goes through the status subresource. Applying status is the answer
// to status write conflicts: no resourceVersion precondition, so no 409 when
// the object moved since we read it, and only our own fields are touched.
import { PatchStrategy } from '@kubernetes/client-node';
import { createHash } from 'node:crypto';
import { canonicalJson, contains } from './object.ts';
import type { KubeObject } from './object.ts';
import { apiVersionOf } from './resource.ts';
import type { ResourceType } from './resource.ts';
import type { RestClient } from './rest.ts';

export interface ApplyOptions {
  /** Who owns the applied fields, e.g. `yard-imservice-controller`. */
  readonly fieldManager: string;
  /** Take over fields other managers own (default true). */
  readonly force?: boolean;
  readonly dryRun?: boolean;
  readonly signal?: AbortSignal;
}

/** An object to apply: kind and apiVersion are filled in from the type if missing. */
export type Applied<T extends KubeObject> = T & { readonly metadata: { readonly name: string } };

function applyBody<T extends KubeObject>(type: ResourceType, obj: T): T {
  const name = obj.metadata?.name;
  if (!name) throw new TypeError(`cannot apply a ${type.kind} without metadata.name`);
  if (type.namespaced && !obj.metadata?.namespace) {
    throw new TypeError(`cannot apply ${type.kind} ${name} without metadata.namespace`);
  }
  // the server refuses managedFields in an apply; a resourceVersion would
  // turn the apply into a conditional write, which is not what apply is for
  const {
    managedFields: _m,
    resourceVersion: _rv,
    ...metadata
  } = obj.metadata as Record<string, unknown>;
  return {
    ...obj,
    apiVersion: obj.apiVersion ?? apiVersionOf(type),
    kind: obj.kind ?? type.kind,
    metadata,
  };
}

function applyQuery(opts: ApplyOptions): Record<string, string | boolean | undefined> {
  return {
    fieldManager: opts.fieldManager,
    force: opts.force ?? true,
    dryRun: opts.dryRun ? 'All' : undefined,
  };
}

/** Applies `desired` (any kind) and returns the object as stored. */
export function apply<T extends KubeObject>(
  rest: RestClient,
  type: ResourceType,
  desired: T,
  opts: ApplyOptions,
): Promise<T> {
  const body = applyBody(type, desired);
  return rest.patch<T>(
    type,
    { namespace: body.metadata?.namespace, name: body.metadata?.name ?? '' },
    body,
    PatchStrategy.ServerSideApply,
    { query: applyQuery(opts), ...(opts.signal ? { signal: opts.signal } : {}) },
  );
}

/**
 * Applies the `status` of `obj` through the status subresource (only name,
 * namespace and status are sent) and returns the object as stored.
 */
export function applyStatus<T extends KubeObject & { readonly status?: unknown }>(
  rest: RestClient,
  type: ResourceType,
  obj: T,
  opts: ApplyOptions,
): Promise<T> {
  const name = obj.metadata?.name;
  const namespace = obj.metadata?.namespace;
  const body = applyBody(type, {
    apiVersion: obj.apiVersion ?? apiVersionOf(type),
    kind: obj.kind ?? type.kind,
    metadata: { name, ...(namespace ? { namespace } : {}) },
    status: obj.status,
  } as KubeObject);
  return rest.patch<T>(type, { namespace, name: name ?? '' }, body, PatchStrategy.ServerSideApply, {
    query: applyQuery(opts),
    subresource: 'status',
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
}

export interface PatchOptions {
  /** Only if the object is still at this resourceVersion (409 otherwise). */
  readonly resourceVersion?: string;
  readonly fieldManager?: string;
  readonly signal?: AbortSignal;
}

/**
 * A JSON merge patch of the status subresource, for the odd status field that
 * apply cannot express (e.g. removing a key someone else set).
 */
export function patchStatus<T extends KubeObject>(
  rest: RestClient,
  type: ResourceType,
  target: { readonly namespace?: string | undefined; readonly name: string },
  status: unknown,
  opts: PatchOptions = {},
): Promise<T> {
  return mergePatch<T>(rest, type, target, { status }, { ...opts, subresource: 'status' });
}

/** A JSON merge patch, conditional on `resourceVersion` when given. */
export function mergePatch<T extends KubeObject>(
  rest: RestClient,
  type: ResourceType,
  target: { readonly namespace?: string | undefined; readonly name: string },
  patch: Record<string, unknown>,
  opts: PatchOptions & { readonly subresource?: string } = {},
): Promise<T> {
  const meta = (patch['metadata'] ?? {}) as Record<string, unknown>;
  const body = opts.resourceVersion
    ? { ...patch, metadata: { ...meta, resourceVersion: opts.resourceVersion } }
    : patch;
  return rest.patch<T>(type, target, body, PatchStrategy.MergePatch, {
    query: { fieldManager: opts.fieldManager },
    ...(opts.subresource ? { subresource: opts.subresource } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
}

/** The annotation holding the hash of what a controller last applied. */
export const appliedHashAnnotation = 'yard.dev/applied-hash';

/** A short hash of an object as a controller would apply it (the annotation itself left out). */
export function appliedHash(desired: KubeObject): string {
  const { [appliedHashAnnotation]: _h, ...annotations } = desired.metadata?.annotations ?? {};
  const body = { ...desired, metadata: { ...desired.metadata, annotations } };
  return createHash('sha256').update(canonicalJson(body)).digest('hex').slice(0, 16);
}

/**
 * Whether applying `desired` would change nothing: `existing` (from a cache)
 * carries the hash of this same desired object — so no field we applied
 * before has since been dropped from it — and still holds every field of it,
 * so nobody changed one of ours since.
 */
export function upToDate(desired: KubeObject, existing: KubeObject | undefined): boolean {
  if (!existing) return false;
  if (existing.metadata?.annotations?.[appliedHashAnnotation] !== appliedHash(desired))
    return false;
  const { [appliedHashAnnotation]: _h, ...annotations } = desired.metadata?.annotations ?? {};
  // list items from a cache may lack apiVersion and kind; the hash covers them
  const { apiVersion: _v, kind: _k, ...rest } = desired;
  return contains(existing, { ...rest, metadata: { ...desired.metadata, annotations } });
}

/**
 * Server-side apply, skipped when the cached `existing` shows it would change
 * nothing (`upToDate`): a level-based controller that reconciles on every
 * status change of what it owns would otherwise send the same objects again
 * and again. The applied object carries its hash in `yard.dev/applied-hash`.
 * Returns whether it wrote.
 */
export async function applyIfChanged<T extends KubeObject>(
  rest: RestClient,
  type: ResourceType,
  desired: T,
  existing: KubeObject | undefined,
  opts: ApplyOptions,
): Promise<boolean> {
  if (upToDate(desired, existing)) return false;
  const hashed = {
    ...desired,
    metadata: {
      ...desired.metadata,
      annotations: {
        ...desired.metadata?.annotations,
        [appliedHashAnnotation]: appliedHash(desired),
      },
    },
  };
  await apply(rest, type, hashed, opts);
  return true;
}
