import { describe, expect, it } from 'vitest';
import {
  type Ask,
  businessPriorities,
  type BusinessPriority,
  type Decision,
  type Snapshot,
} from './contract.ts';
import {
  campus,
  gang,
  gangs,
  node,
  nodes,
  only,
  pod,
  prng,
  queue,
  settle,
  snapshot,
  step,
} from './fixtures.ts';
import { schedule } from './schedule.ts';

const three = (shape: { cpu?: number; memory?: string } = {}) => [
  ...nodes('a', 1, 'campus-a', shape),
  ...nodes('b', 1, 'campus-b', shape),
  ...nodes('c', 1, 'campus-c', shape),
];

const onlineAsk = (
  name: string,
  c: string,
  cpu: number | string,
  p: BusinessPriority = 'message',
) => pod(name).online(p).requests({ cpu }).campus(c).ask();

describe('asks that can never fit say so', () => {
  it.each([
    {
      name: 'an online pod for a campus that does not exist',
      world: snapshot({ nodes: nodes('a', 1, 'campus-a') }),
      ask: onlineAsk('web-1', 'campus-x', 1),
      want: 'campus campus-x does not exist (campuses: campus-a)',
    },
    {
      name: 'an online pod bigger than any node of its campus',
      world: snapshot({ nodes: nodes('a', 2, 'campus-a') }),
      ask: onlineAsk('web-1', 'campus-a', 64),
      want: 'needs 64 CPU, but the largest node in campus-a has 32 CPU',
    },
    {
      name: 'an online pod bigger than its campus’s whole online ceiling',
      world: snapshot({
        campuses: [campus('campus-a').ceiling(0.5)],
        nodes: nodes('a', 1, 'campus-a', { cpu: 4 }),
      }),
      ask: onlineAsk('web-1', 'campus-a', 3),
      want: "needs 3 CPU, more than campus-a's whole online ceiling (1/2 of its allocatable: 2 CPU)",
    },
    {
      name: 'an online pod for a campus without nodes',
      world: snapshot({
        campuses: [campus('campus-a'), campus('campus-z')],
        nodes: nodes('a', 1, 'campus-a'),
      }),
      ask: onlineAsk('web-1', 'campus-z', 1),
      want: 'campus-z has no nodes',
    },
    {
      name: 'an online pod no single node can hold, though each dimension alone fits somewhere',
      world: snapshot({
        nodes: [node('a-1').cpu(32).memory('8Gi'), node('a-2').cpu(4).memory('128Gi')],
      }),
      ask: pod('web-1').online().requests({ cpu: 16, memory: '16Gi' }).campus('campus-a').ask(),
      want: 'no single node in campus-a has 16 CPU, 16 GiB allocatable',
    },
    {
      name: 'a job in a queue that does not exist',
      world: snapshot({ nodes: nodes('a', 1, 'campus-a') }),
      ask: gang('train').queue('nope').members(2, { cpu: 1 }).build(),
      want: 'queue nope does not exist',
    },
    {
      name: 'a job in a parent queue',
      world: snapshot({
        nodes: nodes('a', 1, 'campus-a'),
        queues: [queue('org'), queue('org-x').parent('org'), queue('org-y').parent('org')],
      }),
      ask: gang('train').queue('org').members(2, { cpu: 1 }).build(),
      want: 'queue org is a parent queue; jobs must name one of its leaves (org-x, org-y)',
    },
    {
      name: 'a job in a queue whose parent does not exist',
      world: snapshot({
        nodes: nodes('a', 1, 'campus-a'),
        queues: [queue('org-x').parent('org')],
      }),
      ask: gang('train').queue('org-x').members(2, { cpu: 1 }).build(),
      want: 'queue org-x hangs under org, which does not exist',
    },
    {
      name: 'a gang bigger than its queue’s maximum',
      world: snapshot({
        nodes: nodes('a', 1, 'campus-a'),
        queues: [queue('small').max({ cpu: 8 })],
      }),
      ask: gang('train').queue('small').members(5, { cpu: 2 }).min(5).build(),
      want: "gang train needs 5 pods together (10 CPU), more than queue small's maximum (8 CPU)",
    },
    {
      name: 'a gang bigger than the cluster',
      world: snapshot({ nodes: nodes('a', 2, 'campus-a', { cpu: 4 }) }),
      ask: gang('train').members(5, { cpu: 2 }).min(5).build(),
      want: 'gang train needs 5 pods together (10 CPU), more than any campus has in all (8 CPU)',
    },
    {
      name: 'a gang member bigger than any node',
      world: snapshot({ nodes: nodes('a', 2, 'campus-a', { cpu: 4 }) }),
      ask: gang('train').members(2, { cpu: 6 }).min(2).build(),
      want: 'pod train-0 needs 6 CPU, but the largest node in any campus has 4 CPU',
    },
  ])('$name', ({ world, ask, want }) => {
    const [d] = schedule(world, [ask]).decisions;
    expect(d).toMatchObject({ kind: 'never', reason: want });
  });
});

