// The small DSL the API is written in. A node describes one field once, and
// from it come both the OpenAPI v3 schema of the CRD (`toOpenApi`) and the
// TypeScript type (`./render.ts`), so the two cannot drift. Pure: no I/O.
//
// Messages of CEL rules may say `{self}` (the path of the field the rule is
// on, e.g. `spec.rollout`) and `{field}` (that path plus the rule's
// fieldPath), so a shared helper still names the exact field it guards.

export type Json = null | boolean | number | string | readonly Json[] | JsonObject;
export interface JsonObject {
  readonly [key: string]: Json;
}

export const ruleReasons = [
  'FieldValueInvalid',
  'FieldValueForbidden',
  'FieldValueRequired',
  'FieldValueDuplicate',
] as const;
export type RuleReason = (typeof ruleReasons)[number];

/** One `x-kubernetes-validations` entry. */
export interface Rule {
  readonly rule: string;
  /** What to fix; `{self}` and `{field}` become field paths. */
  readonly message: string;
  /** Relative to the node the rule is on, e.g. `.minAvailable`. */
  readonly fieldPath?: string;
  readonly reason?: RuleReason;
}

interface Common {
  /** What `kubectl explain` shows: meaning, units, an example. */
  readonly description: string;
  readonly default?: Json;
  readonly rules?: readonly Rule[];
  /** Required as a property of its parent object (see `req`). */
  readonly required?: boolean;
}

export const stringFormats = ['date-time', 'byte'] as const;
export type StringFormat = (typeof stringFormats)[number];

export interface StringNode extends Common {
  readonly kind: 'string';
  readonly enum?: readonly string[];
  /** For an enum: the TypeScript union's name and the name of the `as const` list of its values. */
  readonly typeName?: string;
  readonly valuesName?: string;
  /** The named type's own doc comment, when the field's description is about one use of it. */
  readonly typeDescription?: string;
  readonly format?: StringFormat;
  readonly pattern?: string;
  readonly minLength?: number;
  readonly maxLength?: number;
}

export interface IntegerNode extends Common {
  readonly kind: 'integer';
  readonly format: 'int32' | 'int64';
  readonly minimum?: number;
  readonly maximum?: number;
}

/** Only in status: the Kubernetes API conventions keep floats out of specs. */
export interface NumberNode extends Common {
  readonly kind: 'number';
  readonly minimum?: number;
}

export interface BooleanNode extends Common {
  readonly kind: 'boolean';
}

/** Kubernetes' int-or-string: quantities (`4`, `500m`) and counts or percentages (`1`, `25%`). */
export interface IntOrStringNode extends Common {
  readonly kind: 'int-or-string';
}

export interface ObjectNode extends Common {
  readonly kind: 'object';
  readonly properties: Readonly<Record<string, Node>>;
  /** Emit a named interface instead of an inline type. */
  readonly typeName?: string;
  /** The named type's own doc comment, when the field's description is about one use of it. */
  readonly typeDescription?: string;
  /** Use this type from @kubernetes/client-node instead of deriving one (e.g. V1PodTemplateSpec). */
  readonly clientType?: string;
  /** Keep fields the schema does not list (an embedded pod template). */
  readonly preserveUnknownFields?: boolean;
}

export interface MapNode extends Common {
  readonly kind: 'map';
  readonly values: Node;
  readonly maxProperties?: number;
}

export const listTypes = ['atomic', 'set', 'map'] as const;
export type ListType = (typeof listTypes)[number];

export interface ArrayNode extends Common {
  readonly kind: 'array';
  readonly items: Node;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly listType?: ListType;
  readonly listMapKeys?: readonly string[];
}

export type Node =
  | StringNode
  | IntegerNode
  | NumberNode
  | BooleanNode
  | IntOrStringNode
  | ObjectNode
  | MapNode
  | ArrayNode;

type Options<N extends Node> = Omit<N, 'kind' | 'description' | 'required'>;

export const str = (description: string, o: Options<StringNode> = {}): StringNode => ({
  kind: 'string',
  description,
  ...o,
});

/** A closed set of strings; with `typeName` it becomes a named union in TypeScript. */
export const enumOf = <const V extends readonly string[]>(
  values: V,
  description: string,
  o: Omit<Options<StringNode>, 'enum'> = {},
): StringNode => ({ kind: 'string', description, enum: values, ...o });

export const int32 = (description: string, o: Omit<Options<IntegerNode>, 'format'> = {}) =>
  ({ kind: 'integer', format: 'int32', description, ...o }) satisfies IntegerNode;

export const int64 = (description: string, o: Omit<Options<IntegerNode>, 'format'> = {}) =>
  ({ kind: 'integer', format: 'int64', description, ...o }) satisfies IntegerNode;

export const num = (description: string, o: Options<NumberNode> = {}): NumberNode => ({
  kind: 'number',
  description,
  ...o,
});

export const bool = (description: string, o: Options<BooleanNode> = {}): BooleanNode => ({
  kind: 'boolean',
  description,
  ...o,
});

export const intOrString = (
  description: string,
  o: Options<IntOrStringNode> = {},
): IntOrStringNode => ({ kind: 'int-or-string', description, ...o });

export const obj = (
  description: string,
  properties: Readonly<Record<string, Node>>,
  o: Omit<Options<ObjectNode>, 'properties'> = {},
): ObjectNode => ({ kind: 'object', description, properties, ...o });

