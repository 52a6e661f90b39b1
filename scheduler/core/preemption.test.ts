import { describe, expect, it } from 'vitest';
import { defaultPolicy, type BusinessPriority, type PlacedPod } from './contract.ts';
import { campus, node, nodes, only, pod, settle, snapshot, step } from './fixtures.ts';
import { Ledger } from './ledger.ts';
import { cycle, schedule } from './schedule.ts';

/** Offline pod of `cpu` CPU on `node`. */
const batch = (
  name: string,
  n: string,
  cpu: number,
  o: { prio?: number; progress?: number } = {},
) =>
  pod(name)
    .offline('batch')
    .priority(o.prio ?? 0)
    .progress(o.progress ?? 0)
    .requests({ cpu })
    .on(n);

const online = (name: string, n: string, cpu: number, p: BusinessPriority) =>
  pod(name).online(p).requests({ cpu }).on(n);

/** An online pod of 2 CPU pending in campus-a. */
const want2 = (p: BusinessPriority = 'message') =>
  pod('new-1').online(p).requests({ cpu: 2 }).campus('campus-a').ask();

/** One campus (ceiling 1, so only node room matters) of 4-CPU nodes. */
const world = (count: number, pods: PlacedPod[]) =>
  snapshot({
    campuses: [campus('campus-a').ceiling(1)],
    nodes: nodes('a', count, 'campus-a', { cpu: 4 }),
    pods,
  });

