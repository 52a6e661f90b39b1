// Tables for the schema DSL: what each helper turns into, in OpenAPI and in
// TypeScript, and the regular expressions the CEL rules use.
import { describe, expect, it } from 'vitest';
import { jsDoc, lowerCamel, tsTypeOf } from './render.ts';
import {
  bool,
  enumOf,
  fullDescription,
  int32,
  int64,
  intOrString,
  list,
  map,
  obj,
  renderMessage,
  req,
  str,
  toOpenApi,
} from './schema.ts';
import type { JsonObject, Node, Rule } from './schema.ts';
import { celString, dnsLabelRe, duration, durationRe, quantity } from './source/common.ts';
import { cronRe, timeZoneRe } from './source/drill-schedule.ts';
import { fractionRe } from './source/drill.ts';
import { imageRe } from './source/image-distribution.ts';

describe('toOpenApi', () => {
  const cases: { name: string; node: Node; want: JsonObject }[] = [
    {
      name: 'a bounded string',
      node: str('A name.', { maxLength: 63 }),
      want: { description: 'A name.', type: 'string', maxLength: 63 },
    },
    {
      name: 'an enum with a default says the default in its description',
      node: enumOf(['shield', 'blackhole'], 'The mode.', { default: 'shield' }),
      want: {
        description: 'The mode. Defaults to "shield".',
        type: 'string',
        enum: ['shield', 'blackhole'],
        default: 'shield',
      },
    },
    {
      name: 'an int32 with bounds',
      node: int32('A weight.', { minimum: 1, maximum: 1000, default: 1 }),
      want: {
        description: 'A weight. Defaults to 1.',
        type: 'integer',
        format: 'int32',
        minimum: 1,
        maximum: 1000,
        default: 1,
      },
    },
    {
      name: 'an int64',
      node: int64('Bytes.', { minimum: 0 }),
      want: { description: 'Bytes.', type: 'integer', format: 'int64', minimum: 0 },
    },
    {
      name: 'int-or-string is the one anyOf Kubernetes allows',
      node: intOrString('A count or a percentage.'),
      want: {
        description: 'A count or a percentage.',
        anyOf: [{ type: 'integer' }, { type: 'string' }],
        'x-kubernetes-int-or-string': true,
      },
    },
    {
      name: 'a map of strings',
      node: map('Labels.', str('A value.', { maxLength: 63 }), { maxProperties: 32 }),
      want: {
        description: 'Labels.',
        type: 'object',
        additionalProperties: { description: 'A value.', type: 'string', maxLength: 63 },
        maxProperties: 32,
      },
    },
    {
      name: 'a list-map keyed by name',
      node: list('Campuses.', obj('One.', { name: req(str('Its name.', { maxLength: 63 })) }), {
        maxItems: 16,
        listType: 'map',
        listMapKeys: ['name'],
      }),
      want: {
        description: 'Campuses.',
        type: 'array',
        items: {
          description: 'One.',
          type: 'object',
          properties: { name: { description: 'Its name.', type: 'string', maxLength: 63 } },
          required: ['name'],
        },
        maxItems: 16,
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['name'],
      },
    },
    {
      name: 'an object that keeps unknown fields, with an empty default left unsaid',
      node: obj('A pod spec.', { on: bool('On.') }, { preserveUnknownFields: true, default: {} }),
      want: {
        description: 'A pod spec.',
        type: 'object',
        properties: { on: { description: 'On.', type: 'boolean' } },
        'x-kubernetes-preserve-unknown-fields': true,
        default: {},
      },
    },
  ];
  it.each(cases)('$name', ({ node, want }) => {
    expect(toOpenApi(node)).toEqual(want);
  });

  it('puts rules, with their messages filled in, under x-kubernetes-validations', () => {
    const node = obj(
      'A job.',
      { minAvailable: int32('Gang.'), parallelism: int32('Width.') },
      {
        rules: [
          {
            rule: 'self.minAvailable <= self.parallelism',
            message: '{field} must not exceed {self}.parallelism',
            fieldPath: '.minAvailable',
            reason: 'FieldValueInvalid',
          },
        ],
      },
    );
    expect(toOpenApi(node, 'spec')['x-kubernetes-validations']).toEqual([
      {
        rule: 'self.minAvailable <= self.parallelism',
        message: 'spec.minAvailable must not exceed spec.parallelism',
        fieldPath: '.minAvailable',
        reason: 'FieldValueInvalid',
      },
    ]);
  });

  it('names the field of a rule inside a list item', () => {
    const digest = str('A digest.', {
      maxLength: 71,
      rules: [{ rule: 'true', message: '{field} must be sha256' }],
    });
    const blobs = list('Blobs.', obj('A blob.', { digest }), { maxItems: 4 });
    const item = toOpenApi(blobs, 'spec.blobs')['items'] as JsonObject;
    const props = item['properties'] as JsonObject;
    expect((props['digest'] as JsonObject)['x-kubernetes-validations']).toEqual([
      { rule: 'true', message: 'spec.blobs[*].digest must be sha256' },
    ]);
  });
});

