import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { parseEndpointSpec, podEndpoint } from './discovery.ts';
import { podCondition } from '../../crds/names.ts';

describe('parseEndpointSpec', () => {
  it.each([
    {
      value: 'http://127.0.0.1:8080, http://127.0.0.2:8080/',
      want: { kind: 'static', urls: ['http://127.0.0.1:8080', 'http://127.0.0.2:8080'] },
    },
    {
      value: 'pods:yard.dev/imservice=im-logic',
      want: {
        kind: 'pods',
        selector: 'yard.dev/imservice=im-logic',
        port: undefined,
        namespace: undefined,
      },
    },
    {
      value: 'pods:app=a,tier in (x,y);port=grpc;namespace=im',
      want: { kind: 'pods', selector: 'app=a,tier in (x,y)', port: 'grpc', namespace: 'im' },
    },
  ])('$value', ({ value, want }) => {
    expect(parseEndpointSpec(value, 'logic')).toEqual(want);
  });

  it.each([
    { value: 'pods:', want: /needs a label selector/ },
    { value: 'pods:app=a;colour=blue', want: /unknown parameter "colour=blue"/ },
    { value: 'logic:8080', want: /--logic: "logic:8080" is not http:\/\/host:port/ },
  ])('refuses $value', ({ value, want }) => {
    expect(() => parseEndpointSpec(value, 'logic')).toThrow(want);
  });
});

const base = (): V1Pod => ({
  metadata: { name: 'p', uid: 'u' },
  spec: {
    containers: [
      {
        name: 'main',
        image: 'x',
        ports: [
          { name: 'metrics', containerPort: 9090 },
          { name: 'http', containerPort: 8080 },
        ],
      },
    ],
  },
  status: {
    phase: 'Running',
    podIP: '127.16.3.9',
    conditions: [{ type: 'Ready', status: 'True' }],
  },
});

type Edit = (p: V1Pod) => void;

describe('podEndpoint', () => {
  it.each<{ name: string; edit: Edit; port?: string; want: string | undefined }>([
    { name: 'a ready pod on its http port', edit: () => {}, want: 'http://127.16.3.9:8080' },
    { name: 'a named port', edit: () => {}, port: 'metrics', want: 'http://127.16.3.9:9090' },
    { name: 'a port number', edit: () => {}, port: '7000', want: 'http://127.16.3.9:7000' },
    { name: 'a port name the pod lacks', edit: () => {}, port: 'grpc', want: undefined },
    {
      name: 'the first port when none is named http',
      edit: (p) => {
        const c = p.spec?.containers[0];
        if (c) c.ports = [{ containerPort: 2379 }];
      },
      want: 'http://127.16.3.9:2379',
    },
    {
      name: 'not Ready',
      edit: (p) => {
        if (p.status) p.status.conditions = [{ type: 'Ready', status: 'False' }];
      },
      want: undefined,
    },
    {
      name: 'shielded: serving False while Ready has not followed yet',
      edit: (p) => {
        p.status?.conditions?.push({ type: podCondition.serving, status: 'False' });
      },
      want: undefined,
    },
    {
      name: 'serving True',
      edit: (p) => {
        p.status?.conditions?.push({ type: podCondition.serving, status: 'True' });
      },
      want: 'http://127.16.3.9:8080',
    },
    {
      name: 'being deleted',
      edit: (p) => {
        if (p.metadata) p.metadata.deletionTimestamp = new Date();
      },
      want: undefined,
    },
    {
      name: 'no address yet',
      edit: (p) => {
        if (p.status) delete p.status.podIP;
      },
      want: undefined,
    },
    {
      name: 'finished',
      edit: (p) => {
        if (p.status) p.status.phase = 'Succeeded';
      },
      want: undefined,
    },
  ])('$name', ({ edit, port, want }) => {
    const p = base();
    edit(p);
    expect(podEndpoint(p, port)).toBe(want);
  });
});