describe('preemption for an online pod', () => {
  it.each([
    {
      name: 'evicts the lowest priority offline pod',
      pods: [batch('hi', 'a-1', 2, { prio: 5 }), batch('lo', 'a-1', 2, { prio: 1 })],
      want: ['lo'],
    },
    {
      name: 'among equal priorities, the one with the least progress',
      pods: [batch('far', 'a-1', 2, { progress: 0.9 }), batch('new', 'a-1', 2, { progress: 0.1 })],
      want: ['new'],
    },
    {
      name: 'the fewest victims: one 2-CPU pod rather than two of 1 CPU',
      pods: [batch('a-small', 'a-1', 1), batch('b-small', 'a-1', 1), batch('z-big', 'a-1', 2)],
      want: ['z-big'],
    },
    {
      name: 'enough victims to free what the pod needs, no more',
      pods: [1, 2, 3, 4].map((i) => batch(`t-${i}`, 'a-1', 1, { progress: i / 10 })),
      want: ['t-1', 't-2'],
    },
    {
      name: 'offline before a lower-priority online pod',
      pods: [online('feed-1', 'a-1', 2, 'moments'), batch('job', 'a-1', 2, { prio: 9 })],
      want: ['job'],
    },
    {
      name: 'the node whose victims are cheapest',
      pods: [batch('hi', 'a-1', 4, { prio: 5 }), batch('lo', 'a-2', 4, { prio: 1 })],
      want: ['lo'],
    },
    {
      name: 'a single pod rather than a whole gang',
      pods: [
        pod('g-1').offline('batch').job('g').gang(2).requests({ cpu: 4 }).on('a-1'),
        pod('g-2').offline('batch').job('g').gang(2).requests({ cpu: 4 }).on('a-2'),
        batch('solo', 'a-3', 4),
      ],
      want: ['solo'],
    },
    {
      name: 'a whole gang, as one unit, when taking a member would break it',
      pods: [
        pod('g-1').offline('batch').job('g').gang(2).requests({ cpu: 4 }).on('a-1'),
        pod('g-2').offline('batch').job('g').gang(2).requests({ cpu: 4 }).on('a-2'),
        batch('keep', 'a-3', 4, { prio: 3 }),
      ],
      want: ['g-1', 'g-2'],
    },
    {
      name: 'only the spare member of a gang that runs above its minimum',
      pods: [
        pod('g-1').offline('batch').job('g').gang(2).requests({ cpu: 4 }).on('a-1'),
        pod('g-2').offline('batch').job('g').gang(2).requests({ cpu: 2 }).on('a-2'),
        pod('g-3').offline('batch').job('g').gang(2).requests({ cpu: 2 }).on('a-2'),
        batch('keep', 'a-3', 4, { prio: 3 }),
      ],
      want: ['g-1'],
    },
  ])('$name', ({ pods, want }) => {
    const n = new Set(pods.map((p) => p.node)).size;
    const { decisions } = schedule(world(n, pods), [want2()]);
    const [d] = only(decisions, 'preempt');
    expect(d?.victims).toEqual(want);
    // the victims free enough on the nominated node
    const freed = pods
      .filter((p) => d?.victims.includes(p.name) && p.node === d.node)
      .reduce((s, p) => s + p.requests.cpu, 0);
    const used = pods.filter((p) => p.node === d?.node).reduce((s, p) => s + p.requests.cpu, 0);
    expect(4000 - used + freed).toBeGreaterThanOrEqual(2000);
  });

  // Two nodes with 1 CPU free each: the ceiling has room, no node has.
  const fragmented = (p: BusinessPriority): PlacedPod[] => [
    online('x-1', 'a-1', 3, p),
    online('x-2', 'a-2', 3, p),
  ];

  it.each([
    ['higher', 'payment'],
    ['equal', 'message'],
  ] as const)('never preempts an online pod of %s business priority', (_name, victim) => {
    const { decisions } = schedule(world(2, fragmented(victim)), [want2('message')]);
    expect(decisions).toEqual([
      {
        kind: 'unschedulable',
        ask: 'new-1',
        pods: ['new-1'],
        reason:
          'none of the 2 open nodes in campus-a has room for 2 CPU, even after preempting offline pods and online pods of lower priority',
      },
    ]);
  });

  it('never preempts an online pod of equal priority at the ceiling either', () => {
    const { decisions } = schedule(world(1, [online('x-1', 'a-1', 4, 'message')]), [want2()]);
    expect(only(decisions, 'unschedulable').map((d) => d.reason)).toEqual([
      'campus-a at online ceiling (100%): needs 2 CPU, 0 CPU free, and no online pods of lower priority than message to preempt',
    ]);
  });

  it('preempts a lower-priority online pod when nothing cheaper is there', () => {
    const { decisions } = schedule(world(2, fragmented('moments')), [want2('payment')]);
    expect(decisions).toEqual([
      {
        kind: 'preempt',
        for: 'new-1',
        node: 'a-1',
        victims: ['x-1'],
        reason: 'payment pod new-1 needs 2 CPU on a-1: evicting 1 pod of moments service x',
      },
    ]);
  });

  it('keeps online pods when the policy says so', () => {
    const { decisions } = schedule(world(2, fragmented('moments')), [want2('payment')], {
      ...defaultPolicy,
      preemptLowerOnline: false,
    });
    expect(only(decisions, 'unschedulable').map((d) => d.reason)).toEqual([
      'none of the 2 open nodes in campus-a has room for 2 CPU, even after preempting offline pods',
    ]);
  });

  it('says which pods it evicts, for whom and where', () => {
    const pods = [batch('t-1', 'a-1', 2, { prio: 1 }), batch('t-2', 'a-1', 2, { prio: 1 })];
    const { decisions } = schedule(world(1, pods), [
      pod('new-1').online('message').requests({ cpu: 3 }).campus('campus-a').ask(),
    ]);
    expect(only(decisions, 'preempt').map((d) => d.reason)).toEqual([
      'message pod new-1 needs 3 CPU on a-1: evicting 2 pods of job t (queue batch, priority 1)',
    ]);
  });

  it('holds the room while victims leave instead of preempting again, then binds', () => {
    const pods = [batch('t-1', 'a-1', 2), batch('t-2', 'a-2', 2), batch('t-3', 'a-2', 2)];
    let w = world(2, [...pods, batch('t-0', 'a-1', 2)]);
    const ask = want2();
    const first = schedule(w, [ask]);
    expect(only(first.decisions, 'preempt').map((d) => [d.node, d.victims])).toEqual([
      ['a-1', ['t-0']],
    ]);
    let s = step(w, [ask], first.decisions);
    // the victim is still terminating: wait, with the room held
    const second = schedule(s.world, s.pending);
    expect(second.decisions).toEqual([
      {
        kind: 'unschedulable',
        ask: 'new-1',
        pods: ['new-1'],
        reason: 'waiting for 1 terminating pod to leave a-1; room there is held for this pod',
        nominatedNode: 'a-1',
      },
    ]);
    s = step(s.world, s.pending, second.decisions);
    w = settle(s.world);
    expect(schedule(w, s.pending).decisions).toEqual([{ kind: 'bind', pod: 'new-1', node: 'a-1' }]);
  });

  it('a later pod of the same cycle waits for room already being cleared when it suffices', () => {
    const { decisions } = schedule(world(1, [batch('t-1', 'a-1', 4)]), [
      want2('payment'),
      pod('new-2').online('message').requests({ cpu: 2 }).campus('campus-a').created(1).ask(),
    ]);
    expect(decisions).toEqual([
      expect.objectContaining({ kind: 'preempt', for: 'new-1', node: 'a-1', victims: ['t-1'] }),
      expect.objectContaining({ kind: 'unschedulable', ask: 'new-2', nominatedNode: 'a-1' }),
    ]);
  });

  it('a later pod of the same cycle does not count on room cleared for an earlier one', () => {
    const { decisions } = schedule(world(1, [batch('t-1', 'a-1', 2), batch('t-2', 'a-1', 2)]), [
      want2('payment'),
      pod('new-2').online('message').requests({ cpu: 2 }).campus('campus-a').created(1).ask(),
    ]);
    expect(only(decisions, 'preempt').map((d) => [d.for, d.victims])).toEqual([
      ['new-1', ['t-1']],
      ['new-2', ['t-2']],
    ]);
  });
});

