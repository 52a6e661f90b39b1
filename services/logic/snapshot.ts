// The sync snapshot (docs/background.md §5): per user a few type → version pairs that
// the server hands to the client with the data; the client keeps it without
// understanding it and sends it back on the next sync. It is signed, so a
// tampered snapshot cannot make the server trim what was never delivered,
// and bound to its user. Pure.
import { createHmac } from 'node:crypto';
import { macEqual } from '../shared/ticket.ts';

export interface Versions {
  readonly account: number;
  readonly contacts: number;
  readonly messages: number;
}

export const zeroVersions: Versions = { account: 0, contacts: 0, messages: 0 };
export const maxSnapshotLength = 512;

export type SnapshotCheck =
  | { readonly kind: 'ok'; readonly versions: Versions }
  | { readonly kind: 'refused'; readonly status: 400 | 403; readonly reason: string };

const tag = 's1';
const mac = (key: Buffer, data: string): string =>
  createHmac('sha256', key).update(data).digest('base64url');

export function encodeSnapshot(key: Buffer, user: string, v: Versions): string {
  const payload = Buffer.from(JSON.stringify([user, v.account, v.contacts, v.messages])).toString(
    'base64url',
  );
  return `${tag}.${payload}.${mac(key, `${tag}.${payload}`)}`;
}

const isVersion = (n: unknown): n is number =>
  typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;

function parsePayload(payload: string): { owner: string; versions: Versions } | undefined {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (!Array.isArray(v) || v.length !== 4) return undefined;
  const [owner, account, contacts, messages] = v as unknown[];
  if (
    typeof owner !== 'string' ||
    !isVersion(account) ||
    !isVersion(contacts) ||
    !isVersion(messages)
  ) {
    return undefined;
  }
  return { owner, versions: { account, contacts, messages } };
}

/** An absent or empty snapshot is a first sync: everything is new. */
export function decodeSnapshot(
  key: Buffer,
  token: string | undefined,
  user: string,
): SnapshotCheck {
  if (token === undefined || token === '') return { kind: 'ok', versions: zeroVersions };
  const refuse = (reason: string): SnapshotCheck => ({ kind: 'refused', status: 400, reason });
  if (token.length > maxSnapshotLength) return refuse('snapshot too long');
  const [t, payload = '', sig = '', ...rest] = token.split('.');
  if (t !== tag || rest.length > 0)
    return refuse('malformed snapshot: send back the one the server gave');
  if (!macEqual(sig, mac(key, `${tag}.${payload}`)))
    return refuse('snapshot signature does not verify (altered?)');
  const parsed = parsePayload(payload);
  if (!parsed) return refuse('malformed snapshot');
  if (parsed.owner !== user) {
    return { kind: 'refused', status: 403, reason: `snapshot of ${parsed.owner} sent by ${user}` };
  }
  return { kind: 'ok', versions: parsed.versions };
}
