// Field types shared by several kinds: quantities, durations, label maps,
// conditions, the embedded pod template. Every string and list is bounded, so
// the CEL rules that read them stay within the API server's cost budget.
import { enumOf, int64, intOrString, list, map, obj, req, str, withRules } from '../schema.ts';
import type {
  ArrayNode,
  IntOrStringNode,
  MapNode,
  ObjectNode,
  Rule,
  StringNode,
} from '../schema.ts';

/** More campuses than this is a typo, and bounding lists keeps CEL cheap. */
export const maxCampuses = 16;

export const dnsLabelRe = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
export const dns1035LabelRe = '^[a-z]([-a-z0-9]*[a-z0-9])?$';
/** Go's time.ParseDuration without the sign and the unit-less 0, which people do not write. */
export const durationRe = '^([0-9]+(\\.[0-9]+)?(ns|us|ms|s|m|h))+$';

/** A CEL string literal of `s` (single-quoted, escaped), for regular expressions in rules. */
export const celString = (s: string): string =>
  `'${s.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;

export function dnsLabel(description: string): StringNode {
  return str(description, {
    maxLength: 63,
    rules: [
      {
        rule: `self.matches(${celString(dnsLabelRe)})`,
        message:
          '{field} must be a DNS label: lower-case letters, digits and "-", starting and ending with a letter or digit',
      },
    ],
  });
}

/** A name of a Service: a DNS-1035 label (starts with a letter). */
export function dns1035Label(description: string): StringNode {
  return str(description, {
    maxLength: 63,
    rules: [
      {
        rule: `self.matches(${celString(dns1035LabelRe)})`,
        message:
          '{field} must start with a lower-case letter and hold only lower-case letters, digits and "-" (it names a Service)',
      },
    ],
  });
}

/** A list of Campus names, as a set. */
export function campusList(description: string): ArrayNode {
  return list(description, dnsLabel('The name of a Campus object, e.g. "campus-a".'), {
    minItems: 1,
    maxItems: maxCampuses,
    listType: 'set',
  });
}

/** Labels: keys are qualified names, values label values, as the API server checks them on pods. */
export function labelMap(description: string, o: { nonEmpty?: boolean } = {}): MapNode {
  const rules: Rule[] = [
    {
      rule: 'self.all(k, !format.qualifiedName().validate(k).hasValue())',
      message:
        '{field} keys must be label keys: an optional DNS prefix and "/", then at most 63 letters, digits, "-", "_" or "."',
    },
    {
      rule: 'self.all(k, !format.labelValue().validate(self[k]).hasValue())',
      message:
        '{field} values must be label values: at most 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit',
    },
  ];
  if (o.nonEmpty) {
    rules.unshift({
      rule: 'self.size() > 0',
      message: '{field} must not be empty: omit the field to use its default instead',
    });
  }
  return map(description, str('A label value.', { maxLength: 63 }), { maxProperties: 32, rules });
}

/**
 * A Kubernetes quantity, as in a pod's resource requests: `4`, `500m`, `16Gi`.
 * With `validate`, a rule checks it parses and is not negative (specs only:
 * status is written by controllers and needs no CEL).
 */
export function quantity(description: string, o: { validate?: boolean } = {}): IntOrStringNode {
  if (o.validate === false) return intOrString(description);
  return intOrString(description, {
    rules: [
      {
        rule: "isQuantity(string(self)) && !quantity(string(self)).isLessThan(quantity('0'))",
        message: '{field} must be a non-negative quantity such as 4, 500m or 16Gi',
      },
    ],
  });
}

/** CPU and memory, as quantities; the parent's description says of what. */
export function resources(description: string, o: { validate?: boolean } = {}): ObjectNode {
  const v = { validate: o.validate ?? true };
  return obj(
    description,
    {
      cpu: quantity('CPU, in cores: "4", or "500m" for half a core.', v),
      memory: quantity('Memory, in bytes with a suffix: "16Gi", "512Mi".', v),
    },
    { typeName: 'ResourceAmounts', typeDescription: 'CPU and memory, as Kubernetes quantities.' },
  );
}

export interface DurationBounds {
  /** Whether "0s" is allowed (otherwise it must be positive). */
  readonly allowZero?: boolean;
  /** The largest allowed, as a duration string. */
  readonly max?: string;
  readonly default?: string;
}

/**
 * A Go duration string ("30s", "5m", "1h30m"). The rule first matches the
 * shape, so `duration()` never sees a string it cannot parse and the person
 * gets our message instead of a conversion error.
 */
export function duration(description: string, b: DurationBounds = {}): StringNode {
  const max = b.max ?? '24h';
  const lower = b.allowZero ? ">= duration('0s')" : "> duration('0s')";
  const bound = b.allowZero ? 'at least 0s' : 'greater than 0s';
  return str(description, {
    maxLength: 32,
    ...(b.default !== undefined ? { default: b.default } : {}),
    rules: [
      {
        rule: `self.matches(${celString(durationRe)}) && duration(self) ${lower} && duration(self) <= duration('${max}')`,
        message: `{field} must be a duration such as 30s, 5m or 1h30m, ${bound} and at most ${max}`,
      },
    ],
  });
}

export const dateTime = (description: string): StringNode =>
  str(`${description} An RFC 3339 date-time, e.g. "2026-05-01T08:00:00Z".`, {
    format: 'date-time',
  });

/** An http(s) URL. */
export function httpUrl(description: string): StringNode {
  return str(description, {
    maxLength: 2048,
    rules: [
      {
        rule: "isURL(self) && url(self).getScheme() in ['http', 'https']",
        message: '{field} must be an absolute http:// or https:// URL',
      },
    ],
  });
}

export const observedGeneration = () =>
  int64(
    'The metadata.generation of the spec this status describes. When it is less than metadata.generation, the controller has not yet acted on the latest change.',
    { minimum: 0 },
  );

/**
 * metav1.Condition, exactly as Kubernetes validates it, in a list keyed by
 * type so that server-side apply merges one condition at a time.
 */
export function conditions(kind: string, types: readonly string[]): ArrayNode {
  const condition = obj(
    "One aspect of the object's state, in the shape of metav1.Condition (the same as Deployments' and Pods' conditions).",
    {
      type: req(
        str(
          'What the condition is about, in CamelCase, e.g. "Available"; the list\'s description names the types this kind uses.',
          {
            maxLength: 316,
            pattern:
              '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$',
          },
        ),
      ),
      status: req(
        enumOf(
          ['True', 'False', 'Unknown'],
          'Whether the condition holds: "True", "False", or "Unknown" when the controller cannot tell.',
          { typeName: 'ConditionStatus', valuesName: 'conditionStatuses' },
        ),
      ),
      observedGeneration: int64(
        'The metadata.generation the condition was computed from; older than metadata.generation means it may be stale.',
        { minimum: 0 },
      ),
      lastTransitionTime: req(
        str('When the status last changed (not when it was last checked). An RFC 3339 date-time.', {
          format: 'date-time',
        }),
      ),
      reason: req(
        str(
          'Why, as a CamelCase word a program can match on, e.g. "ShieldActive" or "CampusesCanAbsorb".',
          { minLength: 1, maxLength: 1024, pattern: '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$' },
        ),
      ),
      message: req(
        str('Why, for a person, with the numbers behind it. May be empty.', {
          maxLength: 32768,
        }),
      ),
    },
    { typeName: 'Condition' },
  );
  return list(
    `The latest observations of the ${kind}'s state (${types.join(', ')}). Wait on one with \`kubectl wait --for=condition=<type>\`.`,
    condition,
    { maxItems: 32, listType: 'map', listMapKeys: ['type'] },
  );
}

