// Go-style durations ("30m", "1h30m", "90s") as milliseconds, as kubectl users
// write them. Pure.

const unitMs: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

export function parseDuration(text: string): number {
  const s = text.trim();
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let total = 0;
  let consumed = 0;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    total += Number(m[1]) * (unitMs[m[2] ?? ''] ?? 0);
    consumed = re.lastIndex;
  }
  if (s.length === 0 || consumed !== s.length) {
    throw new Error(`not a duration: "${text}" (examples: 30m, 1h30m, 90s)`);
  }
  return total;
}

export function formatDuration(ms: number): string {
  const totalS = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(totalS / 3600);
  const m = Math.floor((totalS % 3600) / 60);
  const s = totalS % 60;
  return [h ? `${h}h` : '', m ? `${m}m` : '', s || (!h && !m) ? `${s}s` : ''].join('');
}
