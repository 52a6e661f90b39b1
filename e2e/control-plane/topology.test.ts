import { describe, expect, it } from 'vitest';
import { nodeManifests, nodeName, parseTopology, podCidr } from './topology.ts';
import { label } from '../../crds/names.ts';

const base = {
  region: 'south-china',
  node: { cpu: '32', memory: '128Gi', pods: '110' },
  campuses: ['campus-a', 'campus-b', 'campus-c'],
};

describe('parseTopology', () => {
  it.each([
    ['a document that is not a map', 'x', /must be a YAML map/],
    ['no campuses', { ...base, campuses: [] }, /at least one campus/],
    [
      'a campus name that is not a DNS label',
      { ...base, campuses: ['Campus_A'] },
      /campuses\[0\]\.name: must be a DNS label/,
    ],
    ['a campus listed twice', { ...base, campuses: ['campus-a', 'campus-a'] }, /listed twice/],
    [
      'a bad cpu quantity',
      { ...base, node: { ...base.node, cpu: 'lots' } },
      /node\.cpu: must be a Kubernetes quantity/,
    ],
    [
      'a negative node count',
      { ...base, nodesPerCampus: -1 },
      /nodesPerCampus: must be a whole number/,
    ],
    ['a region with upper case', { ...base, region: 'South' }, /region: must be a DNS label/],
  ])('refuses %s with a message that says what to fix', (_name, doc, want) => {
    expect(() => parseTopology(doc)).toThrow(want);
  });

  it('defaults every campus to nodesPerCampus, and a campus may override it', () => {
    const t = parseTopology({
      ...base,
      nodesPerCampus: 3,
      campuses: ['campus-a', { name: 'campus-b', nodes: 1 }],
    });
    expect(t.campuses.map((c) => [c.name, c.nodes])).toEqual([
      ['campus-a', 3],
      ['campus-b', 1],
    ]);
  });

  it('lets the caller override the node count of every campus', () => {
    const t = parseTopology(
      { ...base, campuses: ['campus-a', { name: 'campus-b', nodes: 1 }] },
      500,
    );
    expect(t.campuses.map((c) => c.nodes)).toEqual([500, 500]);
  });

  it('accepts numbers for quantities, as YAML users write them', () => {
    expect(parseTopology({ ...base, node: { cpu: 8, memory: '32Gi', pods: 110 } }).node).toEqual({
      cpu: '8',
      memory: '32Gi',
      pods: '110',
    });
  });
});

describe('podCidr', () => {
  it.each([
    [0, '127.16.0.0/24'],
    [255, '127.16.255.0/24'],
    [256, '127.17.0.0/24'],
    [3000, '127.27.184.0/24'],
  ])('node %i gets %s, on loopback', (i, want) => {
    expect(podCidr(i)).toBe(want);
  });

  it('refuses more nodes than loopback has /24s for', () => {
    expect(() => podCidr(240 * 256)).toThrow(/too many nodes/);
  });
});

describe('nodeManifests', () => {
  it('makes one kwok node per campus slot, labelled with zone and region, each with its own pod CIDR', () => {
    const t = parseTopology({ ...base, nodesPerCampus: 2 });
    const nodes = nodeManifests(t, 'v1.36.3') as {
      metadata: {
        name: string;
        labels: Record<string, string>;
        annotations: Record<string, string>;
      };
      spec: { podCIDR: string };
    }[];
    expect(nodes.map((n) => n.metadata.name)).toEqual([
      'campus-a-node-001',
      'campus-a-node-002',
      'campus-b-node-001',
      'campus-b-node-002',
      'campus-c-node-001',
      'campus-c-node-002',
    ]);
    expect(nodes.map((n) => n.metadata.labels[label.zone])).toEqual([
      'campus-a',
      'campus-a',
      'campus-b',
      'campus-b',
      'campus-c',
      'campus-c',
    ]);
    expect(new Set(nodes.map((n) => n.spec.podCIDR)).size).toBe(6);
    for (const n of nodes) {
      expect(n.metadata.labels['topology.kubernetes.io/region']).toBe('south-china');
      expect(n.metadata.annotations['kwok.x-k8s.io/node']).toBe('fake');
    }
  });

  it('names nodes with zero-padded indexes so they sort', () => {
    expect(nodeName('campus-b', 9)).toBe('campus-b-node-010');
  });
});
