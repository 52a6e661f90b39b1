// The prober's delivery check: every message the backend acknowledged must
// reach each recipient exactly once. Sends are recorded when acknowledged,
// receipts as the recipients' syncs return them; what is still missing after
// the timeout counts as lost. Pure: times are passed in.

export interface Ledger {
  /** `recipient sender/id` → when sent, and whether and when it arrived. */
  readonly entries: Map<
    string,
    { sentAt: number; deliveredAt?: number; lost: boolean; unacked?: boolean }
  >;
  expected: number;
  delivered: number;
  lost: number;
  /** Delivered after being counted lost: late, not lost after all. */
  late: number;
  duplicates: number;
  /** Received but (not yet) acknowledged to the sender (e.g. its answer timed out): fine, counted for insight. */
  unacked: number;
}

export type Receipt =
  | { readonly kind: 'first'; readonly latencyMs: number }
  | { readonly kind: 'late'; readonly latencyMs: number }
  | { readonly kind: 'duplicate' }
  | { readonly kind: 'unacked' };

export function createLedger(): Ledger {
  return {
    entries: new Map(),
    expected: 0,
    delivered: 0,
    lost: 0,
    late: 0,
    duplicates: 0,
    unacked: 0,
  };
}

const entryKey = (recipient: string, message: string): string => `${recipient} ${message}`;

/** An acknowledged message (`sender/id`) that each recipient must receive once. */
export function expectMessage(
  l: Ledger,
  message: string,
  recipients: readonly string[],
  sentAt: number,
): void {
  for (const r of recipients) {
    const k = entryKey(r, message);
    const e = l.entries.get(k);
    if (e?.unacked) {
      // received before its acknowledgement reached us (a recipient's sync can
      // overtake the sender's answer): expected, and delivered already
      e.unacked = false;
      l.unacked--;
      l.expected++;
      l.delivered++;
      continue;
    }
    if (e) continue; // a retried send of the same id is the same message
    l.entries.set(k, { sentAt, lost: false });
    l.expected++;
  }
}

export function receive(l: Ledger, recipient: string, message: string, at: number): Receipt {
  const e = l.entries.get(entryKey(recipient, message));
  if (!e) {
    l.unacked++;
    // remember it, so that a second copy is caught as a duplicate
    l.entries.set(entryKey(recipient, message), {
      sentAt: at,
      deliveredAt: at,
      lost: false,
      unacked: true,
    });
    return { kind: 'unacked' };
  }
  if (e.deliveredAt !== undefined) {
    l.duplicates++;
    return { kind: 'duplicate' };
  }
  e.deliveredAt = at;
  const latencyMs = Math.max(0, at - e.sentAt);
  if (e.lost) {
    l.lost--;
    l.late++;
    l.delivered++;
    return { kind: 'late', latencyMs };
  }
  l.delivered++;
  return { kind: 'first', latencyMs };
}

/** Marks as lost what is overdue; returns how many were newly marked. */
export function expire(l: Ledger, now: number, timeoutMs: number): number {
  let n = 0;
  for (const e of l.entries.values()) {
    if (e.deliveredAt === undefined && !e.lost && now - e.sentAt >= timeoutMs) {
      e.lost = true;
      l.lost++;
      n++;
    }
  }
  return n;
}

/** Acknowledged, not yet received, not yet counted lost. */
export function pending(l: Ledger): number {
  return l.expected - l.delivered - l.lost;
}

/** Forgets settled entries (delivered, or lost) older than `keepMs`: a standing prober keeps bounded memory. */
export function prune(l: Ledger, now: number, keepMs: number): void {
  for (const [k, e] of l.entries) {
    const settledAt = e.deliveredAt ?? (e.lost ? e.sentAt : undefined);
    if (settledAt !== undefined && now - settledAt > keepMs) l.entries.delete(k);
  }
}
