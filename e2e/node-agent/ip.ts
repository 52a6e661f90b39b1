// Pod addresses from a node's podCIDR. kwok hands out addresses to the pods it
// simulates from the bottom of the range up (network+1, +2, …, reusing the
// ones freed by deleted pods first: `ipPool` in kwok's pod controller); the
// agent takes them from the top down, skips every address a pod on the node
// already shows, and reuses its own freed addresses last — kwok recycles the
// address of any deleted pod on the node, ours included, so a freed address
// may soon be held by one of kwok's pods. Pure.

export type Allocation =
  { readonly ok: true; readonly ip: string } | { readonly ok: false; readonly reason: string };

export interface AllocationRequest {
  /** The node's podCIDR, e.g. `127.16.3.0/24`. */
  readonly cidr: string;
  /** Addresses pods on the node hold (what the API shows, and the agent's own). */
  readonly inUse: ReadonlySet<string>;
  /** Addresses the agent freed on this node, oldest first: reused last. */
  readonly released?: readonly string[];
  /** A fixed address the pod asks for (annotation yard.dev/pod-ip). */
  readonly requested?: string | undefined;
}

/**
 * Fixed addresses that belong to no node: a pod may ask for one of these
 * (annotation yard.dev/pod-ip) on any node, so that a manifest can name a
 * member's address before it knows the node (the etcd members of the IM
 * backend's samples). No node's podCIDR lies here: they start at 127.16.0.0.
 * The caller must pass, in `inUse`, the addresses in this range that pods on
 * any node hold.
 */
export const staticPodRange = '127.15.0.0/16';

export function isStaticAddress(ip: string): boolean {
  const n = ipToInt(ip);
  const r = hostRange(staticPodRange);
  return n !== undefined && r !== undefined && n >= r.first && n <= r.last;
}

interface Range {
  /** The first and last usable host addresses, as integers. */
  readonly first: number;
  readonly last: number;
}

export function ipToInt(ip: string): number | undefined {
  const parts = ip.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return undefined;
    n = n * 256 + Number(p);
  }
  return n;
}

export function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** The usable hosts of an IPv4 CIDR: without the network and broadcast addresses. */
export function hostRange(cidr: string): Range | undefined {
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(cidr);
  const base = m?.[1] === undefined ? undefined : ipToInt(m[1]);
  const bits = Number(m?.[2]);
  if (base === undefined || !(bits >= 8 && bits <= 30)) return undefined;
  const size = 2 ** (32 - bits);
  const network = base - (base % size);
  return { first: network + 1, last: network + size - 2 };
}

export function allocateIp(req: AllocationRequest): Allocation {
  const range = hostRange(req.cidr);
  if (!range) {
    return { ok: false, reason: `podCIDR ${JSON.stringify(req.cidr)} is not an IPv4 /8–/30 range` };
  }
  if (req.requested !== undefined) return fixed(req.requested, range, req);
  const released = new Set(req.released ?? []);
  for (let n = range.last; n >= range.first; n--) {
    const ip = intToIp(n);
    if (!req.inUse.has(ip) && !released.has(ip)) return { ok: true, ip };
  }
  const reuse = (req.released ?? []).find((ip) => {
    const n = ipToInt(ip);
    return n !== undefined && n >= range.first && n <= range.last && !req.inUse.has(ip);
  });
  if (reuse) return { ok: true, ip: reuse };
  return {
    ok: false,
    reason: `no free address in ${req.cidr}: all ${range.last - range.first + 1} are in use`,
  };
}

function fixed(ip: string, range: Range, req: AllocationRequest): Allocation {
  const n = ipToInt(ip);
  if (!isStaticAddress(ip) && (n === undefined || n < range.first || n > range.last)) {
    return {
      ok: false,
      reason: `the requested address ${JSON.stringify(ip)} is not a host address of the node's podCIDR ${req.cidr} nor of the static range ${staticPodRange}`,
    };
  }
  if (req.inUse.has(ip)) {
    return { ok: false, reason: `the requested address ${ip} is held by another pod on the node` };
  }
  return { ok: true, ip };
}
