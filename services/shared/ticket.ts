// Full-path tickets (docs/background.md §5): after login a client holds a ticket, every
// request carries it, and every tier verifies it before it touches a user's
// data, so private data is reachable only from its owner's client. A ticket is
// an HMAC-signed claim set, verifiable by any holder of the shared secret
// without a call to a session store. Pure: time is passed in.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const ticketRoles = ['user', 'service'] as const;
/** `user`: a client's ticket; `service`: a logic instance working the diffusion queue. */
export type TicketRole = (typeof ticketRoles)[number];

export interface TicketClaims {
  /** The user id (or, for a service ticket, the service instance). */
  readonly sub: string;
  readonly role: TicketRole;
  /** Issued at, ms since the epoch. */
  readonly iat: number;
  /** Expires at, ms since the epoch. */
  readonly exp: number;
}

export type TicketCheck =
  | { readonly kind: 'ok'; readonly claims: TicketClaims }
  | { readonly kind: 'refused'; readonly status: 401 | 403; readonly reason: string };

const version = 'yt1';
/** Longer tokens are refused before any decoding or hashing. */
export const maxTicketLength = 512;
/** Secrets shorter than this are refused at start-up. */
export const minSecretLength = 32;

/** A key per purpose, so a signed snapshot can never pass as a ticket or the other way round. */
export function deriveKey(secret: string, purpose: 'ticket' | 'snapshot'): Buffer {
  return createHmac('sha256', secret).update(`yard/${purpose}`).digest();
}

function mac(key: Buffer, data: string): string {
  return createHmac('sha256', key).update(data).digest('base64url');
}

/** Constant-time comparison of two base64url MACs. */
export function macEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function signTicket(secret: string, claims: TicketClaims): string {
  const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
  const body = `${version}.${payload}`;
  return `${body}.${mac(deriveKey(secret, 'ticket'), body)}`;
}

const refuse = (reason: string): TicketCheck => ({ kind: 'refused', status: 401, reason });

function parseClaims(payload: string): TicketClaims | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof raw !== 'object' || raw === null) return undefined;
  const o = raw as Record<string, unknown>;
  const { sub, role, iat, exp } = o;
  if (typeof sub !== 'string' || sub.length === 0 || sub.length > 64) return undefined;
  if (role !== 'user' && role !== 'service') return undefined;
  if (typeof iat !== 'number' || typeof exp !== 'number') return undefined;
  if (!Number.isFinite(iat) || !Number.isFinite(exp)) return undefined;
  return { sub, role, iat, exp };
}

/** Verifies signature, shape and expiry; says why when it refuses. */
export function verifyTicket(secret: string, token: string | undefined, now: number): TicketCheck {
  if (token === undefined || token === '')
    return refuse('no ticket: send Authorization: Bearer <ticket>');
  if (token.length > maxTicketLength)
    return refuse(`ticket longer than ${maxTicketLength} characters`);
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== version) return refuse('malformed ticket');
  const [, payload = '', sig = ''] = parts;
  if (!macEqual(sig, mac(deriveKey(secret, 'ticket'), `${version}.${payload}`))) {
    return refuse('ticket signature does not verify (forged or signed with another secret)');
  }
  const claims = parseClaims(payload);
  if (!claims) return refuse('malformed ticket claims');
  if (now >= claims.exp) {
    return refuse(`ticket expired ${Math.round((now - claims.exp) / 1000)}s ago; log in again`);
  }
  if (claims.iat > now + 60_000) return refuse('ticket issued in the future');
  return { kind: 'ok', claims };
}

/** The token of an `Authorization: Bearer <ticket>` header. */
export function bearer(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const m = /^Bearer ([^\s]+)$/.exec(header.trim());
  return m?.[1];
}

/** Whether the verified claims may act on `user`'s data: only the user's own ticket may. */
export function mayActAs(claims: TicketClaims, user: string): TicketCheck {
  if (claims.role !== 'user') {
    return {
      kind: 'refused',
      status: 403,
      reason: `a ${claims.role} ticket cannot act for a user`,
    };
  }
  if (claims.sub !== user) {
    return {
      kind: 'refused',
      status: 403,
      reason: `ticket of ${claims.sub} cannot act on ${user}'s data`,
    };
  }
  return { kind: 'ok', claims };
}

/** Whether the verified claims are a service's (the diffusion queue is not one user's data). */
export function isService(claims: TicketClaims): TicketCheck {
  return claims.role === 'service'
    ? { kind: 'ok', claims }
    : {
        kind: 'refused',
        status: 403,
        reason: 'this API is for services; a user ticket is refused',
      };
}
