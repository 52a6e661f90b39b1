import { describe, expect, it } from 'vitest';
import { campus, node, nodes, pod, requests, snapshot } from './fixtures.ts';
import { defaultCeiling, effectiveCeiling, Ledger } from './ledger.ts';

describe('the online ceiling', () => {
  it.each([
    ['three campuses keep a third free', 3, 0, 2 / 3],
    ['two campuses keep half free', 2, 0, 1 / 2],
    ['one campus alone has nowhere to fail over to, so it may use all', 1, 0, 1],
  ])('%s', (_name, n, shielded, want) => {
    expect(effectiveCeiling(defaultCeiling(n), n, shielded)).toBeCloseTo(want, 12);
  });

  it.each([
    ['one of three shielded lifts the others from 2/3 to all', 2 / 3, 3, 1, 1],
    ['one of three shielded lifts 1/2 to 3/4', 1 / 2, 3, 1, 3 / 4],
    ['one of four shielded lifts 3/4 to all', 3 / 4, 4, 1, 1],
    ['one of four shielded lifts 1/2 to 2/3', 1 / 2, 4, 1, 2 / 3],
  ])('%s', (_name, configured, n, shielded, want) => {
    expect(effectiveCeiling(configured, n, shielded)).toBeCloseTo(want, 12);
  });

  it('applies the raised ceiling to the campuses still open only', () => {
    const l = new Ledger(
      snapshot({
        campuses: [campus('campus-a'), campus('campus-b').shielded(), campus('campus-c')],
        nodes: [
          ...nodes('a', 1, 'campus-a', { cpu: 12 }),
          ...nodes('b', 1, 'campus-b', { cpu: 12 }),
          ...nodes('c', 1, 'campus-c', { cpu: 12 }),
        ],
      }),
    );
    expect(l.campuses.map((c) => [c.name, c.ceiling, c.onlineCap.cpu])).toEqual([
      ['campus-a', 1, 12_000],
      ['campus-b', 2 / 3, 8_000],
      ['campus-c', 1, 12_000],
    ]);
  });
});

describe('the books', () => {
  const world = snapshot({
    nodes: [...nodes('a', 2, 'campus-a', { cpu: 8 }), node('x-1').campus('campus-x')],
    campuses: [campus('campus-a')],
  });

  it('ignores nodes outside every campus, and pods on them', () => {
    const l = new Ledger({
      ...world,
      pods: [pod('stray-1').online().requests({ cpu: 1 }).on('x-1')],
    });
    expect(l.nodes.map((n) => n.name)).toEqual(['a-1', 'a-2']);
    expect(l.campus('campus-a')?.online.cpu).toBe(0);
    expect(l.entry('stray-1')).toBeUndefined();
  });

  it('comes back to where it was after assume then forget', () => {
    const l = new Ledger(world);
    const before = JSON.stringify([l.free(0), l.campuses, l.queues.get('default')?.used]);
    l.assume(pod('web-1').online().requests({ cpu: 2, memory: '1Gi' }).on('a-1'));
    l.assume(pod('job-1').offline().gang(2).requests({ cpu: 1 }).on('a-1'));
    expect(l.free(0)).toEqual({ cpu: 5_000, memory: 127 * 2 ** 30, pods: 108 });
    expect(l.replicas('web', 0)).toBe(1);
    expect(l.job('job')?.running.size).toBe(1);
    expect(l.queues.get('default')?.used.cpu).toBe(1_000);
    l.forget('web-1');
    l.forget('job-1');
    expect(JSON.stringify([l.free(0), l.campuses, l.queues.get('default')?.used])).toBe(before);
    expect(l.job('job')).toBeUndefined();
  });

  it('counts a terminating pod on its node but not for spread, gangs or queue shares', () => {
    const l = new Ledger(world);
    l.assume(pod('web-1').online().requests({ cpu: 2 }).on('a-1'));
    l.assume(pod('job-1').offline().requests({ cpu: 1 }).on('a-1'));
    l.markLeaving('web-1');
    l.markLeaving('job-1');
    expect(l.free(0).cpu).toBe(5_000);
    expect(l.leaving(0).cpu).toBe(3_000);
    expect(l.replicas('web', 0)).toBe(0);
    expect(l.job('job')?.running.size).toBe(0);
    expect(l.queues.get('default')?.used.cpu).toBe(0);
    l.unmarkLeaving('web-1');
    expect(l.replicas('web', 0)).toBe(1);
    expect(l.leaving(0).cpu).toBe(1_000);
  });

  it('assuming a pod again moves it instead of counting it twice', () => {
    const l = new Ledger(world);
    l.assume(pod('web-1').online().requests({ cpu: 2 }).on('a-1'));
    l.assume(pod('web-1').online().requests({ cpu: 2 }).on('a-2'));
    expect([l.free(0).cpu, l.free(1).cpu]).toEqual([8_000, 6_000]);
    expect(l.campus('campus-a')?.online.cpu).toBe(2_000);
  });

  it.each([
    ['fits an open node with room', node('a-1').cpu(2), true],
    ['not a cordoned node', node('a-1').cpu(2).cordoned(), false],
    ['not a tainted node', node('a-1').cpu(2).tainted(), false],
    ['not a node that is too small', node('a-1').cpu(1), false],
  ])('%s', (_name, n, want) => {
    const l = new Ledger(snapshot({ nodes: [n] }));
    expect(l.fits(0, requests({ cpu: 2 }))).toBe(want);
  });

  it('holds online within its cap and offline within its grant', () => {
    const l = new Ledger(
      snapshot({
        campuses: [campus('campus-a').ceiling(0.5)],
        nodes: nodes('a', 1, 'campus-a', { cpu: 8 }),
      }),
    );
    expect(l.withinGrant('campus-a', 'online', requests({ cpu: 4 }))).toBe(true);
    expect(l.withinGrant('campus-a', 'online', requests({ cpu: 5 }))).toBe(false);
    expect(l.headroom('campus-a', 'online').cpu).toBe(4_000);
    // the master has not granted offline anything yet
    expect(l.withinGrant('campus-a', 'offline', requests({ cpu: 1 }))).toBe(false);
    expect(l.withinGrant('campus-x', 'online', requests({}))).toBe(false);
  });
});
