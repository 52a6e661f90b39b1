import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { label } from '../../crds/names.ts';

/**
 * The simulated world: campuses (zones) of identical nodes. Pure: parsing and
 * turning a topology into Node objects does no I/O beyond reading the file.
 */
export interface Topology {
  readonly region: string;
  readonly node: NodeShape;
  readonly campuses: readonly CampusSpec[];
}

export interface NodeShape {
  readonly cpu: string;
  readonly memory: string;
  readonly pods: string;
}

export interface CampusSpec {
  readonly name: string;
  readonly nodes: number;
  /** Overrides the default node shape for this campus. */
  readonly node?: NodeShape;
}

/** Marks nodes kwok manages (and only those). */
export const kwokAnnotation = 'kwok.x-k8s.io/node';

const dns1123 = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const quantity = /^[0-9]+(\.[0-9]+)?(m|k|Ki|M|Mi|G|Gi|T|Ti|P|Pi|E|Ei)?$/;

function shape(raw: unknown, where: string, fallback?: NodeShape): NodeShape {
  if (raw === undefined && fallback) return fallback;
  if (typeof raw !== 'object' || raw === null)
    throw new Error(`${where}: must be a map with cpu, memory and pods`);
  const r = raw as Record<string, unknown>;
  const field = (k: keyof NodeShape): string => {
    const v = r[k] ?? fallback?.[k];
    const s = typeof v === 'number' ? String(v) : v;
    if (typeof s !== 'string' || !quantity.test(s)) {
      throw new Error(
        `${where}.${k}: must be a Kubernetes quantity such as "32" or "128Gi", got ${JSON.stringify(v)}`,
      );
    }
    return s;
  };
  return { cpu: field('cpu'), memory: field('memory'), pods: field('pods') };
}

function count(v: unknown, where: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 20000) {
    throw new Error(`${where}: must be a whole number from 0 to 20000, got ${JSON.stringify(v)}`);
  }
  return v;
}

/** Validates a parsed topology document; `nodesPerCampus` overrides the file's. */
export function parseTopology(doc: unknown, nodesPerCampus?: number): Topology {
  if (typeof doc !== 'object' || doc === null) throw new Error('topology: must be a YAML map');
  const d = doc as Record<string, unknown>;
  const region = d['region'] ?? 'local';
  if (typeof region !== 'string' || !dns1123.test(region)) {
    throw new Error(
      `topology.region: must be a DNS label (lower case, digits, '-'), got ${JSON.stringify(region)}`,
    );
  }
  const node = shape(d['node'], 'topology.node');
  const perCampus = nodesPerCampus ?? count(d['nodesPerCampus'] ?? 2, 'topology.nodesPerCampus');
  const list = d['campuses'];
  if (!Array.isArray(list) || list.length === 0)
    throw new Error('topology.campuses: must list at least one campus');
  const seen = new Set<string>();
  const campuses = list.map((c: unknown, i): CampusSpec => {
    const where = `topology.campuses[${i}]`;
    const entry = (typeof c === 'string' ? { name: c } : c) as Record<string, unknown> | null;
    const name = entry?.['name'];
    if (typeof name !== 'string' || !dns1123.test(name)) {
      throw new Error(
        `${where}.name: must be a DNS label such as "campus-a", got ${JSON.stringify(name)}`,
      );
    }
    if (seen.has(name)) throw new Error(`${where}.name: campus "${name}" is listed twice`);
    seen.add(name);
    const nodes =
      nodesPerCampus ??
      (entry?.['nodes'] === undefined ? perCampus : count(entry['nodes'], `${where}.nodes`));
    const own = entry?.['node'];
    return own === undefined
      ? { name, nodes }
      : { name, nodes, node: shape(own, `${where}.node`, node) };
  });
  return { region, node, campuses };
}

export async function loadTopology(path: string, nodesPerCampus?: number): Promise<Topology> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new Error(`topology: cannot read ${path}`, { cause: err });
  }
  return parseTopology(parse(text), nodesPerCampus);
}

/**
 * The pod CIDR of the i-th node: a /24 inside 127.16.0.0/12 so that pod
 * addresses are on loopback, where tests may talk to them and a local process
 * can listen with no interface set-up.
 */
export function podCidr(index: number): string {
  const hi = 16 + Math.floor(index / 256);
  if (hi > 255) throw new Error(`too many nodes for loopback pod CIDRs: ${index + 1}`);
  return `127.${hi}.${index % 256}.0/24`;
}

export function nodeName(campus: string, i: number): string {
  return `${campus}-node-${String(i + 1).padStart(3, '0')}`;
}

/** The Node objects of a topology, in campus order; kwok brings them to Ready. */
export function nodeManifests(t: Topology, kubeletVersion: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const campus of t.campuses) {
    const s = campus.node ?? t.node;
    for (let i = 0; i < campus.nodes; i++) {
      const name = nodeName(campus.name, i);
      const cidr = podCidr(out.length);
      const resources = { cpu: s.cpu, memory: s.memory, pods: s.pods };
      out.push({
        apiVersion: 'v1',
        kind: 'Node',
        metadata: {
          name,
          labels: {
            'kubernetes.io/hostname': name,
            'kubernetes.io/os': 'linux',
            'kubernetes.io/arch': 'amd64',
            'node.kubernetes.io/instance-type': 'kwok',
            [label.zone]: campus.name,
            [label.region]: t.region,
            type: 'kwok',
          },
          annotations: { [kwokAnnotation]: 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
        },
        spec: { podCIDR: cidr, podCIDRs: [cidr] },
        status: {
          allocatable: resources,
          capacity: resources,
          nodeInfo: { kubeletVersion, architecture: 'amd64', operatingSystem: 'linux' },
        },
      });
    }
  }
  return out;
}
