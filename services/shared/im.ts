// The data of the IM backend as every tier sees it, and its validation: the
// same checks run in logic and again in storage (the last line of defence
// before data is written).
import { bad, idPattern, int, limits, messageIdPattern, object, optStr, str } from './validate.ts';
import type { Body } from './validate.ts';

export const boxes = ['inbox', 'timeline'] as const;
/** `inbox`: messages (1:1, group, transfers); `timeline`: Moments of contacts. */
export type Box = (typeof boxes)[number];

export const messageKinds = ['text', 'transfer', 'moment'] as const;
export type MessageKind = (typeof messageKinds)[number];

export interface Message {
  /** Chosen by the sender's client: the idempotency key, unique per sender. */
  readonly id: string;
  readonly from: string;
  readonly kind: MessageKind;
  readonly text: string;
  /** Server time of acceptance, ms since the epoch. */
  readonly sentAt: number;
  readonly to?: string;
  readonly group?: string;
  readonly amountCents?: number;
}

/** A message in a box, at its place in the box's sequence. */
export interface BoxItem extends Message {
  readonly seq: number;
}

export interface Account {
  readonly user: string;
  readonly name: string;
  readonly createdAt: number;
}

export interface Group {
  readonly id: string;
  readonly name: string;
  readonly owner: string;
  readonly members: readonly string[];
  readonly createdAt: number;
}

export function isBox(v: unknown): v is Box {
  return typeof v === 'string' && (boxes as readonly string[]).includes(v);
}

const messageFields = ['id', 'from', 'kind', 'text', 'sentAt', 'to', 'group', 'amountCents'];

export function parseMessage(value: unknown, what = 'message'): Message {
  const o: Body = object(value, messageFields, what);
  const kind = str(o, 'kind');
  if (!(messageKinds as readonly string[]).includes(kind))
    throw bad(`kind must be one of ${messageKinds.join(', ')}`);
  const to = optStr(o, 'to', { pattern: idPattern });
  const group = optStr(o, 'group', { pattern: idPattern });
  const amount = o['amountCents'] === undefined ? undefined : int(o, 'amountCents', 1, 100_000_000);
  return {
    id: str(o, 'id', { pattern: messageIdPattern }),
    from: str(o, 'from', { pattern: idPattern }),
    kind: kind as MessageKind,
    text: str(o, 'text', { max: limits.textChars }),
    sentAt: int(o, 'sentAt', 0, Number.MAX_SAFE_INTEGER),
    ...(to !== undefined ? { to } : {}),
    ...(group !== undefined ? { group } : {}),
    ...(amount !== undefined ? { amountCents: amount } : {}),
  };
}

/**
 * What makes two sends of one message id the same message: everything but the
 * time it was accepted (a retry is accepted again, later).
 */
export function fingerprint(m: Message): string {
  return JSON.stringify([
    m.id,
    m.from,
    m.kind,
    m.text,
    m.to ?? null,
    m.group ?? null,
    m.amountCents ?? null,
  ]);
}