describe('asks that cannot fit now say why', () => {
  it.each([
    {
      name: 'an online pod at its campus’s ceiling',
      world: snapshot({
        nodes: [
          ...nodes('a', 1, 'campus-a'),
          node('b-1').campus('campus-b').cpu(3),
          ...nodes('c', 1, 'campus-c'),
        ],
        pods: [pod('web-1').online().requests({ cpu: 1.5 }).on('b-1')],
      }),
      ask: onlineAsk('web-2', 'campus-b', 2),
      want: 'campus-b at online ceiling (2/3): needs 2 CPU, 0.5 CPU free, and no online pods of lower priority than message to preempt',
    },
    {
      name: 'an online pod for a shielded campus',
      world: snapshot({
        campuses: [campus('campus-a'), campus('campus-b').shielded()],
        nodes: [...nodes('a', 1, 'campus-a'), ...nodes('b', 1, 'campus-b')],
      }),
      ask: onlineAsk('web-1', 'campus-b', 1),
      want: 'campus-b is shielded: it takes no new pods until the shield lifts',
    },
    {
      name: 'an online pod whose campus has every node cordoned or tainted',
      world: snapshot({ nodes: [node('a-1').cordoned(), node('a-2').tainted()] }),
      ask: onlineAsk('web-1', 'campus-a', 1),
      want: 'campus-a has no node taking new pods (2 nodes cordoned, not ready or tainted)',
    },
    {
      name: 'a gang whose queue is at its maximum',
      world: snapshot({
        nodes: nodes('a', 1, 'campus-a'),
        queues: [queue('small').max({ cpu: 4 })],
        pods: [pod('old-1').offline('small').requests({ cpu: 2 }).on('a-1')],
      }),
      ask: gang('train').queue('small').members(2, { cpu: 2 }).min(2).build(),
      want: 'queue small is at its maximum: it uses 2 CPU of 4 CPU, and train needs 4 CPU more',
    },
    {
      name: 'a gang whose parent queue is at its maximum',
      world: snapshot({
        nodes: nodes('a', 1, 'campus-a'),
        queues: [
          queue('org').max({ cpu: 4 }),
          queue('org-x').parent('org'),
          queue('org-y').parent('org'),
        ],
        pods: [pod('old-1').offline('org-y').requests({ cpu: 3 }).on('a-1')],
      }),
      ask: gang('train').queue('org-x').members(2, { cpu: 1 }).min(2).build(),
      want: 'queue org (above org-x) is at its maximum: it uses 3 CPU of 4 CPU, and train needs 2 CPU more',
    },
  ])('$name', ({ world, ask, want }) => {
    const [d] = schedule(world, [ask]).decisions;
    expect(d).toMatchObject({ kind: 'unschedulable', reason: want });
  });
});