describe('renderMessage', () => {
  const cases: { name: string; rule: Rule; path: string; want: string }[] = [
    {
      name: '{field} without a fieldPath is the node itself',
      rule: { rule: 'true', message: '{field} is immutable' },
      path: 'spec.tier',
      want: 'spec.tier is immutable',
    },
    {
      name: '{field} follows the fieldPath',
      rule: { rule: 'true', message: '{field} vs {self}', fieldPath: '.rollout.campusOrder' },
      path: 'spec',
      want: 'spec.rollout.campusOrder vs spec',
    },
    {
      name: 'at the root, {field} is the fieldPath without its dot',
      rule: { rule: 'true', message: '{field} is wrong', fieldPath: '.spec.parent' },
      path: '',
      want: 'spec.parent is wrong',
    },
  ];
  it.each(cases)('$name', ({ rule, path, want }) => {
    expect(renderMessage(rule, path)).toBe(want);
  });
});

describe('fullDescription', () => {
  it.each([
    { node: str('Plain.'), want: 'Plain.' },
    { node: bool('On.', { default: true }), want: 'On. Defaults to true.' },
    { node: str('  Padded.  ', { default: '0s' }), want: 'Padded. Defaults to "0s".' },
    { node: obj('Empty default.', {}, { default: {} }), want: 'Empty default.' },
  ])('$want', ({ node, want }) => {
    expect(fullDescription(node)).toBe(want);
  });
});

describe('TypeScript of a node', () => {
  const cases: { name: string; node: Node; type: string; declares?: string }[] = [
    { name: 'string', node: str('S.'), type: 'string' },
    { name: 'integer', node: int32('N.'), type: 'number' },
    { name: 'int-or-string', node: intOrString('Q.'), type: 'number | string' },
    { name: 'inline enum', node: enumOf(['a', 'b'], 'E.'), type: "'a' | 'b'" },
    {
      name: 'named enum with its values list',
      node: enumOf(['True', 'False'], 'S.', { typeName: 'Truth', valuesName: 'truths' }),
      type: 'Truth',
      declares: "export const truths = ['True', 'False'] as const;",
    },
    {
      name: 'a list of a union is parenthesised',
      node: list('L.', intOrString('Q.')),
      type: '(number | string)[]',
    },
    { name: 'map', node: map('M.', int32('N.')), type: 'Record<string, number>' },
    {
      name: 'a client type is used as is',
      node: obj('T.', {}, { clientType: 'V1PodTemplateSpec' }),
      type: 'V1PodTemplateSpec',
    },
    {
      name: 'a named object becomes an interface with optional and required fields',
      node: obj('A shield.', { reason: req(str('Why.')), by: str('Who.') }, { typeName: 'Shield' }),
      type: 'Shield',
      declares:
        'export interface Shield {\n  /** Why. */\n  reason: string;\n  /** Who. */\n  by?: string;\n}',
    },
  ];
  it.each(cases)('$name', ({ node, type, declares }) => {
    const got = tsTypeOf(node);
    expect(got.type).toBe(type);
    if (declares) expect(got.declarations.join('\n')).toContain(declares);
  });

  it('refuses two different types of the same name', () => {
    const a = obj('A.', { x: str('X.') }, { typeName: 'Same' });
    const b = obj('B.', { y: str('Y.') }, { typeName: 'Same' });
    expect(() => tsTypeOf(obj('Both.', { a, b }))).toThrow(
      /two different types are both named Same/,
    );
  });

  it('shares one declaration between uses that differ only in prose', () => {
    const a = obj('Used here.', { cpu: quantity('CPU.') }, { typeName: 'Amounts' });
    const b = obj(
      'Used there.',
      { cpu: quantity('Other words.', { validate: false }) },
      {
        typeName: 'Amounts',
      },
    );
    expect(tsTypeOf(obj('Both.', { a, b })).declarations).toHaveLength(1);
  });
});

