// What one kind of the API is, beyond its schema: names, scope, columns.
import type { ObjectNode, Rule, StringNode } from './schema.ts';

export const yardGroup = 'yard.dev';
export const yardVersion = 'v1alpha1';
/** `kubectl get yard` lists every kind in this category. */
export const yardCategory = 'yard';

export const columnTypes = ['string', 'integer', 'number', 'boolean', 'date'] as const;
export type ColumnType = (typeof columnTypes)[number];

export interface PrinterColumn {
  readonly name: string;
  readonly type: ColumnType;
  readonly jsonPath: string;
  readonly description: string;
  /** 0 shows in `kubectl get`; 1 only with `-o wide`. */
  readonly priority?: number;
}

export interface KindSource {
  readonly kind: string;
  readonly plural: string;
  readonly singular: string;
  readonly shortNames: readonly string[];
  readonly scope: 'Cluster' | 'Namespaced';
  /** What one object of this kind is: the top of `kubectl explain <kind>`. */
  readonly description: string;
  readonly spec: ObjectNode;
  readonly status: ObjectNode;
  /** Constraints on metadata.name, when the name is used as a label value or a Service name. */
  readonly name?: StringNode;
  /** Rules on the whole object: they may read metadata.name. */
  readonly rules?: readonly Rule[];
  /** Columns of `kubectl get`, before the Age column every kind gets. */
  readonly printerColumns: readonly PrinterColumn[];
  /** The condition types its controller writes (`kubectl wait --for=condition=<type>`). */
  readonly conditionTypes: readonly string[];
  /** Why this file exists, for the header of the generated YAML. */
  readonly source: string;
}

/** The `.status.conditions[...]` JSONPath of one condition's status, for a printer column. */
export const conditionStatus = (type: string): string =>
  `.status.conditions[?(@.type=="${type}")].status`;

export const ageColumn: PrinterColumn = {
  name: 'Age',
  type: 'date',
  jsonPath: '.metadata.creationTimestamp',
  description: 'How long ago the object was created.',
};