describe('a shielded campus moves its online load to the others', () => {
  // Three campuses of one 12-CPU node: 4 CPU online in each, 8 CPU offline in a and c.
  const filled = (shieldB: boolean): Snapshot =>
    snapshot({
      campuses: [campus('campus-a'), campus('campus-b').shielded(shieldB), campus('campus-c')],
      nodes: three({ cpu: 12, memory: '48Gi' }),
      pods: [
        ...['a', 'b', 'c'].map((z) => pod(`web-${z}`).online().requests({ cpu: 4 }).on(`${z}-1`)),
        ...[1, 2, 3, 4].flatMap((i) => [
          pod(`ja-${i}`)
            .offline()
            .job('ja')
            .progress(i / 10)
            .requests({ cpu: 2 })
            .on('a-1'),
          pod(`jc-${i}`)
            .offline()
            .job('jc')
            .progress(i / 10)
            .requests({ cpu: 2 })
            .on('c-1'),
        ]),
      ],
    });
  const failover = onlineAsk('web-a2', 'campus-a', 6);

  it('without a shield, campus-a stops at its ceiling of 2/3', () => {
    expect(schedule(filled(false), [failover]).decisions).toEqual([
      expect.objectContaining({
        kind: 'unschedulable',
        reason:
          'campus-a at online ceiling (2/3): needs 6 CPU, 4 CPU free, and no online pods of lower priority than message to preempt',
      }),
    ]);
  });

  it('with campus-b shielded, campus-a may take all its capacity, and offline makes room', () => {
    const { decisions, grants } = schedule(filled(true), [failover]);
    expect(decisions.map((d) => [d.kind, 'victims' in d ? d.victims : []])).toEqual([
      ['preempt', ['ja-1', 'ja-2', 'ja-3']],
      ['revoke', ['ja-4']],
      ['revoke', ['jc-1']],
    ]);
    const a = grants.campuses.find((c) => c.campus === 'campus-a');
    expect(a?.ceiling).toBe(1);
    expect(a?.reserve.cpu).toBe(2000);
  });

  it.each([
    ['no campus shielded', false, { a: [2 / 3, 2 / 3, 1], b: [2 / 3, 2 / 3, 1] }],
    ['campus-b shielded', true, { a: [1, 2 / 3, 1], b: [2 / 3, 2 / 3, 2 / 3] }],
  ])(
    'grants say each ceiling in force, as configured, and if one more campus were lost: %s',
    (_name, shielded, want) => {
      const { grants } = schedule(filled(shielded), []);
      const of = (c: string) => grants.campuses.find((g) => g.campus === c);
      const three = (c: string) => [
        of(c)?.ceiling,
        of(c)?.configuredCeiling,
        of(c)?.failoverCeiling,
      ];
      expect(three('campus-a').map((x) => x?.toFixed(4))).toEqual(want.a.map((x) => x.toFixed(4)));
      expect(three('campus-b').map((x) => x?.toFixed(4))).toEqual(want.b.map((x) => x.toFixed(4)));
    },
  );

  it('grants give each job what its running pods hold, and its part of its queue', () => {
    const { grants } = schedule(filled(false), []);
    expect(grants.jobs.map((j) => [j.job, j.queue, j.used.cpu, j.queueShare])).toEqual([
      ['ja', 'default', 8000, 0.5],
      ['jc', 'default', 8000, 0.5],
    ]);
    const pool = grants.offlinePool.cpu;
    expect(grants.jobs[0]?.dominantShare).toBeCloseTo(8000 / pool);
  });

  it('revokes offline work in the others at once, before any pod moves, and says why', () => {
    const { decisions } = schedule(filled(true), []);
    expect(decisions).toEqual([
      {
        kind: 'revoke',
        campus: 'campus-a',
        victims: ['ja-1'],
        reason:
          'campus-b is shielded: campus-a holds 2 CPU for its online load, so offline gives back 2 CPU: ' +
          'evicting 1 pod of job ja (queue default, priority 0)',
      },
      expect.objectContaining({ kind: 'revoke', campus: 'campus-c', victims: ['jc-1'] }),
    ]);
  });

  it('does not revoke twice while the first victims are still leaving', () => {
    const w = filled(true);
    const first = schedule(w, []);
    const { world } = step(w, [], first.decisions);
    expect(schedule(world, []).decisions).toEqual([]);
  });

  it('places offline work neither in the shielded campus nor in the room held for its load', () => {
    const w = snapshot({
      campuses: [campus('campus-a'), campus('campus-b').shielded(), campus('campus-c')],
      nodes: three({ cpu: 12, memory: '48Gi' }),
      pods: ['a', 'b', 'c'].map((z) => pod(`web-${z}`).online().requests({ cpu: 4 }).on(`${z}-1`)),
    });
    const { decisions } = schedule(w, gangs(gang('fill').members(20, { cpu: 2 })));
    const perNode: Record<string, number> = {};
    for (const b of only(decisions, 'bind')) perNode[b.node] = (perNode[b.node] ?? 0) + 1;
    // 12 − 4 online − 2 held for campus-b = 6 CPU, three pods, in each of a and c
    expect(perNode).toEqual({ 'a-1': 3, 'c-1': 3 });
  });

  it('without the reserve policy, offline keeps the room until pods actually move', () => {
    const { decisions } = schedule(filled(true), [], {
      preemptLowerOnline: true,
      reserveForShielded: false,
    });
    expect(decisions).toEqual([]);
  });
});

