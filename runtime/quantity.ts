// Kubernetes resource quantities ("500m", "2", "128Gi", "1e3") as numbers:
// CPU in millicores, everything else in base units. Pure; what apimachinery's
// resource.Quantity does for the values Yard reads.

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
export const milliCpu = (q: string | number): number => Math.ceil(parseQuantity(q) * 1000 - 1e-9);

/** Printable CPU: "12", "2.5", "750m". */
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
