import { describe, expect, it } from 'vitest';
import { bindings, gang, gangs, node, nodes, only, pod, snapshot } from './fixtures.ts';
import { schedule } from './schedule.ts';

describe('offline gangs are all or nothing', () => {
  it('places none of a gang of 5 when only 4 fit, and says so', () => {
    const world = snapshot({
      nodes: nodes('a', 2, 'campus-a', { cpu: 6, memory: '16Gi' }),
      pods: [
        pod('web-1').online().requests({ cpu: 2 }).on('a-1'),
        pod('web-2').online().requests({ cpu: 2 }).on('a-2'),
      ],
    });
    const { decisions } = schedule(world, gangs(gang('train').members(5, { cpu: 2 }).min(5)));
    expect(only(decisions, 'bind')).toEqual([]);
    expect(decisions).toEqual([
      {
        kind: 'unschedulable',
        ask: 'train',
        pods: ['train-0', 'train-1', 'train-2', 'train-3', 'train-4'],
        reason:
          'gang train needs 5 pods at once (2 CPU each); only 4 of 5 fit within the offline grant, ' +
          'so none is placed (offline may still use 8 CPU, 32 GiB in campus-a)',
      },
    ]);
  });

  it.each([
    {
      name: 'a gang that fits is placed whole',
      job: gang('train').members(4, { cpu: 2 }).min(4),
      want: 4,
    },
    {
      name: 'a gang of 3 out of 6 pods places its 3 together, then the rest one by one while they fit',
      job: gang('train').members(6, { cpu: 2 }).min(3),
      want: 4,
    },
    {
      name: 'a job that is no gang places what fits',
      job: gang('train').members(6, { cpu: 2 }),
      want: 4,
    },
  ])('$name', ({ job, want }) => {
    const world = snapshot({ nodes: nodes('a', 2, 'campus-a', { cpu: 4, memory: '16Gi' }) });
    const { decisions } = schedule(world, gangs(job));
    expect(only(decisions, 'bind')).toHaveLength(want);
  });

  it('places the rest of a gang one by one once its minimum runs', () => {
    const running = [0, 1, 2].map((i) =>
      pod(`train-${i}`).offline().job('train').gang(3).requests({ cpu: 2 }).on('a-1'),
    );
    const world = snapshot({
      nodes: nodes('a', 2, 'campus-a', { cpu: 6, memory: '16Gi' }),
      pods: running,
    });
    // only 3 of the 5 others fit, and that is fine: the gang already runs
    const { decisions } = schedule(
      world,
      gangs(gang('train').members(8, { cpu: 2 }).min(3)).map((g) => ({
        ...g,
        pods: g.pods.slice(3),
      })),
    );
    expect(Object.keys(bindings(decisions))).toEqual(['train-3', 'train-4', 'train-5']);
    expect(only(decisions, 'unschedulable').map((d) => d.pods)).toEqual([['train-6', 'train-7']]);
  });

  it('waits for the rest of a gang to be created rather than place part of it', () => {
    const world = snapshot({ nodes: nodes('a', 2, 'campus-a') });
    const job = gang('train').members(5, { cpu: 1 }).min(5).build();
    const { decisions } = schedule(world, [{ ...job, pods: job.pods.slice(0, 3) }]);
    expect(decisions).toEqual([
      {
        kind: 'unschedulable',
        ask: 'train',
        pods: ['train-0', 'train-1', 'train-2'],
        reason:
          'gang train needs 5 pods together; 0 run and only 3 are pending: waiting for the rest to be created',
      },
    ]);
  });

  it('does not leave a failed gang’s room taken: a later job can use it', () => {
    const world = snapshot({ nodes: nodes('a', 2, 'campus-a', { cpu: 4, memory: '16Gi' }) });
    const { decisions } = schedule(
      world,
      gangs(
        gang('big').members(5, { cpu: 2 }).min(5).created(1),
        gang('small').members(4, { cpu: 2 }).min(4).created(2),
      ),
    );
    expect(only(decisions, 'bind').map((b) => b.pod)).toEqual([
      'small-0',
      'small-1',
      'small-2',
      'small-3',
    ]);
  });
});

describe('offline packing keeps whole nodes free', () => {
  it.each([
    {
      name: 'eight 2-CPU tasks fill two of four 8-CPU nodes and leave two empty',
      pods: [],
      job: gang('batch').members(8, { cpu: 2 }),
      want: { 'a-1': 4, 'a-2': 4 },
    },
    {
      name: 'tasks go next to what already runs, not onto an empty node',
      pods: [pod('web-1').online().requests({ cpu: 4 }).on('a-3')],
      job: gang('batch').members(2, { cpu: 2 }),
      want: { 'a-3': 2 },
    },
    {
      name: 'a gang stays on the fullest nodes it fits',
      pods: [pod('web-1').online().requests({ cpu: 6 }).on('a-2')],
      job: gang('batch').members(3, { cpu: 2 }).min(3),
      want: { 'a-2': 1, 'a-1': 2 },
    },
  ])('$name', ({ pods, job, want }) => {
    const world = snapshot({ nodes: nodes('a', 4, 'campus-a', { cpu: 8, memory: '32Gi' }), pods });
    const perNode: Record<string, number> = {};
    for (const n of Object.values(bindings(schedule(world, gangs(job)).decisions)))
      perNode[n] = (perNode[n] ?? 0) + 1;
    expect(perNode).toEqual(want);
  });

  it('keeps a gang inside one campus when one can hold it, the roomiest first', () => {
    const world = snapshot({
      nodes: [
        ...nodes('a', 2, 'campus-a', { cpu: 4, memory: '16Gi' }),
        ...nodes('b', 3, 'campus-b', { cpu: 4, memory: '16Gi' }),
      ],
    });
    const placed = bindings(
      schedule(world, gangs(gang('train').members(4, { cpu: 2 }).min(4))).decisions,
    );
    expect(new Set(Object.values(placed).map((n) => n[0]))).toEqual(new Set(['b']));
  });

  it('spans campuses when no single campus can hold the gang', () => {
    const world = snapshot({
      nodes: [
        ...nodes('a', 1, 'campus-a', { cpu: 4, memory: '16Gi' }),
        ...nodes('b', 1, 'campus-b', { cpu: 4, memory: '16Gi' }),
      ],
    });
    const placed = bindings(
      schedule(world, gangs(gang('train').members(4, { cpu: 2 }).min(4))).decisions,
    );
    expect(Object.values(placed).sort()).toEqual(['a-1', 'a-1', 'b-1', 'b-1']);
  });

  it('skips cordoned and tainted nodes', () => {
    const world = snapshot({
      nodes: [node('a-1').cpu(8).cordoned(), node('a-2').cpu(8).tainted(), node('a-3').cpu(8)],
    });
    const placed = bindings(schedule(world, gangs(gang('batch').members(3, { cpu: 2 }))).decisions);
    expect(Object.values(placed)).toEqual(['a-3', 'a-3', 'a-3']);
  });

  it('honours a job that asks for one campus', () => {
    const world = snapshot({
      nodes: [...nodes('a', 1, 'campus-a'), ...nodes('b', 1, 'campus-b')],
    });
    const placed = bindings(
      schedule(world, gangs(gang('batch').members(2, { cpu: 2 }).campus('campus-a'))).decisions,
    );
    expect(Object.values(placed)).toEqual(['a-1', 'a-1']);
  });
});
