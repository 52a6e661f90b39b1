import { describe, expect, it } from 'vitest';
import { expand, references, resolveEnv } from './env.ts';
import type { EnvContext, EnvSources } from './env.ts';
import type { Container, EnvVar, PodObject } from './types.ts';

const pod: PodObject = {
  metadata: {
    name: 'web-1',
    namespace: 'shop',
    uid: 'u-1',
    labels: { app: 'web' },
    annotations: { 'yard.dev/campus': 'campus-b' },
  },
  spec: { nodeName: 'campus-b-node-001', containers: [] },
};
const ctx: EnvContext = {
  pod,
  podIP: '127.16.2.254',
  hostIP: '127.0.0.1',
  nodeAllocatable: { cpu: '32', memory: '128Gi' },
};
const sources: EnvSources = {
  configMaps: new Map([['settings', { LEVEL: 'debug', 'bad name': 'x' }]]),
  secrets: new Map([['ticket', { secret: 's3cret' }]]),
};
const container = (env: EnvVar[], extra: Partial<Container> = {}): Container => ({
  name: 'main',
  env,
  ...extra,
});
const field = (name: string, fieldPath: string): EnvVar => ({
  name,
  valueFrom: { fieldRef: { fieldPath } },
});

describe('expand', () => {
  it.each([
    { name: 'a defined variable', input: 'http://$(HOST):80', want: 'http://h:80' },
    { name: 'an undefined one stays as written', input: '$(NOPE)/x', want: '$(NOPE)/x' },
    { name: '$$ is a literal dollar', input: 'cost $$(HOST)', want: 'cost $(HOST)' },
    { name: 'a lone dollar stays', input: 'a$b$', want: 'a$b$' },
    { name: 'an unclosed reference stays', input: 'x$(HOST', want: 'x$(HOST' },
    { name: 'two in a row', input: '$(HOST)$(HOST)', want: 'hh' },
  ])('$name', ({ input, want }) => {
    expect(expand(input, { HOST: 'h' })).toBe(want);
  });
});

describe('resolveEnv', () => {
  it.each<{ name: string; env: EnvVar[]; want: Record<string, string> }>([
    { name: 'a plain value', env: [{ name: 'A', value: '1' }], want: { A: '1' } },
    {
      name: 'a later value refers to an earlier one',
      env: [
        { name: 'A', value: 'x' },
        { name: 'B', value: '$(A)-y' },
      ],
      want: { A: 'x', B: 'x-y' },
    },
    {
      name: "the agent's YARD_LISTEN can be referred to",
      env: [{ name: 'URL', value: 'http://$(YARD_LISTEN)' }],
      want: { URL: 'http://127.16.2.254:8080' },
    },
    {
      name: 'the pod may set YARD_LISTEN itself',
      env: [field('POD_IP', 'status.podIP'), { name: 'YARD_LISTEN', value: '$(POD_IP):9000' }],
      want: { POD_IP: '127.16.2.254', YARD_LISTEN: '127.16.2.254:9000' },
    },
    {
      name: 'the downward API',
      env: [
        field('IP', 'status.podIP'),
        field('NAME', 'metadata.name'),
        field('NS', 'metadata.namespace'),
        field('NODE', 'spec.nodeName'),
        field('UID', 'metadata.uid'),
        field('HOST', 'status.hostIP'),
        field('APP', "metadata.labels['app']"),
        field('CAMPUS', "metadata.annotations['yard.dev/campus']"),
        field('SA', 'spec.serviceAccountName'),
      ],
      want: {
        IP: '127.16.2.254',
        NAME: 'web-1',
        NS: 'shop',
        NODE: 'campus-b-node-001',
        UID: 'u-1',
        HOST: '127.0.0.1',
        APP: 'web',
        CAMPUS: 'campus-b',
        SA: 'default',
      },
    },
    {
      name: 'ConfigMap and Secret keys',
      env: [
        { name: 'LEVEL', valueFrom: { configMapKeyRef: { name: 'settings', key: 'LEVEL' } } },
        {
          name: 'YARD_TICKET_SECRET',
          valueFrom: { secretKeyRef: { name: 'ticket', key: 'secret' } },
        },
      ],
      want: { LEVEL: 'debug', YARD_TICKET_SECRET: 's3cret' },
    },
    {
      name: 'an optional key that is missing is left out',
      env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'nope', key: 'k', optional: true } } }],
      want: {},
    },
    {
      name: 'resource fields, rounded up in units of the divisor; an unset limit is the node',
      env: [
        { name: 'CPU', valueFrom: { resourceFieldRef: { resource: 'requests.cpu' } } },
        {
          name: 'MCPU',
          valueFrom: { resourceFieldRef: { resource: 'requests.cpu', divisor: '1m' } },
        },
        {
          name: 'MEM',
          valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } },
        },
        { name: 'NODE_CPU', valueFrom: { resourceFieldRef: { resource: 'limits.cpu' } } },
      ],
      want: { CPU: '1', MCPU: '500', MEM: '256', NODE_CPU: '32' },
    },
  ])('$name', ({ env, want }) => {
    const c = container(env, {
      resources: { requests: { cpu: '500m' }, limits: { memory: '256Mi' } },
    });
    const base = { YARD_LISTEN: '127.16.2.254:8080' };
    expect(resolveEnv(c, ctx, sources, base)).toEqual({ ok: true, env: { ...base, ...want } });
  });

  it('takes envFrom first, with its prefix and without invalid names, and env overrides it', () => {
    const c = container([{ name: 'CFG_LEVEL', value: 'info' }], {
      envFrom: [
        { configMapRef: { name: 'settings' }, prefix: 'CFG_' },
        { secretRef: { name: 'ticket' } },
      ],
    });
    expect(resolveEnv(c, ctx, sources)).toEqual({
      ok: true,
      env: { CFG_LEVEL: 'info', secret: 's3cret' },
    });
  });

  it.each<{ name: string; c: Container; want: RegExp }>([
    {
      name: 'a missing ConfigMap',
      c: container([{ name: 'X', valueFrom: { configMapKeyRef: { name: 'gone', key: 'k' } } }]),
      want: /configmap "gone" not found/,
    },
    {
      name: 'a missing key',
      c: container([{ name: 'X', valueFrom: { secretKeyRef: { name: 'ticket', key: 'k' } } }]),
      want: /couldn't find key k in Secret shop\/ticket/,
    },
    {
      name: 'a missing envFrom Secret',
      c: container([], { envFrom: [{ secretRef: { name: 'gone' } }] }),
      want: /secret "gone" not found/,
    },
    {
      name: 'a field the downward API does not have',
      c: container([field('X', 'spec.priority')]),
      want: /unsupported fieldRef spec\.priority/,
    },
  ])('refuses $name with a CreateContainerConfigError that says why', ({ c, want }) => {
    const got = resolveEnv(c, ctx, sources);
    expect(got.ok).toBe(false);
    if (!got.ok) {
      expect(got.reason).toBe('CreateContainerConfigError');
      expect(got.message).toMatch(want);
    }
  });

  it('lists the ConfigMaps and Secrets to fetch', () => {
    const c = container(
      [
        { name: 'A', valueFrom: { configMapKeyRef: { name: 'a', key: 'k' } } },
        { name: 'B', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } },
      ],
      { envFrom: [{ configMapRef: { name: 'a' } }, { secretRef: { name: 't' } }] },
    );
    expect(references(c)).toEqual({ configMaps: ['a'], secrets: ['t', 's'] });
  });
});