describe('the cycle', () => {
  it('serves online before offline, by business priority, then creation order', () => {
    const w = snapshot({
      campuses: [campus('campus-a').ceiling(1)],
      nodes: nodes('a', 1, 'campus-a', { cpu: 4 }),
    });
    const { decisions } = schedule(w, [
      ...gangs(gang('batch').members(1, { cpu: 2 }).created(0)),
      onlineAsk('feed-1', 'campus-a', 2, 'moments'),
      pod('msg-2').online('message').requests({ cpu: 2 }).campus('campus-a').created(2).ask(),
      pod('msg-1').online('message').requests({ cpu: 2 }).campus('campus-a').created(1).ask(),
      onlineAsk('pay-1', 'campus-a', 2, 'payment'),
    ]);
    expect(
      decisions.map((d) => [d.kind, d.kind === 'bind' ? d.pod : 'ask' in d ? d.ask : '']),
    ).toEqual([
      ['bind', 'pay-1'],
      ['bind', 'msg-1'],
      ['unschedulable', 'msg-2'],
      ['unschedulable', 'feed-1'],
      ['unschedulable', 'batch'],
    ]);
  });

  it('gives the same decisions for the same world, whatever order it is listed in', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const { world, asks } = randomWorld(seed);
      const want = schedule(world, asks).decisions;
      const reversed: Snapshot = {
        campuses: [...world.campuses].reverse(),
        nodes: [...world.nodes].reverse(),
        pods: [...world.pods].reverse(),
        queues: [...world.queues].reverse(),
      };
      expect(schedule(reversed, [...asks].reverse()).decisions, `seed ${seed}`).toEqual(want);
    }
  });

  it('leaves its input as it found it', () => {
    for (let seed = 1; seed <= 10; seed++) {
      const { world, asks } = randomWorld(seed);
      const before = structuredClone({ world, asks });
      schedule(world, asks);
      expect({ world, asks }, `seed ${seed}`).toEqual(before);
    }
  });

  it('keeps its invariants over many random cycles, stepped by hand', () => {
    for (let seed = 1; seed <= 60; seed++) {
      const r = prng(seed * 7919);
      let { world, asks } = randomWorld(seed);
      for (let cycle = 0; cycle < 8; cycle++) {
        const { decisions } = schedule(world, asks);
        checkDecisions(world, asks, decisions, `seed ${seed} cycle ${cycle}`);
        const next = step(world, asks, decisions);
        checkWorld(next.world, `seed ${seed} cycle ${cycle}`);
        world = r.next() < 0.6 ? settle(next.world) : next.world;
        asks = [...next.pending, ...randomAsks(r, cycle + 1)];
      }
    }
  });
});

// --- random worlds and their invariants ----------------------------------------

const campuses = ['campus-a', 'campus-b', 'campus-c'];
const services: Record<BusinessPriority, string> = {
  payment: 'pay',
  message: 'msg',
  groupchat: 'grp',
  moments: 'mom',
};

function randomWorld(seed: number): { world: Snapshot; asks: Ask[] } {
  const r = prng(seed);
  const shielded = r.next() < 0.3 ? r.pick(campuses) : undefined;
  const world = snapshot({
    campuses: campuses.map((c) => {
      const b = campus(c).shielded(c === shielded);
      return r.next() < 0.5 ? b : b.ceiling(r.pick([0.5, 0.75, 1]));
    }),
    nodes: campuses.flatMap((c) =>
      Array.from({ length: r.int(1, 3) }, (_, i) =>
        node(`${c.slice(-1)}-${i + 1}`)
          .campus(c)
          .cpu(r.pick([2, 4, 8]))
          .memory(r.pick(['8Gi', '16Gi'])),
      ),
    ),
    queues: [queue('q1').max({ cpu: r.pick([4, 100]) }), queue('q2').weight(2)],
  });
  return { world, asks: randomAsks(r, 0) };
}

function randomAsks(r: ReturnType<typeof prng>, cycle: number): Ask[] {
  const asks: Ask[] = [];
  for (let i = r.int(0, 6); i > 0; i--) {
    const p = r.pick(businessPriorities);
    asks.push(
      pod(`${services[p]}-${cycle}-${i}`)
        .online(p)
        .service(services[p])
        .requests({ cpu: r.pick(['250m', '500m', 1, 2]), memory: r.pick(['256Mi', '1Gi']) })
        .campus(r.pick(campuses))
        .created(cycle * 100 + i)
        .ask(),
    );
  }
  for (let i = r.int(0, 3); i > 0; i--) {
    const size = r.int(1, 4);
    asks.push(
      gang(`job-${cycle}-${i}`)
        .queue(r.pick(['q1', 'q2']))
        .priority(r.int(0, 3))
        .members(size, { cpu: r.pick(['500m', 1, 2]), memory: '512Mi' })
        .min(r.next() < 0.5 ? size : 0)
        .created(cycle * 100 + i)
        .build(),
    );
  }
  return asks;
}

