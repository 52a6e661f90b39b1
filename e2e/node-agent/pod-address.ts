// A pod's address on its node: kept across restarts (the agent's or the
// container's), else allocated from the node's podCIDR (ip.ts) around what
// kwok and the API already show. The adapter side of ip.ts: it lists the
// node's pods, the pure allocation picks.
import type { RestClient } from '../../runtime/rest.ts';
import { kinds } from '../../runtime/resource.ts';
import { annotation } from '../../crds/names.ts';
import { allocateIp, hostRange, ipToInt, isStaticAddress } from './ip.ts';
import { podCidrOf } from './select.ts';
import type { NodeObject, PodObject } from './types.ts';

function podIPsOf(p: PodObject): string[] {
  const ips = (p.status?.podIPs ?? []).map((x) => x.ip);
  if (p.status?.podIP) ips.push(p.status.podIP);
  return ips;
}

/** The address a pod already has in the node's range: the agent restarted, the pod keeps it. */
function keptAddress(pod: PodObject, cidr: string): string | undefined {
  const range = hostRange(cidr);
  const ip = pod.status?.podIP;
  const n = ipToInt(ip ?? '');
  if (ip && isStaticAddress(ip) && pod.metadata?.annotations?.[annotation.podIp] === ip) return ip;
  return range && n !== undefined && n >= range.first && n <= range.last ? ip : undefined;
}

/** An address the agent holds for a running pod. */
export interface HeldAddress {
  readonly node: string;
  readonly podIP: string;
}

export interface PodAddresses {
  /**
   * The pod's address on the node, or why it cannot have one. Nothing awaits
   * between reading what is held and returning, so a caller that records the
   * address (as a held one) before its next await never hands it out twice.
   */
  allocate(pod: PodObject, node: NodeObject): Promise<string | { reason: string }>;
  /** An address the agent freed: ip.ts reuses it last (kwok recycles freed ones first). */
  release(node: string, ip: string): void;
}

export function podAddresses(rest: RestClient, held: () => Iterable<HeldAddress>): PodAddresses {
  /** Addresses the agent freed per node, oldest first. */
  const released = new Map<string, string[]>();
  return {
    release(node, ip) {
      const list = released.get(node) ?? [];
      released.set(node, [...list.filter((x) => x !== ip), ip]);
    },
    async allocate(pod, node) {
      const nodeName = node.metadata?.name ?? '';
      const cidr = podCidrOf(node);
      if (!cidr) return { reason: `node ${nodeName} has no podCIDR` };
      const kept = keptAddress(pod, cidr);
      if (kept) return kept;
      const listed = await rest.list<PodObject>(kinds.Pod, {
        fieldSelector: `spec.nodeName=${nodeName}`,
      });
      const requested = pod.metadata?.annotations?.[annotation.podIp];
      // a static address belongs to no node: whoever holds it, on any node
      const holders =
        requested !== undefined && isStaticAddress(requested)
          ? (
              await rest.list<PodObject>(kinds.Pod, {
                fieldSelector: `status.podIP=${requested}`,
              })
            ).items.filter((p) => p.metadata?.uid !== pod.metadata?.uid)
          : [];
      // from here to the caller's record nothing awaits: two pods on one node never pick the same address
      const inUse = new Set([...listed.items, ...holders].flatMap(podIPsOf));
      for (const r of held()) {
        if (r.node === nodeName || isStaticAddress(r.podIP)) inUse.add(r.podIP);
      }
      const got = allocateIp({ cidr, inUse, released: released.get(nodeName) ?? [], requested });
      if (!got.ok) return { reason: got.reason };
      released.set(
        nodeName,
        (released.get(nodeName) ?? []).filter((ip) => ip !== got.ip),
      );
      return got.ip;
    },
  };
}
