// Losing one campus's etcd member mid-run: the prober's synthetic users keep
// sending, group-sending and paying through all three tiers while the raft
// leader is killed; its checker compares every acknowledged message with what
// the recipients' syncs return. None may be lost or duplicated, and writes
// must go on after the loss.
import { describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { startProber } from '../prober/prober.ts';
import { useStack } from '../../e2e/harness/im-stack.ts';

const t = useStack({ logicInstances: 2 });

describe('losing one campus', () => {
  it('loses and duplicates no acknowledged message when the etcd leader is killed mid-run, and keeps writing', async () => {
    const prober = startProber({
      target: t.stack.accessUrl,
      rate: 40,
      users: 6,
      window: 1000,
      durationMs: 10_000,
      deliveryTimeoutMs: 15_000,
    });
    await prober.ready;
    await sleep(2500);
    const leader = await t.cluster.leader();
    const killedAt = Date.now();
    await t.cluster.kill(leader);
    const r = await prober.done;

    const acked = (api: string, from: number): number =>
      r.windows
        .filter((w) => w.start >= from)
        .reduce((n, w) => n + (w.apis.find((a) => a.api === api)?.ok ?? 0), 0);
    // writes went on on the two remaining members
    expect(acked('send', killedAt + 1000)).toBeGreaterThan(0);
    expect(acked('group-send', killedAt + 1000)).toBeGreaterThan(0);
    expect(acked('send', 0) - acked('send', killedAt)).toBeGreaterThan(0);
    // the checker: every acknowledged message, before and after the loss, arrived exactly once
    expect(r.delivery.expected).toBeGreaterThan(100);
    expect(r.delivery).toMatchObject({
      delivered: r.delivery.expected,
      pending: 0,
      lost: 0,
      late: 0,
      duplicates: 0,
    });
  }, 60_000);
});
