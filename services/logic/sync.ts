// What one sync answers (docs/background.md §5): only what is newer than the client's
// snapshot, and the snapshot to send next time. There is no ACK message: a
// sync carrying a snapshot proves that everything it covers arrived, so the
// server may delete (trim) inbox items up to it, and never anything newer.
// Pure: logic reads the view from storage and applies this.
import type { Account, BoxItem } from '../shared/im.ts';
import type { Versions } from './snapshot.ts';

export interface SyncView {
  readonly account: { readonly version: number; readonly data?: Account };
  readonly contacts: {
    readonly version: number;
    readonly contacts?: readonly string[];
    readonly groups?: readonly { readonly id: string; readonly name: string }[];
  };
  /** The inbox after the client's version, oldest first, up to the batch limit, with head and trim mark read at once. */
  readonly inbox: {
    readonly head: number;
    readonly trimmedThrough: number;
    readonly items: readonly BoxItem[];
  };
}

export interface SyncReply {
  readonly account?: Account;
  readonly contacts?: readonly string[];
  readonly groups?: readonly { readonly id: string; readonly name: string }[];
  readonly messages: readonly BoxItem[];
  /** More messages wait: sync again at once with the new snapshot. */
  readonly more: boolean;
  /** The client's snapshot is older than what was trimmed (another device synced further): some messages are gone. */
  readonly gap: boolean;
}

export type SyncDecision =
  | {
      readonly kind: 'ok';
      readonly reply: SyncReply;
      readonly next: Versions;
      /** Trim the inbox through this sequence number: the client's snapshot proves it delivered. */
      readonly trimThrough: number | undefined;
    }
  | { readonly kind: 'refused'; readonly status: 409; readonly reason: string };

/** Versions of the snapshot that the server has not reached: only a replayed or forged snapshot has them. */
function aheadOf(client: Versions, view: SyncView): string[] {
  const pairs: [string, number, number][] = [
    ['account', client.account, view.account.version],
    ['contacts', client.contacts, view.contacts.version],
    ['messages', client.messages, view.inbox.head],
  ];
  return pairs.filter(([, c, s]) => c > s).map(([name, c, s]) => `${name} ${c} > ${s}`);
}

/** The account and contacts when newer than the snapshot, and the versions the client then has. */
function newerProfile(
  client: Versions,
  view: SyncView,
): {
  reply: Pick<SyncReply, 'account' | 'contacts' | 'groups'>;
  account: number;
  contacts: number;
} {
  const account = view.account.version > client.account ? view.account.data : undefined;
  const contacts = view.contacts.version > client.contacts ? view.contacts.contacts : undefined;
  return {
    reply: {
      ...(account ? { account } : {}),
      ...(contacts ? { contacts, groups: view.contacts.groups ?? [] } : {}),
    },
    account: account ? view.account.version : client.account,
    contacts: contacts ? view.contacts.version : client.contacts,
  };
}

export function decideSync(client: Versions, view: SyncView, limit: number): SyncDecision {
  const ahead = aheadOf(client, view);
  if (ahead.length > 0) {
    return {
      kind: 'refused',
      status: 409,
      reason: `out of order: the snapshot is ahead of the server (${ahead.join(', ')})`,
    };
  }
  // only what is newer, and in sequence order, whatever storage handed over
  const messages = view.inbox.items
    .filter((m) => m.seq > client.messages)
    .sort((a, b) => a.seq - b.seq)
    .slice(0, limit);
  const last = messages[messages.length - 1]?.seq ?? client.messages;
  const more = last < view.inbox.head && messages.length >= limit;
  const profile = newerProfile(client, view);
  const next: Versions = {
    account: profile.account,
    contacts: profile.contacts,
    // without more to come, the client has everything through the head
    messages: more ? last : Math.max(last, view.inbox.head),
  };
  return {
    kind: 'ok',
    reply: { ...profile.reply, messages, more, gap: client.messages < view.inbox.trimmedThrough },
    next,
    trimThrough: client.messages > view.inbox.trimmedThrough ? client.messages : undefined,
  };
}
