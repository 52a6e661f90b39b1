// Kubernetes resource quantities ("500m", "2", "128Gi", "1e3") as numbers:
// CPU in millicores, everything else in base units; and what a pod requests,
// as kube-scheduler counts it. Pure; what apimachinery's resource.Quantity
// does for the values Yard reads. The one place Yard reads or writes a
// quantity: the operator, the scheduler's adapter and the node agent all
// come here (the scheduler's core sees only the numbers).
import type { V1Pod } from '@kubernetes/client-node';

const binary: Record<string, number> = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};
const decimal: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
};

const pattern =
  /^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E))?$/;

/** The value of a quantity in base units; throws on text that is not a quantity. */
export function parseQuantity(q: string | number): number {
  if (typeof q === 'number') return q;
  const m = pattern.exec(q.trim());
  if (!m) throw new Error(`not a Kubernetes quantity: "${q}" (examples: 500m, 2, 128Gi)`);
  const n = Number(m[1]);
  if (m[2]) return n * 10 ** Number(m[2].slice(1));
  const suffix = m[3] ?? '';
  return n * (binary[suffix] ?? decimal[suffix] ?? 1);
}

/** CPU in whole millicores (rounded up, as the kubelet does). */
export const milliCpu = (q: string | number): number =>
  Math.ceil(parseQuantity(q) * 1000 - 1e-9) + 0; // + 0: never -0

/** Memory (or any other quantity) in whole units, rounded up. */
export const bytes = (q: string | number): number => Math.ceil(parseQuantity(q) - 1e-9) + 0;

/** CPU and memory: millicores and bytes. */
export interface Requests {
  readonly cpu: number;
  readonly memory: number;
}

type Quantities = Readonly<Record<string, string | number>> | undefined;

/** The CPU (millicores) and memory (bytes) of a resource list; missing means 0. */
export function requestsOf(q: Quantities): Requests {
  return {
    cpu: q?.['cpu'] === undefined ? 0 : milliCpu(q['cpu']),
    memory: q?.['memory'] === undefined ? 0 : bytes(q['memory']),
  };
}

/**
 * What a pod requests, as kube-scheduler counts it: the containers' sum, or
 * the largest init container if that is more, plus the pod overhead
 * (`spec.overhead`, set from its RuntimeClass) — the overhead holds node
 * capacity like any request.
 */
export function podRequests(pod: V1Pod): Requests {
  const spec = pod.spec;
  let cpu = 0;
  let memory = 0;
  for (const c of spec?.containers ?? []) {
    const r = requestsOf(c.resources?.requests);
    cpu += r.cpu;
    memory += r.memory;
  }
  for (const c of spec?.initContainers ?? []) {
    const r = requestsOf(c.resources?.requests);
    cpu = Math.max(cpu, r.cpu);
    memory = Math.max(memory, r.memory);
  }
  const overhead = requestsOf(spec?.overhead);
  return { cpu: cpu + overhead.cpu, memory: memory + overhead.memory };
}

// --- writing quantities -------------------------------------------------------

/** Printable CPU: "12", "2.5", "750m" (rounded above one core: for people, not for the API). */
export function formatCpu(milli: number): string {
  if (milli % 1000 === 0) return String(milli / 1000);
  return milli > 1000 ? String(Math.round(milli / 100) / 10) : `${milli}m`;
}

/** Printable memory in the largest binary unit that keeps one decimal: "24Gi", "1.5Gi", "512Mi". */
export function formatBytes(bytes: number): string {
  for (const [suffix, size] of [
    ['Ti', 2 ** 40],
    ['Gi', 2 ** 30],
    ['Mi', 2 ** 20],
    ['Ki', 2 ** 10],
  ] as const) {
    if (Math.abs(bytes) >= size) return `${Math.round((bytes / size) * 10) / 10}${suffix}`;
  }
  return String(bytes);
}

/**
 * CPU as an exact quantity: "42" or "42666m" (rounded down to a whole
 * millicore) — what a status reports, so that it reads back as the number
 * that was decided.
 */
export function cpuQuantity(milli: number): string {
  const m = Math.floor(milli + 1e-9);
  return m % 1000 === 0 ? String(m / 1000) : `${m}m`;
}

/** Memory as an exact quantity: the largest binary unit it is a whole multiple of, else bytes. */
export function memoryQuantity(n: number): string {
  const b = Math.floor(n + 1e-9);
  if (b === 0) return '0';
  for (const [suffix, size] of [
    ['Ti', 2 ** 40],
    ['Gi', 2 ** 30],
    ['Mi', 2 ** 20],
    ['Ki', 2 ** 10],
  ] as const) {
    if (b % size === 0) return `${b / size}${suffix}`;
  }
  return String(b);
}
