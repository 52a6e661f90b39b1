// What a synthetic user does: the mix of operations (a wheel the run goes
// round) and each operation — a 1:1 send, a group send, a payment, a sync
// that feeds the delivery ledger, a fresh login.
import { expectMessage, receive } from './delivery.ts';
import type { Ledger } from './delivery.ts';
import type { Recorder } from './recorder.ts';
import { login } from './users.ts';
import type { ProberClient, User } from './users.ts';

export const proberOps = ['send', 'sync', 'group-send', 'pay', 'login'] as const;
export type ProberOp = (typeof proberOps)[number];

export const defaultMix: Readonly<Record<ProberOp, number>> = {
  send: 8,
  sync: 8,
  'group-send': 2,
  pay: 1,
  login: 1,
};

/** Operation i of the run is `wheel[i % wheel.length]`: each op as often as its weight, in a fixed order. */
export function mixWheel(mix: Partial<Record<ProberOp, number>> = {}): ProberOp[] {
  const m = { ...defaultMix, ...mix };
  const wheel = proberOps.flatMap((op) => Array<ProberOp>(Math.max(0, Math.round(m[op]))).fill(op));
  if (wheel.length === 0) throw new Error('prober: the operation mix is empty');
  return wheel;
}

export interface OperationContext {
  readonly client: ProberClient;
  readonly recorder: Recorder;
  readonly ledger: Ledger;
  readonly users: readonly User[];
  readonly group: string;
  readonly now: () => number;
  /** A message id unique in the run. */
  nextId(): string;
}

/** Syncs one user until nothing more is pending (at most 10 rounds); a second sync of the same user meanwhile is a no-op. */
export async function syncUser(c: OperationContext, u: User): Promise<void> {
  if (!u.session || u.syncing) return;
  const s = u.session;
  u.syncing = true;
  try {
    for (let round = 0; round < 10; round++) {
      const r = await c.recorder.timed('sync', () => s.sync(u.snapshot));
      if (!r.ok) {
        if (r.status === 401) u.session = undefined;
        return;
      }
      const at = c.now();
      for (const m of r.body.messages) {
        const message = `${m.from}/${m.id}`;
        c.recorder.received(receive(c.ledger, u.name, message, at), u.name, message, at);
      }
      u.snapshot = r.body.snapshot;
      if (!r.body.more) return;
    }
  } finally {
    u.syncing = false;
  }
}

/** Operation `op` as the run's i-th: user i sends to user i+1 (a contact in the ring). */
export async function runOperation(c: OperationContext, op: ProberOp, i: number): Promise<void> {
  const { users, recorder, ledger } = c;
  const u = users[i % users.length];
  const to = users[(i + 1) % users.length];
  if (!u || !to) return;
  if (!u.session) {
    await login(c.client, recorder.timed, u);
    return;
  }
  const s = u.session;
  const id = c.nextId();
  switch (op) {
    case 'send': {
      const r = await recorder.timed('send', () => s.send(to.name, id, `dial test ${id}`));
      if (r.ok) expectMessage(ledger, `${u.name}/${id}`, [to.name], c.now());
      else if (r.status === 401) u.session = undefined;
      return;
    }
    case 'pay': {
      const r = await recorder.timed('pay', () => s.pay(to.name, id, 1));
      if (r.ok) expectMessage(ledger, `${u.name}/${id}`, [to.name], c.now());
      return;
    }
    case 'group-send': {
      // the group's members: every user but the first, who owns it
      const sender = users[1 + (i % (users.length - 1))] ?? u;
      if (!sender.session) return;
      const gs = sender.session;
      const r = await recorder.timed('group-send', () =>
        gs.groupSend(c.group, id, `dial test ${id}`),
      );
      if (r.ok)
        expectMessage(
          ledger,
          `${sender.name}/${id}`,
          users.map((m) => m.name),
          c.now(),
        );
      return;
    }
    case 'sync':
      await syncUser(c, u);
      return;
    case 'login':
      await login(c.client, recorder.timed, u);
      return;
  }
}
