import { describe, expect, it } from 'vitest';
import { ManualClock, flush } from './clock.ts';
import { EventRecorder } from './events.ts';
import type { EventSeries, EventSink, KubeEvent } from './events.ts';

// The sink is where the recorder's writes go; here it only counts them, to
// test de-duplication (the API side is tested in events.int.test.ts).
function recordingSink(): EventSink & {
  created: KubeEvent[];
  patched: { name: string; series: EventSeries }[];
} {
  const created: KubeEvent[] = [];
  const patched: { name: string; series: EventSeries }[] = [];
  return {
    created,
    patched,
    create: (e) => {
      created.push(e);
      return Promise.resolve();
    },
    patchSeries: (_ns, name, series) => {
      patched.push({ name, series });
      return Promise.resolve();
    },
  };
}

const campus = {
  apiVersion: 'yard.dev/v1alpha1',
  kind: 'Campus',
  metadata: { name: 'campus-a', uid: 'u-a' },
};
const shielded = {
  type: 'Normal',
  reason: 'Shielded',
  action: 'Shield',
  note: 'shielded by alice for 30m',
} as const;

function recorder(sink: EventSink, clock: ManualClock): EventRecorder {
  return new EventRecorder({
    sink,
    clock,
    reportingController: 'yard.dev/campus-controller',
    reportingInstance: 'yard-operator-0',
  });
}

describe('EventRecorder', () => {
  it('writes a well-formed events.k8s.io/v1 Event about the object', async () => {
    const sink = recordingSink();
    const r = recorder(sink, new ManualClock(Date.UTC(2026, 0, 1)));
    r.event(campus, shielded);
    await r.settled();
    expect(sink.created).toHaveLength(1);
    expect(sink.created[0]).toMatchObject({
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { namespace: 'default' }, // cluster-scoped objects' events live in default
      eventTime: '2026-01-01T00:00:00.000000Z',
      reportingController: 'yard.dev/campus-controller',
      reportingInstance: 'yard-operator-0',
      type: 'Normal',
      reason: 'Shielded',
      action: 'Shield',
      note: 'shielded by alice for 30m',
      regarding: { apiVersion: 'yard.dev/v1alpha1', kind: 'Campus', name: 'campus-a', uid: 'u-a' },
    });
    expect(sink.created[0]?.metadata.name).toMatch(/^campus-a\.[0-9a-f]+$/);
  });

  it('turns a hot loop of one event into one create and one series patch per flush period', async () => {
    const sink = recordingSink();
    const clock = new ManualClock();
    const r = recorder(sink, clock);
    for (let i = 0; i < 1_000; i++) r.event(campus, shielded);
    await r.settled();
    expect(sink.created).toHaveLength(1);
    expect(sink.patched).toHaveLength(0); // not yet: counts are written every 30 s
    await clock.tick(30_000);
    await r.settled();
    expect(sink.patched).toEqual([
      {
        name: sink.created[0]?.metadata.name,
        series: { count: 1_000, lastObservedTime: expect.any(String) as string },
      },
    ]);
    // nothing new happened: the next flush writes nothing
    await clock.tick(30_000);
    await r.settled();
    expect(sink.patched).toHaveLength(1);
    for (let i = 0; i < 5; i++) r.event(campus, shielded);
    await clock.tick(30_000);
    await r.settled();
    expect(sink.patched.at(-1)?.series.count).toBe(1_005);
    expect(sink.created).toHaveLength(1);
  });

  it('keeps different events apart', async () => {
    const sink = recordingSink();
    const r = recorder(sink, new ManualClock());
    r.event(campus, shielded);
    r.event(campus, { ...shielded, reason: 'Unshielded', action: 'Unshield' });
    r.event(campus, { ...shielded, type: 'Warning' });
    r.event({ ...campus, metadata: { name: 'campus-b', uid: 'u-b' } }, shielded);
    await r.settled();
    expect(sink.created).toHaveLength(4);
  });

  it('forgets a series after its window, and starts a new Event', async () => {
    const sink = recordingSink();
    const clock = new ManualClock();
    const r = recorder(sink, clock);
    r.event(campus, shielded);
    await clock.tick(7 * 60_000);
    r.event(campus, shielded);
    await r.settled();
    expect(sink.created).toHaveLength(2);
  });

  it('drops a flood of different events about one object beyond its burst (spam filter)', async () => {
    const sink = recordingSink();
    const clock = new ManualClock();
    const r = recorder(sink, clock);
    for (let i = 0; i < 100; i++) r.event(campus, { ...shielded, note: `attempt ${i}` });
    await r.settled();
    expect(sink.created).toHaveLength(25);
    await clock.tick(5 * 60_000); // one more token
    r.event(campus, { ...shielded, note: 'later' });
    r.event(campus, { ...shielded, note: 'later still' });
    await r.settled();
    expect(sink.created).toHaveLength(26);
  });

  it('never throws into the caller when the API refuses a write', async () => {
    const r = new EventRecorder({
      sink: {
        create: () => Promise.reject(new Error('forbidden')),
        patchSeries: () => Promise.resolve(),
      },
      reportingController: 'yard.dev/x',
      reportingInstance: 'i',
      clock: new ManualClock(),
    });
    expect(() => r.event(campus, shielded)).not.toThrow();
    await r.settled();
    await flush();
  });

  it('cuts notes to 1 KiB, as the API requires', async () => {
    const sink = recordingSink();
    const r = recorder(sink, new ManualClock());
    r.event(campus, { ...shielded, note: 'x'.repeat(5_000) });
    await r.settled();
    expect(sink.created[0]?.note.length).toBe(1024);
  });
});