/** A label selector, as in Deployments: every term must match. */
export function labelSelector(description: string): ObjectNode {
  const expression = withRules(
    obj(
      'One requirement: a label key, an operator and, for In and NotIn, the values.',
      {
        key: req(str('The label key the requirement applies to.', { maxLength: 317 })),
        operator: req(
          enumOf(
            ['In', 'NotIn', 'Exists', 'DoesNotExist'],
            'How the key relates to the values: In and NotIn need values; Exists and DoesNotExist take none.',
            { typeName: 'LabelSelectorOperator', valuesName: 'labelSelectorOperators' },
          ),
        ),
        values: list(
          'The label values for In and NotIn.',
          str('A label value.', { maxLength: 63 }),
          {
            maxItems: 64,
          },
        ),
      },
      { typeName: 'LabelSelectorRequirement' },
    ),
    {
      rule: "self.operator in ['In', 'NotIn'] ? (has(self.values) && self.values.size() > 0) : (!has(self.values) || self.values.size() == 0)",
      message:
        '{self}.values must be non-empty for In and NotIn, and empty for Exists and DoesNotExist',
      fieldPath: '.values',
    },
  );
  return obj(
    description,
    {
      matchLabels: labelMap('Labels that must all be present with these values.'),
      matchExpressions: list('Requirements that must all hold.', expression, { maxItems: 16 }),
    },
    {
      typeName: 'LabelSelector',
      typeDescription: 'A label selector, as in Deployments: every term must hold.',
    },
  );
}

