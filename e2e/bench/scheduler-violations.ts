// bench:scheduler's constraint checks (pure): what a placement must never
// do, judged from the nodes and pods listed at the end of a phase.
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { label } from '../../crds/names.ts';
import { podResources } from '../../scheduler/adapter/mapping.ts';
import { campusNames } from '../harness/yard.ts';

// ---- violations -------------------------------------------------------------------

export interface World {
  readonly nodes: readonly V1Node[];
  readonly pods: readonly V1Pod[];
  readonly jobs?: ReadonlyMap<string, number>;
  /** Nodes that were not open at some moment (NodeWatch): no spread evidence. */
  readonly unsteady?: ReadonlySet<string>;
  /**
   * False after preemption: evicting a whole gang frees room on nodes after
   * the decisions that could have used it were made, so room seen at the end
   * says nothing about the spread (it is judged before the surge instead).
   */
  readonly judgeSpread?: boolean;
}

interface Use {
  cpu: number;
  online: number;
}

const holds = (p: V1Pod): boolean =>
  Boolean(p.spec?.nodeName) &&
  !p.metadata?.deletionTimestamp &&
  p.status?.phase !== 'Succeeded' &&
  p.status?.phase !== 'Failed';

const allocCpu = (n: V1Node): number => Number(String(n.status?.allocatable?.['cpu'] ?? 0)) * 1000;
const zoneOf = (n: V1Node | undefined): string => n?.metadata?.labels?.[label.zone] ?? '';

function usage(live: readonly V1Pod[]): Map<string, Use> {
  const used = new Map<string, Use>();
  for (const p of live) {
    const n = p.spec?.nodeName ?? '';
    const cpu = podResources(p).cpu;
    const u = used.get(n) ?? { cpu: 0, online: 0 };
    u.cpu += cpu;
    if (p.metadata?.labels?.['yard.dev/framework'] !== 'offline') u.online += cpu;
    used.set(n, u);
  }
  return used;
}

/** Nodes over their CPU, and pods outside the campus their nodeSelector names. */
function misplaced(w: World, live: readonly V1Pod[], used: ReadonlyMap<string, Use>): string[] {
  const out: string[] = [];
  const nodes = new Map(w.nodes.map((n) => [n.metadata?.name ?? '', n]));
  for (const p of live) {
    const want = p.spec?.nodeSelector?.[label.zone];
    const zone = zoneOf(nodes.get(p.spec?.nodeName ?? ''));
    if (want && zone !== want) out.push(`${p.metadata?.name} is in ${zone}, not ${want}`);
  }
  for (const n of w.nodes) {
    const u = used.get(n.metadata?.name ?? '');
    if (u && u.cpu > allocCpu(n))
      out.push(`${n.metadata?.name} holds ${u.cpu / 1000} of ${allocCpu(n) / 1000} CPU`);
  }
  return out;
}

/** A campus whose online pods request more than the default ceiling, (N−1)/N of its CPU. */
function overCeiling(w: World, used: ReadonlyMap<string, Use>): string[] {
  const byZone = new Map<string, { used: number; alloc: number }>();
  for (const n of w.nodes) {
    const c = byZone.get(zoneOf(n)) ?? { used: 0, alloc: 0 };
    c.used += used.get(n.metadata?.name ?? '')?.online ?? 0;
    c.alloc += allocCpu(n);
    byZone.set(zoneOf(n), c);
  }
  const f = (campusNames.length - 1) / campusNames.length;
  return [...byZone]
    .filter(([, c]) => c.used > c.alloc * f + 1e-6)
    .map(([zone, c]) => `${zone}: online requests ${c.used / 1000} CPU, over its ceiling`);
}

function brokenGangs(w: World, live: readonly V1Pod[]): string[] {
  const running = new Map<string, number>();
  for (const p of live) {
    const j = p.metadata?.labels?.['yard.dev/offline-job'];
    if (j) running.set(j, (running.get(j) ?? 0) + 1);
  }
  return [...(w.jobs ?? [])]
    .filter(([job, min]) => (running.get(job) ?? 0) > 0 && (running.get(job) ?? 0) < min)
    .map(([job, min]) => `gang ${job} runs ${running.get(job)} of its minimum ${min}`);
}

/**
 * A service stacked: a node of a campus holds two more of its replicas than
 * another node of that campus that still has room for one (a node that had no
 * room — a surge that preempted its way in — may stack).
 */
function stacked(w: World, live: readonly V1Pod[], used: ReadonlyMap<string, Use>): string[] {
  const out: string[] = [];
  const per = new Map<string, { cpu: number; nodes: Map<string, number> }>();
  for (const p of live) {
    const svc = p.metadata?.labels?.['yard.dev/imservice'];
    // a preemptor goes where room was cleared for it, stacked or not
    if (!svc || p.status?.nominatedNodeName) continue;
    const e = per.get(svc) ?? { cpu: podResources(p).cpu, nodes: new Map<string, number>() };
    const n = p.spec?.nodeName ?? '';
    e.nodes.set(n, (e.nodes.get(n) ?? 0) + 1);
    per.set(svc, e);
  }
  for (const [svc, e] of per) {
    for (const zone of campusNames) {
      const nodes = w.nodes.filter((n) => zoneOf(n) === zone);
      const count = (n: V1Node): number => e.nodes.get(n.metadata?.name ?? '') ?? 0;
      const top = Math.max(0, ...nodes.map(count));
      const free = (n: V1Node): number =>
        allocCpu(n) - (used.get(n.metadata?.name ?? '')?.cpu ?? 0);
      const steady = (n: V1Node): boolean => !w.unsteady?.has(n.metadata?.name ?? '');
      const roomy = nodes.find((n) => steady(n) && count(n) <= top - 2 && free(n) >= e.cpu);
      if (roomy)
        out.push(`${svc} in ${zone}: ${top} on one node while ${roomy.metadata?.name} has room`);
    }
  }
  return out;
}

export function violations(w: World): string[] {
  const live = w.pods.filter(holds);
  const used = usage(live);
  return [
    ...misplaced(w, live, used),
    ...overCeiling(w, used),
    ...brokenGangs(w, live),
    ...(w.judgeSpread === false ? [] : stacked(w, live, used)),
  ];
}