export const map = (
  description: string,
  values: Node,
  o: Omit<Options<MapNode>, 'values'> = {},
): MapNode => ({ kind: 'map', description, values, ...o });

export const list = (
  description: string,
  items: Node,
  o: Omit<Options<ArrayNode>, 'items'> = {},
): ArrayNode => ({ kind: 'array', description, items, ...o });

/** Marks a property as required in its parent object. */
export const req = <N extends Node>(node: N): N => ({ ...node, required: true });

/** Adds rules to a node (a shared helper's node plus one more rule). */
export const withRules = <N extends Node>(node: N, ...rules: readonly Rule[]): N => ({
  ...node,
  rules: [...(node.rules ?? []), ...rules],
});

/** A JSON value as a person writes it in a description: strings quoted. */
function shown(v: Json): string {
  return JSON.stringify(v);
}

function isEmptyObject(v: Json | undefined): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0;
}

/**
 * The description `kubectl explain` shows: the author's text plus the default,
 * so the two are never out of step. An empty-object default only exists to let
 * nested defaults apply and is not worth saying.
 */
export function fullDescription(node: Node): string {
  const text = node.description.trim();
  if (node.default === undefined || isEmptyObject(node.default)) return text;
  return `${text} Defaults to ${shown(node.default)}.`;
}

/** The path of a child in messages: `spec.rollout`, `spec.blobs[*]`. */
export function childPath(parent: string, key: string): string {
  return parent === '' ? key : `${parent}.${key}`;
}

/** Replaces `{self}` and `{field}` in a rule's message. */
export function renderMessage(rule: Rule, path: string): string {
  const field = rule.fieldPath ? `${path}${rule.fieldPath}`.replace(/^\./, '') : path;
  return rule.message.replaceAll('{self}', path || 'the object').replaceAll('{field}', field);
}

/** One `x-kubernetes-validations` entry, its message filled in for the field at `path`. */
export function ruleJson(rule: Rule, path: string): JsonObject {
  return present({
    rule: rule.rule,
    message: renderMessage(rule, path),
    fieldPath: rule.fieldPath,
    reason: rule.reason,
  });
}

type Mutable = Record<string, Json>;

/** The keywords that are set, so each optional one needs no branch of its own. */
function present(keywords: Readonly<Record<string, Json | undefined>>): Mutable {
  const out: Mutable = {};
  for (const [key, value] of Object.entries(keywords)) if (value !== undefined) out[key] = value;
  return out;
}

function objectKeywords(node: ObjectNode, path: string): Mutable {
  const properties: Mutable = {};
  const required: string[] = [];
  for (const [key, child] of Object.entries(node.properties)) {
    properties[key] = toOpenApi(child, childPath(path, key));
    if (child.required) required.push(key);
  }
  return present({
    type: 'object',
    properties: Object.keys(properties).length > 0 ? properties : undefined,
    required: required.length > 0 ? required : undefined,
    'x-kubernetes-preserve-unknown-fields': node.preserveUnknownFields || undefined,
  });
}

function typeKeywords(node: Node, path: string): Mutable {
  switch (node.kind) {
    case 'string': {
      const { format, pattern, minLength, maxLength } = node;
      return present({ type: 'string', format, enum: node.enum, pattern, minLength, maxLength });
    }
    case 'integer':
      return present({
        type: 'integer',
        format: node.format,
        minimum: node.minimum,
        maximum: node.maximum,
      });
    case 'number':
      return present({ type: 'number', format: 'double', minimum: node.minimum });
    case 'boolean':
      return { type: 'boolean' };
    case 'int-or-string':
      // the one anyOf a structural schema allows, exactly as Kubernetes spells it
      return {
        anyOf: [{ type: 'integer' }, { type: 'string' }],
        'x-kubernetes-int-or-string': true,
      };
    case 'map':
      return present({
        type: 'object',
        additionalProperties: toOpenApi(node.values, `${path}[*]`),
        maxProperties: node.maxProperties,
      });
    case 'array':
      return present({
        type: 'array',
        items: toOpenApi(node.items, `${path}[*]`),
        minItems: node.minItems,
        maxItems: node.maxItems,
        'x-kubernetes-list-type': node.listType,
        'x-kubernetes-list-map-keys': node.listMapKeys,
      });
    case 'object':
      return objectKeywords(node, path);
  }
}

/**
 * The OpenAPI v3 (structural) schema of a node. `path` is where the node sits
 * in the object (`spec.capacity`), used only to fill in rule messages.
 */
export function toOpenApi(node: Node, path = ''): JsonObject {
  return {
    description: fullDescription(node),
    ...typeKeywords(node, path),
    ...present({
      default: node.default,
      'x-kubernetes-validations':
        node.rules && node.rules.length > 0 ? node.rules.map((r) => ruleJson(r, path)) : undefined,
    }),
  };
}

/** Visits every node depth-first with its path, for checks over a whole schema. */
export function walk(node: Node, visit: (node: Node, path: string) => void, path = ''): void {
  visit(node, path);
  if (node.kind === 'object') {
    for (const [key, child] of Object.entries(node.properties)) {
      walk(child, visit, childPath(path, key));
    }
  } else if (node.kind === 'array') {
    walk(node.items, visit, `${path}[*]`);
  } else if (node.kind === 'map') {
    walk(node.values, visit, `${path}[*]`);
  }
}