describe('preemption at the online ceiling', () => {
  const pods = [online('feed-1', 'a-1', 2, 'moments'), online('chat-1', 'a-2', 2, 'groupchat')];
  const w = snapshot({
    campuses: [campus('campus-a').ceiling(0.5)],
    nodes: [node('a-1').cpu(4), node('a-2').cpu(4)],
    pods,
  });

  it.each([
    {
      name: 'a payment pod takes the ceiling room of the lowest-priority online pod',
      ask: want2('payment'),
      want: { kind: 'preempt', victims: ['feed-1'] },
    },
    {
      name: 'a groupchat pod may take only a moments pod’s room',
      ask: want2('groupchat'),
      want: { kind: 'preempt', victims: ['feed-1'] },
    },
  ])('$name', ({ ask, want }) => {
    const [d] = schedule(w, [ask]).decisions;
    expect(d && { kind: d.kind, victims: d.kind === 'preempt' ? d.victims : [] }).toEqual(want);
  });

  it('a moments pod cannot take anyone’s room, and is told why', () => {
    expect(schedule(w, [want2('moments')]).decisions).toEqual([
      {
        kind: 'unschedulable',
        ask: 'new-1',
        pods: ['new-1'],
        reason:
          'campus-a at online ceiling (1/2): needs 2 CPU, 0 CPU free, and no online pods of lower priority than moments to preempt',
      },
    ]);
  });
});

describe('preemption in a big campus', () => {
  const name = (i: number) => `n-${String(i).padStart(3, '0')}`;
  /** `count` 4-CPU nodes, each full with one offline pod; the one on the last node is cheapest. */
  const full = (count: number) =>
    snapshot({
      campuses: [campus('campus-a').ceiling(1)],
      nodes: Array.from({ length: count }, (_, i) => node(name(i)).cpu(4)),
      pods: Array.from({ length: count }, (_, i) =>
        batch(`t-${i}`, name(i), 4, { progress: i === count - 1 ? 0.01 : 0.5 }),
      ),
    });
  // 3 CPU each, so that two cannot share the room one eviction frees
  const asks = [1, 2].map((i) =>
    pod(`new-${i}`).online('payment').requests({ cpu: 3 }).campus('campus-a').created(i).ask(),
  );

  it('searches a campus of 100 nodes whole and finds the cheapest victim on the last', () => {
    const [d] = only(schedule(full(100), asks.slice(0, 1)).decisions, 'preempt');
    expect(d?.node).toBe('n-099');
  });

  it('in a campus of 300, takes the cheapest of the first 100 candidates, and the next search starts after it', () => {
    const ds = only(schedule(full(300), asks).decisions, 'preempt');
    expect(ds.map((d) => [d.node, d.victims])).toEqual([
      ['n-000', ['t-0']],
      ['n-100', ['t-100']],
    ]);
  });
});

describe('preemption on books kept across cycles (the adapter’s way)', () => {
  it('holds the room, and binds there once the adapter forgets the evicted pod', () => {
    const ledger = new Ledger(
      world(2, [batch('t-1', 'a-1', 4), batch('t-2', 'a-2', 4, { prio: 1 })]),
    );
    const ask = pod('new-1').online().requests({ cpu: 3 }).campus('campus-a').ask();
    expect(cycle(ledger, [ask]).decisions).toEqual([
      expect.objectContaining({ kind: 'preempt', node: 'a-1', victims: ['t-1'] }),
    ]);
    // the eviction is under way: the same ask waits on its own held room, no second victim
    expect(cycle(ledger, [{ ...ask, nominatedNode: 'a-1' }]).decisions).toEqual([
      expect.objectContaining({ kind: 'unschedulable', nominatedNode: 'a-1' }),
    ]);
    ledger.forget('t-1');
    expect(cycle(ledger, [{ ...ask, nominatedNode: 'a-1' }]).decisions).toEqual([
      { kind: 'bind', pod: 'new-1', node: 'a-1' },
    ]);
    expect(ledger.free(0).cpu).toBe(1_000);
  });
});
