// A micro-benchmark of the decision core alone (no API server): how many
// decisions per second `schedule` makes on a benchmark-sized world. Not a test
// and not the scheduler benchmark of the issue (that one runs against the
// local control plane). Run: node_modules/.bin/node scheduler/core/bench.ts
//   [--nodes 1000] [--pods 10000]
import { parseArgs } from 'node:util';
import type { Ask, BusinessPriority, Decision, PlacedPod, Snapshot } from './contract.ts';
import { businessPriorities } from './contract.ts';
import { campus, gang, node, pod, queue, snapshot } from './fixtures.ts';
import { Ledger } from './ledger.ts';
import { cycle, schedule } from './schedule.ts';

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '1000' },
    pods: { type: 'string', default: '10000' },
    batch: { type: 'string', default: '100' },
  },
});
const nodeCount = Number(values.nodes);
const podCount = Number(values.pods);
const batchSize = Number(values.batch);
const campuses = ['campus-a', 'campus-b', 'campus-c'];

function world(pods: Snapshot['pods'] = []): Snapshot {
  return snapshot({
    campuses: campuses.map((c) => campus(c)),
    nodes: Array.from({ length: nodeCount }, (_, i) =>
      node(`n-${String(i).padStart(5, '0')}`)
        .campus(campuses[i % 3] ?? 'campus-a')
        .cpu(32)
        .memory('128Gi'),
    ),
    pods,
    queues: [
      queue('research').weight(2),
      queue('research-ml').parent('research'),
      queue('research-etl').parent('research'),
      queue('reports').max({ cpu: 2000 }),
    ],
  });
}

/** 70% online replicas of 70 services spread over campuses; 30% offline in gangs of 10. */
function asks(count: number, prefix = ''): Ask[] {
  const out: Ask[] = [];
  const online = Math.round(count * 0.7);
  for (let i = 0; i < online; i++) {
    const s = i % 70;
    const p: BusinessPriority = businessPriorities[s % 4] ?? 'message';
    out.push(
      pod(`${prefix}svc-${s}-${i}`)
        .online(p)
        .service(`svc-${s}`)
        .requests({
          cpu: ['500m', '1', '2'][s % 3] ?? '1',
          memory: ['1Gi', '2Gi', '4Gi'][s % 3] ?? '1Gi',
        })
        .campus(campuses[i % 3] ?? 'campus-a')
        .created(i)
        .ask(),
    );
  }
  const queues = ['research-ml', 'research-etl', 'reports'];
  for (let j = 0; j * 10 < count - online; j++) {
    out.push(
      gang(`${prefix}job-${j}`)
        .queue(queues[j % 3] ?? 'reports')
        .priority(j % 4)
        .members(Math.min(10, count - online - j * 10), { cpu: '1', memory: '2Gi' })
        .min(j % 2 === 0 ? 10 : 0)
        .created(j)
        .build(),
    );
  }
  return out;
}

function tally(ds: readonly Decision[]): Record<string, number> {
  const t: Record<string, number> = {};
  for (const d of ds) t[d.kind] = (t[d.kind] ?? 0) + 1;
  return t;
}

function time<T>(f: () => T): { ms: number; out: T } {
  const t0 = performance.now();
  const out = f();
  return { ms: performance.now() - t0, out };
}

const rows: {
  scenario: string;
  ms: string;
  decisions: number;
  'decisions/s': string;
  kinds: string;
}[] = [];
function report(scenario: string, ms: number, ds: readonly Decision[]): void {
  rows.push({
    scenario,
    ms: ms.toFixed(1),
    decisions: ds.length,
    'decisions/s': Math.round((ds.length / ms) * 1000).toLocaleString('en'),
    kinds: Object.entries(tally(ds))
      .map(([k, n]) => `${k} ${n}`)
      .join(', '),
  });
}

// warm the JIT once, so the numbers are of the steady state
schedule(world(), asks(podCount));

// 1. One cycle with every pod pending at once.
const empty = world();
const pending = asks(podCount);
const one = time(() => schedule(empty, pending));
report(`one cycle: ${podCount} pods onto ${nodeCount} nodes`, one.ms, one.out.decisions);

// 2. The adapter's way: one ledger kept across cycles of `batch` asks.
const all = asks(podCount);
const ledger = new Ledger(empty);
const batched: Decision[] = [];
const steady = time(() => {
  for (let i = 0; i < all.length; i += batchSize)
    batched.push(...cycle(ledger, all.slice(i, i + batchSize)).decisions);
});
report(`cycles of ${batchSize} on a kept ledger`, steady.ms, batched);

// 3. Building the books from a full snapshot (what a resync costs).
const full: PlacedPod[] = [];
for (const d of one.out.decisions)
  if (d.kind === 'bind') full.push(pod(d.pod).online().requests({ cpu: 1 }).on(d.node));
const fullWorld = world(full);
const build = time(() => new Ledger(fullWorld));
rows.push({
  scenario: `build the ledger: ${nodeCount} nodes, ${full.length} pods`,
  ms: build.ms.toFixed(1),
  decisions: 0,
  'decisions/s': '-',
  kinds: '',
});

// 4. A surge: offline fills every node to the brim, then online pods arrive
//    that fit only by preemption.
const filler: PlacedPod[] = [];
for (let i = 0; i < nodeCount; i++) {
  const n = `n-${String(i).padStart(5, '0')}`;
  for (let k = 0; k < 16; k++)
    filler.push(
      pod(`fill-${i}-${k}`)
        .offline(['research-ml', 'research-etl'][k % 2])
        .job(`fill-${i % 50}`)
        .priority(k % 3)
        // never 0, so no node is an obvious cheapest: the search's worst case
        .progress((((k * 13 + i) % 99) + 1) / 100)
        .requests({ cpu: 2, memory: '8Gi' })
        .on(n),
    );
}
const surgeWorld = world(filler);
const surgeAsks = asks(Math.min(podCount, 3000), 'surge-').filter((a) => a.kind === 'online');
const surge = time(() => schedule(surgeWorld, surgeAsks));
report(`surge: ${surgeAsks.length} online pods onto full nodes`, surge.ms, surge.out.decisions);

// 5. A backlog: offline jobs waiting on a cluster offline has filled, each a "no".
const backlog = asks(podCount, 'late-').filter((a) => a.kind === 'gang');
const waiting = time(() => schedule(surgeWorld, backlog));
report(`backlog: ${backlog.length} gangs onto full nodes`, waiting.ms, waiting.out.decisions);

console.table(rows);
const victims = surge.out.decisions.reduce(
  (s, d) => s + (d.kind === 'preempt' ? d.victims.length : 0),
  0,
);
console.log(
  `surge evicted ${victims} offline pods for ${surgeAsks.length} online pods; ` +
    `node ${process.version}, ${nodeCount} nodes in ${campuses.length} campuses`,
);