describe('names and text', () => {
  it.each([
    ['Campus', 'campus'],
    ['IMService', 'imService'],
    ['OfflineQueue', 'offlineQueue'],
    ['DrillRun', 'drillRun'],
  ])('lowerCamel(%s) is %s', (name, want) => {
    expect(lowerCamel(name)).toBe(want);
  });

  it.each([
    ['plain', "'plain'"],
    ["it's", "'it\\'s'"],
    ['^a\\.b$', "'^a\\\\.b$'"],
  ])('celString(%s) is %s', (s, want) => {
    expect(celString(s)).toBe(want);
  });

  it('wraps a long JSDoc and keeps a short one on one line', () => {
    expect(jsDoc('Short.')).toBe('/** Short. */\n');
    const long = jsDoc(`${'word '.repeat(40)}end.`, '  ');
    expect(long.split('\n').every((l) => l.length <= 100)).toBe(true);
    expect(long.startsWith('  /**\n')).toBe(true);
  });

  it('escapes a comment terminator in a description', () => {
    expect(jsDoc('a */ b')).toBe('/** a *\\/ b */\n');
  });
});

describe('the patterns the CEL rules match (RE2 and JavaScript agree on these)', () => {
  const table: { name: string; re: string; good: string[]; bad: string[] }[] = [
    {
      name: 'DNS label',
      re: dnsLabelRe,
      good: ['campus-a', 'a', '0b'],
      bad: ['Campus', '-a', 'a-', 'a.b', ''],
    },
    {
      name: 'duration',
      re: durationRe,
      good: ['30s', '5m', '1h30m', '1.5h', '250ms'],
      bad: ['soon', '5', '-5m', '5 m', '5min', ''],
    },
    {
      name: 'cron (five fields)',
      re: cronRe,
      good: ['0 3 * * *', '*/15 * * * MON-FRI', '0 0 1 JAN ?'],
      bad: ['0 3 * *', '0 0 3 * * *', '@daily', 'CRON_TZ=UTC 0 3 * * *', 'every day'],
    },
    {
      name: 'IANA time zone',
      re: timeZoneRe,
      good: ['UTC', 'Asia/Shanghai', 'America/Argentina/Buenos_Aires', 'Etc/GMT+8'],
      bad: ['Asia Shanghai', '/UTC', 'Asia/', ''],
    },
    {
      name: 'failure-rate fraction',
      re: fractionRe,
      good: ['0', '0.05', '0.000001', '1', '1.0'],
      bad: ['1.5', '.5', '5%', '-0.1', '0.0000001'],
    },
    {
      name: 'image reference',
      re: imageRe,
      good: [
        'registry.local/yard/im-logic:1.4.2',
        'localhost:5000/im',
        'busybox',
        `registry.local/im@sha256:${'a'.repeat(64)}`,
      ],
      bad: ['Not An Image', 'registry.local/Yard/im', 'im:', `im@sha256:${'a'.repeat(10)}`],
    },
  ];
  describe.each(table)('$name', ({ re, good, bad }) => {
    const r = new RegExp(re);
    it.each(good)('matches %j', (s) => {
      expect(r.test(s)).toBe(true);
    });
    it.each(bad)('refuses %j', (s) => {
      expect(r.test(s)).toBe(false);
    });
  });

  it('a duration rule checks the shape before duration() can fail on it', () => {
    const rule = duration('D.').rules?.[0]?.rule ?? '';
    expect(rule.indexOf('self.matches(')).toBeLessThan(rule.indexOf('duration(self)'));
    expect(rule).toContain("duration(self) <= duration('24h')");
  });
});