/** The online ceiling in force, restated from the rule rather than taken from the code. */
function cap(world: Snapshot, name: string): { cpu: number; memory: number; pods: number } {
  const n = world.campuses.length;
  const k = world.campuses.filter((c) => c.shielded).length;
  const c = world.campuses.find((x) => x.name === name);
  const f0 = c?.onlineCeiling ?? (n - 1) / n;
  const f = c?.shielded || k === 0 ? f0 : Math.min(1, (f0 * n) / (n - k));
  const alloc = { cpu: 0, memory: 0, pods: 0 };
  for (const nd of world.nodes.filter((x) => x.campus === name)) {
    alloc.cpu += nd.allocatable.cpu;
    alloc.memory += nd.allocatable.memory;
    alloc.pods += nd.allocatable.pods;
  }
  return { cpu: alloc.cpu * f, memory: alloc.memory * f, pods: alloc.pods * f };
}

function checkWorld(world: Snapshot, where: string): void {
  const campusOf = new Map(world.nodes.map((n) => [n.name, n.campus]));
  for (const c of world.campuses) {
    const online = world.pods.filter(
      (p) => p.framework === 'online' && campusOf.get(p.node) === c.name,
    );
    const limit = cap(world, c.name);
    for (const d of ['cpu', 'memory', 'pods'] as const)
      expect(
        online.reduce((s, p) => s + p.requests[d], 0),
        `${where}: ${c.name} online ${d} within its ceiling`,
      ).toBeLessThanOrEqual(limit[d] + 1e-6);
  }
  for (const n of world.nodes) {
    const here = world.pods.filter((p) => p.node === n.name);
    for (const d of ['cpu', 'memory', 'pods'] as const)
      expect(
        here.reduce((s, p) => s + p.requests[d], 0),
        `${where}: ${n.name} ${d} within allocatable`,
      ).toBeLessThanOrEqual(n.allocatable[d]);
  }
  const jobs = new Map<string, { running: number; min: number }>();
  for (const p of world.pods) {
    if (p.framework !== 'offline') continue;
    const j = jobs.get(p.job) ?? { running: 0, min: p.gangMin };
    if (p.terminating !== true) j.running++;
    jobs.set(p.job, j);
  }
  for (const [job, j] of jobs)
    if (j.min >= 2 && j.running > 0)
      expect(j.running, `${where}: gang ${job} never partly running`).toBeGreaterThanOrEqual(j.min);
}

const rankOf = (p: BusinessPriority): number =>
  businessPriorities.length - businessPriorities.indexOf(p);

function checkDecisions(
  world: Snapshot,
  asks: readonly Ask[],
  ds: readonly Decision[],
  where: string,
): void {
  const shielded = new Set(world.campuses.filter((c) => c.shielded).map((c) => c.name));
  const campusOf = new Map(world.nodes.map((n) => [n.name, n.campus]));
  for (const d of ds) {
    if (d.kind === 'bind')
      expect(
        shielded.has(campusOf.get(d.node) ?? ''),
        `${where}: no bind into a shielded campus`,
      ).toBe(false);
    else expect(d.reason, `${where}: ${d.kind} has a reason`).toMatch(/^\S.{10,}$/);
    if (d.kind === 'preempt') checkVictims(world, asks, d, where);
  }
  checkGangsWhole(world, asks, ds, where);
}

/** Victims are not already leaving, and online ones are of strictly lower priority. */
function checkVictims(
  world: Snapshot,
  asks: readonly Ask[],
  d: Extract<Decision, { kind: 'preempt' }>,
  where: string,
): void {
  const a = asks.find((x) => x.kind === 'online' && x.pod === d.for);
  for (const v of d.victims) {
    const p = world.pods.find((x) => x.name === v);
    expect(p?.terminating, `${where}: ${v} is not already leaving`).not.toBe(true);
    if (p?.framework === 'online' && a?.kind === 'online')
      expect(
        rankOf(p.businessPriority),
        `${where}: ${v} is of lower priority than ${d.for}`,
      ).toBeLessThan(rankOf(a.businessPriority));
  }
}

/** A gang that was not running binds at least its minimum at once, or nothing. */
function checkGangsWhole(
  world: Snapshot,
  asks: readonly Ask[],
  ds: readonly Decision[],
  where: string,
): void {
  const bound = new Set(only(ds, 'bind').map((b) => b.pod));
  for (const a of asks) {
    if (a.kind !== 'gang' || a.minMember < 2) continue;
    const running = world.pods.filter(
      (p) => p.framework === 'offline' && p.job === a.job && p.terminating !== true,
    ).length;
    const n = a.pods.filter((p) => bound.has(p.name)).length;
    if (running === 0 && n > 0)
      expect(n, `${where}: gang ${a.job} bound whole`).toBeGreaterThanOrEqual(a.minMember);
  }
}
