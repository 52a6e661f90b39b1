// Where each kind of data lives in etcd. Everything of one user that sync
// reports (account, contacts, inbox) sits under u/<user>/, so one watch on
// that prefix wakes a waiting push; Moments timelines, payments, groups and
// the diffusion queue live elsewhere. Pure.
import type { Box } from '../shared/im.ts';

/** Sequence numbers as fixed-width decimals, so key order is number order. */
export function seqKey(seq: number): string {
  return String(seq).padStart(16, '0');
}

export interface BoxKeys {
  readonly root: string;
  /** The sequence counter: the last sequence number given out. */
  readonly head: string;
  /** The highest sequence number a newer snapshot proved delivered (and so deleted). */
  readonly trim: string;
  readonly itemsPrefix: string;
  item(seq: number): string;
  /** One per (sender, message id) ever appended: what makes appends idempotent. */
  appended(from: string, id: string): string;
}

export function keyspace(prefix: string) {
  const p = prefix.endsWith('/') ? prefix : `${prefix}/`;
  const box = (b: Box, user: string): BoxKeys => {
    const root = b === 'inbox' ? `${p}u/${user}/inbox/` : `${p}m/${user}/timeline/`;
    return {
      root,
      head: `${root}head`,
      trim: `${root}trim`,
      itemsPrefix: `${root}m/`,
      item: (seq) => `${root}m/${seqKey(seq)}`,
      appended: (from, id) => `${root}id/${from}/${id}`,
    };
  };
  return {
    prefix: p,
    user: (u: string) => `${p}u/${u}/`,
    account: (u: string) => `${p}u/${u}/account`,
    contacts: (u: string) => `${p}u/${u}/contacts/`,
    contact: (u: string, other: string) => `${p}u/${u}/contacts/u/${other}`,
    membership: (u: string, group: string) => `${p}u/${u}/contacts/g/${group}`,
    box,
    group: (g: string) => `${p}g/${g}`,
    payment: (u: string, id: string) => `${p}pay/${u}/${id}`,
    jobs: `${p}q/job/`,
    job: (id: string) => `${p}q/job/${id}`,
    claims: `${p}q/claim/`,
    claim: (id: string) => `${p}q/claim/${id}`,
    progress: (id: string) => `${p}q/progress/${id}`,
  };
}

export type Keyspace = ReturnType<typeof keyspace>;
