// Event filters: which changes of a watched object are worth a reconcile.
// The one that matters most: a controller's own status writes must not wake
// it up again (a reconcile storm). With a status subresource, a status write
// changes neither metadata.generation nor labels nor annotations, so the
// default filter of a primary kind drops it.
import { jsonEqual } from './object.ts';
import type { KubeObject } from './object.ts';

/** A method left out lets every event of that kind through. */
export interface Predicate<T extends KubeObject = KubeObject> {
  readonly name: string;
  create?(obj: T): boolean;
  update?(old: T, obj: T): boolean;
  delete?(obj: T): boolean;
}

/** An update predicate that passes when `select` of the object changed. */
export function changed<T extends KubeObject>(
  name: string,
  select: (obj: T) => unknown,
): Predicate<T> {
  return { name, update: (old, obj) => !jsonEqual(select(old), select(obj)) };
}

/** The spec changed (metadata.generation moved). Kinds without a generation never pass. */
export const generationChanged: Predicate = changed('generation', (o) => o.metadata?.generation);
export const labelsChanged: Predicate = changed('labels', (o) => o.metadata?.labels ?? {});
export const annotationsChanged: Predicate = changed(
  'annotations',
  (o) => o.metadata?.annotations ?? {},
);
export const finalizersChanged: Predicate = changed(
  'finalizers',
  (o) => o.metadata?.finalizers ?? [],
);
/** Deletion started (or, oddly, was undone). */
export const deletionTimestampChanged: Predicate = changed(
  'deletionTimestamp',
  (o) => o.metadata?.deletionTimestamp ?? null,
);
/** Anything at all changed: drops only relist echoes of an unchanged object. */
export const resourceVersionChanged: Predicate = changed(
  'resourceVersion',
  (o) => o.metadata?.resourceVersion,
);

function combine<T extends KubeObject>(
  how: 'anyOf' | 'allOf',
  preds: readonly Predicate<T>[],
): Predicate<T> {
  const test = (f: (p: Predicate<T>) => boolean): boolean =>
    how === 'anyOf' ? preds.some(f) : preds.every(f);
  return {
    name: `${how}(${preds.map((p) => p.name).join(', ')})`,
    create: (obj) => test((p) => p.create?.(obj) ?? true),
    delete: (obj) => test((p) => p.delete?.(obj) ?? true),
    update: (old, obj) => test((p) => p.update?.(old, obj) ?? true),
  };
}

/** Passes when any of `preds` passes (for each event kind). */
export const anyOf = <T extends KubeObject>(...preds: readonly Predicate<T>[]): Predicate<T> =>
  combine('anyOf', preds);

/** Passes when every one of `preds` passes. */
export const allOf = <T extends KubeObject>(...preds: readonly Predicate<T>[]): Predicate<T> =>
  combine('allOf', preds);

/**
 * The default filter of a controller's primary kind: enqueue on update only
 * when the spec (generation), labels, annotations, deletionTimestamp or
 * finalizers changed; status-only changes (ours included) are dropped.
 * Kinds without a generation (ConfigMap, Secret) need a `changed('data', …)`
 * of their own next to it.
 */
export const defaultPrimaryPredicate: Predicate = anyOf(
  generationChanged,
  labelsChanged,
  annotationsChanged,
  deletionTimestampChanged,
  finalizersChanged,
);

/**
 * The default filter of owned and mapped kinds: every real change (a
 * Deployment's status is exactly what its owner's status is made of).
 */
export const defaultOwnedPredicate: Predicate = resourceVersionChanged;

export type EventKind = 'create' | 'update' | 'delete';

/** Whether an event passes all of `preds`. */
export function passes<T extends KubeObject>(
  preds: readonly Predicate<T>[],
  kind: EventKind,
  obj: T,
  old?: T,
): boolean {
  return preds.every((p) => {
    if (kind === 'update') return p.update?.(old ?? obj, obj) ?? true;
    return p[kind]?.(obj) ?? true;
  });
}
