// Ticket checks at the door of every tier: a request that touches a user's
// data must carry that user's valid ticket (full-path tickets, docs/background.md §5).
import type { Request } from 'express';
import { HttpError } from './http-error.ts';
import { bearer, isService, mayActAs, verifyTicket } from './ticket.ts';
import type { TicketCheck, TicketClaims } from './ticket.ts';

export interface Auth {
  /** Any valid ticket. */
  verify(req: Request): TicketClaims;
  /** A valid ticket of `user`. */
  asUser(req: Request, user: string): TicketClaims;
  /** A valid user ticket, of whichever user. */
  anyUser(req: Request): TicketClaims;
  /** A valid service ticket. */
  service(req: Request): TicketClaims;
  /** The raw ticket, to pass on to the next tier. */
  token(req: Request): string;
}

function ok(check: TicketCheck): TicketClaims {
  if (check.kind === 'refused') throw new HttpError(check.status, check.reason);
  return check.claims;
}

export function createAuth(secret: string, now: () => number = Date.now): Auth {
  const token = (req: Request): string => bearer(req.get('authorization')) ?? '';
  const verify = (req: Request): TicketClaims =>
    ok(verifyTicket(secret, bearer(req.get('authorization')), now()));
  return {
    verify,
    token,
    asUser: (req, user) => ok(mayActAs(verify(req), user)),
    anyUser: (req) => {
      const c = verify(req);
      if (c.role !== 'user') throw new HttpError(403, `a ${c.role} ticket cannot act for a user`);
      return c;
    },
    service: (req) => ok(isService(verify(req))),
  };
}
