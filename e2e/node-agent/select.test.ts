import { describe, expect, it } from 'vitest';
import { selection } from './select.ts';
import type { NodeObject, PodObject } from './types.ts';

const simulated: NodeObject = {
  metadata: { name: 'n1', annotations: { 'kwok.x-k8s.io/node': 'fake' } },
};
const real: NodeObject = { metadata: { name: 'n1' } };
const pod = (
  over: { labels?: Record<string, string>; node?: string; phase?: string; deleting?: boolean } = {},
): PodObject => ({
  metadata: {
    name: 'p',
    labels: over.labels ?? { 'yard.dev/runtime': 'process' },
    ...(over.deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}),
  },
  spec: over.node === '' ? {} : { nodeName: over.node ?? 'n1' },
  ...(over.phase ? { status: { phase: over.phase } } : {}),
});

describe('selection', () => {
  it.each<{ name: string; pod: PodObject; node: NodeObject | undefined; want: true | RegExp }>([
    {
      name: 'an opted-in pod bound to a simulated node runs',
      pod: pod(),
      node: simulated,
      want: true,
    },
    {
      name: 'a Running one still runs',
      pod: pod({ phase: 'Running' }),
      node: simulated,
      want: true,
    },
    {
      name: 'a pod without the label is kwok’s',
      pod: pod({ labels: {} }),
      node: simulated,
      want: /not labelled yard\.dev\/runtime=process/,
    },
    {
      name: 'another runtime is not ours',
      pod: pod({ labels: { 'yard.dev/runtime': 'vm' } }),
      node: simulated,
      want: /not labelled/,
    },
    {
      name: 'an unbound pod waits for the scheduler',
      pod: pod({ node: '' }),
      node: undefined,
      want: /not bound/,
    },
    {
      name: 'a node this agent does not serve',
      pod: pod(),
      node: undefined,
      want: /not one this agent serves/,
    },
    {
      name: 'a real node has its own kubelet',
      pod: pod(),
      node: real,
      want: /not simulated by kwok/,
    },
    {
      name: 'a pod being deleted stops',
      pod: pod({ deleting: true }),
      node: simulated,
      want: /being deleted/,
    },
    {
      name: 'a finished pod never runs again',
      pod: pod({ phase: 'Succeeded' }),
      node: simulated,
      want: /finished \(Succeeded\)/,
    },
    {
      name: 'nor does a failed one',
      pod: pod({ phase: 'Failed' }),
      node: simulated,
      want: /finished \(Failed\)/,
    },
  ])('$name', ({ pod: p, node, want }) => {
    const got = selection(p, node);
    if (want === true) expect(got).toEqual({ run: true });
    else expect(got.run ? '' : got.reason).toMatch(want);
  });
});
