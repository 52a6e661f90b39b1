// Counting one client's API requests from the API server's audit log: the
// server's own record, so nothing sits between the client and the server
// (no proxy adds latency), and every request counts, the informers' lists and
// watches and the leader election's renewals included. The policy logs only
// that client's user, at Metadata level, so the other components cost nothing.
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';

/** An audit policy that records only `username`'s requests. */
export function auditPolicy(username: string): string {
  return [
    'apiVersion: audit.k8s.io/v1',
    'kind: Policy',
    'omitStages: [RequestReceived]',
    'rules:',
    '  - level: Metadata',
    `    users: ['${username}']`,
    '  - level: None',
    '',
  ].join('\n');
}

export interface Window {
  readonly name: string;
  /** Date.now() bounds, by when the API server received the request. */
  readonly from: number;
  readonly to: number;
}

export interface RequestCounts {
  readonly total: number;
  /** get, list, watch, create, update, patch, delete, … */
  readonly byVerb: Record<string, number>;
  /** `resource[/subresource]` → count, e.g. `deployments`, `imservices/status`. */
  readonly byResource: Record<string, number>;
  /** create, update, patch, delete. */
  readonly writes: number;
  /**
   * `verb resource` → mean time the API server took (received to response
   * complete), in ms; watches excluded (they last minutes by design).
   */
  readonly serverMs: Record<string, number>;
}

interface AuditEvent {
  readonly auditID?: string;
  readonly verb?: string;
  readonly user?: { readonly username?: string };
  readonly objectRef?: { readonly resource?: string; readonly subresource?: string };
  readonly requestReceivedTimestamp?: string;
  readonly stageTimestamp?: string;
}

interface Request {
  readonly id: string;
  readonly user: string;
  readonly verb: string;
  readonly resource: string;
  readonly at: number;
  /** ms from received to this stage (the only stage logged for all but long-running requests). */
  readonly tookMs: number;
}

const writeVerbs = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);

/** An RFC 3339 time with microseconds (as audit events carry) in ms, keeping the fraction. */
function micros(t: string | undefined): number {
  const m = /\.(\d+)Z$/.exec(t ?? '');
  const whole = Date.parse((t ?? '').replace(/\.\d+Z$/, 'Z'));
  return whole + (m ? Number(`0.${m[1]}`) * 1000 : 0);
}

/** One line of the audit log, or undefined (a line cut short by the server stopping). */
export function parseAuditLine(line: string): Request | undefined {
  let ev: AuditEvent;
  try {
    ev = JSON.parse(line) as AuditEvent;
  } catch {
    return undefined;
  }
  if (!ev.auditID) return undefined;
  const r = ev.objectRef;
  return {
    id: ev.auditID,
    user: ev.user?.username ?? '',
    verb: ev.verb ?? '?',
    resource: r?.resource ? `${r.resource}${r.subresource ? `/${r.subresource}` : ''}` : '?',
    at: Date.parse(ev.requestReceivedTimestamp ?? ''),
    tookMs: micros(ev.stageTimestamp) - micros(ev.requestReceivedTimestamp),
  };
}

interface Counts {
  total: number;
  byVerb: Record<string, number>;
  byResource: Record<string, number>;
  writes: number;
  took: Map<string, { n: number; ms: number }>;
}

export const noRequests = (): RequestCounts => ({
  total: 0,
  byVerb: {},
  byResource: {},
  writes: 0,
  serverMs: {},
});

function add(c: Counts, r: Request): void {
  c.total++;
  c.byVerb[r.verb] = (c.byVerb[r.verb] ?? 0) + 1;
  c.byResource[r.resource] = (c.byResource[r.resource] ?? 0) + 1;
  if (writeVerbs.has(r.verb)) c.writes++;
  if (r.verb === 'watch' || !Number.isFinite(r.tookMs)) return;
  const key = `${r.verb} ${r.resource}`;
  const t = c.took.get(key) ?? { n: 0, ms: 0 };
  c.took.set(key, { n: t.n + 1, ms: t.ms + r.tookMs });
}

function finish(c: Counts): RequestCounts {
  const { took, ...rest } = c;
  const serverMs = Object.fromEntries(
    [...took].map(([k, t]) => [k, Math.round((t.ms / t.n) * 10) / 10]),
  );
  return { ...rest, serverMs };
}

/**
 * Counts `username`'s requests in each window. A request appears once per
 * stage (a watch at ResponseStarted and again at ResponseComplete), so each
 * audit ID counts once.
 */
export async function countRequests(
  file: string,
  username: string,
  windows: readonly Window[],
): Promise<Record<string, RequestCounts>> {
  const out = new Map<Window, Counts>(
    windows.map((w) => [w, { total: 0, byVerb: {}, byResource: {}, writes: 0, took: new Map() }]),
  );
  const seen = new Set<string>();
  const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  for await (const line of lines) {
    const r = parseAuditLine(line);
    if (!r || r.user !== username || seen.has(r.id)) continue;
    seen.add(r.id);
    for (const [w, c] of out) if (r.at >= w.from && r.at <= w.to) add(c, r);
  }
  return Object.fromEntries([...out].map(([w, c]) => [w.name, finish(c)]));
}
