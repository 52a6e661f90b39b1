import { describe, expect, it } from 'vitest';
import type { OnlineAsk, PlacedPod } from './contract.ts';
import { bindings, campus, node, nodes, pod, prng, snapshot } from './fixtures.ts';
import { schedule } from './schedule.ts';

/** `count` pending replicas of one service in campus-a. */
const replicas = (service: string, count: number, cpu: number | string = 1): OnlineAsk[] =>
  Array.from({ length: count }, (_, i) =>
    pod(`${service}-${i + 1}`)
      .online('message')
      .requests({ cpu })
      .campus('campus-a')
      .created(i)
      .ask(),
  );

/** Replicas of `service` per node after placing, existing ones included. */
function perNode(placed: readonly PlacedPod[], binds: Record<string, string>, service: string) {
  const counts: Record<string, number> = {};
  for (const p of placed)
    if (p.framework === 'online' && p.service === service)
      counts[p.node] = (counts[p.node] ?? 0) + 1;
  for (const [name, n] of Object.entries(binds))
    if (name.startsWith(`${service}-`)) counts[n] = (counts[n] ?? 0) + 1;
  return counts;
}

describe('online spread within a campus', () => {
  it.each([
    {
      name: 'three replicas on three empty nodes go one per node',
      cpu: [8, 8, 8],
      pods: [],
      asks: replicas('web', 3),
      want: { 'a-1': 1, 'a-2': 1, 'a-3': 1 },
    },
    {
      name: 'seven replicas on three nodes stay within one of each other',
      cpu: [8, 8, 8],
      pods: [],
      asks: replicas('web', 7),
      want: { 'a-1': 3, 'a-2': 2, 'a-3': 2 },
    },
    {
      name: 'a node that already runs a replica gets the next only after the others',
      cpu: [8, 8, 8],
      pods: [pod('web-0').online().requests({ cpu: 1 }).on('a-1')],
      asks: replicas('web', 2),
      want: { 'a-1': 1, 'a-2': 1, 'a-3': 1 },
    },
    {
      name: 'replicas of another service do not count against this one',
      cpu: [8, 8, 8],
      pods: [
        pod('db-1').online().requests({ cpu: 1 }).on('a-2'),
        pod('db-2').online().requests({ cpu: 1 }).on('a-3'),
      ],
      asks: replicas('web', 3),
      want: { 'a-1': 1, 'a-2': 1, 'a-3': 1 },
    },
    {
      name: 'a full node is passed over, so the others take one more each',
      cpu: [1, 8, 8],
      pods: [],
      asks: replicas('web', 4),
      want: { 'a-1': 1, 'a-2': 2, 'a-3': 1 },
    },
    {
      name: 'replicas stack only when no other node fits',
      cpu: [8, 1, 1],
      pods: [],
      asks: replicas('web', 4),
      want: { 'a-1': 2, 'a-2': 1, 'a-3': 1 },
    },
  ])('$name', ({ cpu, pods, asks, want }) => {
    const world = snapshot({
      nodes: cpu.map((c, i) => node(`a-${i + 1}`).cpu(c)),
      pods,
    });
    expect(perNode(pods, bindings(schedule(world, asks).decisions), 'web')).toEqual(want);
  });

  it('among nodes with as few replicas, packs onto the most allocated, leaving whole nodes free', () => {
    const world = snapshot({
      nodes: nodes('a', 3, 'campus-a', { cpu: 8 }),
      pods: [pod('batch-1').offline().requests({ cpu: 4 }).on('a-3')],
    });
    expect(bindings(schedule(world, replicas('web', 1)).decisions)).toEqual({ 'web-1': 'a-3' });
  });

  it('never leaves the pod’s campus', () => {
    const world = snapshot({
      campuses: [campus('campus-a').ceiling(1), campus('campus-b').ceiling(1)],
      nodes: [...nodes('a', 1, 'campus-a', { cpu: 1 }), ...nodes('b', 3, 'campus-b')],
    });
    const { decisions } = schedule(world, replicas('web', 2));
    expect(bindings(decisions)).toEqual({ 'web-1': 'a-1' });
  });

  it('takes the node a preemption cleared for it, even against the spread', () => {
    const world = snapshot({
      nodes: nodes('a', 2, 'campus-a', { cpu: 8 }),
      pods: [pod('web-0').online().requests({ cpu: 1 }).on('a-1')],
    });
    const ask = pod('web-1')
      .online()
      .requests({ cpu: 1 })
      .campus('campus-a')
      .nominatedOn('a-1')
      .ask();
    expect(bindings(schedule(world, [ask]).decisions)).toEqual({ 'web-1': 'a-1' });
  });

  it('keeps every service within one replica between the nodes of a campus (random worlds)', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const r = prng(seed);
      const world = snapshot({
        campuses: [{ name: 'campus-a', shielded: false, onlineCeiling: 1 }],
        nodes: nodes('a', r.int(2, 7), 'campus-a', { cpu: 64 }),
      });
      const services = ['web', 'chat', 'pay'].slice(0, r.int(1, 3));
      const asks = services.flatMap((s) => replicas(s, r.int(1, 30), r.pick(['250m', 1, 2])));
      const binds = bindings(schedule(world, asks).decisions);
      expect(Object.keys(binds)).toHaveLength(asks.length);
      for (const s of services) {
        const counts = world.nodes.map((n) => perNode([], binds, s)[n.name] ?? 0);
        expect(Math.max(...counts) - Math.min(...counts), `seed ${seed}, ${s}`).toBeLessThanOrEqual(
          1,
        );
      }
    }
  });
});