/**
 * A pod template as in a Deployment or a Job. The schema lists only what the
 * API server must check here (there is at least one container, each with a
 * name and an image; the restart policy the workload allows) and keeps every
 * other field of PodSpec as written; the Deployment or pod the controller
 * makes from it is validated in full when created. Not an
 * `x-kubernetes-embedded-resource`: a PodTemplateSpec has no apiVersion/kind.
 */
export function podTemplate(
  description: string,
  o: { restartPolicies: readonly string[]; workload: string; schedulerNameFrom: string },
): ObjectNode {
  const container = obj(
    'A container of the pod, as in a PodSpec (ports, env, resources, probes, …); name and image are required.',
    {
      name: req(dnsLabel('The container\'s name, unique within the pod, e.g. "main".')),
      image: req(
        str('The container image, e.g. "registry.local/yard/im-logic:1.4.2".', {
          minLength: 1,
          maxLength: 512,
        }),
      ),
    },
    { preserveUnknownFields: true },
  );
  return obj(
    description,
    {
      metadata: obj('Labels and annotations every pod gets (other metadata is set by Yard).', {
        labels: labelMap('Labels for every pod, e.g. {"app": "im-logic"}.'),
        annotations: map(
          'Annotations for every pod.',
          str('An annotation value.', { maxLength: 262144 }),
          {
            maxProperties: 64,
          },
        ),
      }),
      spec: req(
        obj(
          `The pod's spec, as in a PodSpec. Only what the API server must check for ${o.workload} is listed here; every other PodSpec field is kept as written.`,
          {
            containers: req(
              list("The pod's containers: at least one.", container, {
                minItems: 1,
                maxItems: 32,
                listType: 'map',
                listMapKeys: ['name'],
              }),
            ),
            restartPolicy: enumOf(
              o.restartPolicies,
              `Restart policy of the pods; ${o.workload} allows ${o.restartPolicies.join(' or ')}.`,
            ),
            schedulerName: str(
              `Not set here: ${o.schedulerNameFrom}. Listed so the API server can refuse it.`,
              { maxLength: 253 },
            ),
          },
          {
            preserveUnknownFields: true,
            rules: [
              {
                rule: '!has(self.schedulerName)',
                message: `{field} must not be set: ${o.schedulerNameFrom}`,
                fieldPath: '.schedulerName',
                reason: 'FieldValueForbidden',
              },
            ],
          },
        ),
      ),
    },
    { clientType: 'V1PodTemplateSpec' },
  );
}
