// The store's refusals: a kind the storage app maps to a status, and a
// message saying what was refused.

export const storeErrorKinds = [
  'conflict',
  'not-found',
  'out-of-order',
  'unauthenticated',
  'contention',
] as const;
export type StoreErrorKind = (typeof storeErrorKinds)[number];

/** A refusal with a reason; the storage app maps the kind to a status. */
export class StoreError extends Error {
  readonly kind: StoreErrorKind;
  constructor(kind: StoreErrorKind, message: string) {
    super(message);
    this.name = 'StoreError';
    this.kind = kind;
  }
}
