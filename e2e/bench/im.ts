// npm run bench:im [-- --pairs 200 --seconds 15 --step-seconds 10 --overload-seconds 15 …]
//
// The IM backend end to end, as real processes on loopback: a three-member
// etcd (one member per campus), one storage, one logic and one access
// (--logic N, --access N for more), each its services/<tier>/main.ts under
// this Node. The load generator runs in this process (node:http, kept-alive
// connections) and its CPU is measured apart from the services'. Phases:
//   1. raw storage: etcd's own rate for the write the backend makes per
//      message (the inbox append: one txn comparing the head's mod revision and
//      the id mark's absence, putting head, item and mark), through the same
//      JSON-gateway client storage uses, at bounded concurrency: the limit;
//   2. end to end, closed loop: sender → receiver pairs send 1:1 messages
//      through access as fast as `--concurrency` lanes allow, while every
//      receiver long-polls push and syncs like a client; messages/s, send →
//      sync-visible latency, CPU of every process from /proc;
//   3. end to end, open loop at fractions of (2)'s rate (--steps): the highest
//      step with p99 ≤ 200 ms and ≥ 95% delivered is the sustainable rate;
//   4. overload: a mix of payments, 1:1 messages, group messages and Moments
//      reads, open-loop from the sustainable message rate up ×1.5 a step
//      until a step no longer serves ≥ 98% in time (its capacity), then at 2×
//      and 4× that capacity; goodput, per-priority success, shed counts and
//      what each instance's admission gate did.
// It prints a table against the issue's targets and the anchors (OpenIM,
// WuKongIM), and writes .yard/bench/im.json. A benchmark: it never fails on a
// number.
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import type { BusinessPriority } from '../../services/shared/priority.ts';
import { absent, createEtcd, modIs } from '../../services/storage/etcd.ts';
import {
  businessRequest,
  closedLoop,
  createHttp,
  emptyOutcomes,
  openLoop,
  percentile,
  sendMessage,
  setupPairs,
  startReceivers,
  Tracker,
} from './im-load.ts';
import type { Http, Outcomes, Pair } from './im-load.ts';
import { cpuOf, peakRss, startStack } from './im-stack.ts';
import { procStatusBytes } from './proc.ts';
import type { Stack } from './im-stack.ts';
import { parseMetrics, sum } from './prometheus.ts';
import { benchDir, mebibytes, progressPrinter, table, writeJson } from './report.ts';
import type { Row } from './report.ts';

const { values: flags } = parseArgs({
  options: {
    pairs: { type: 'string', default: '200' },
    logic: { type: 'string', default: '1' },
    access: { type: 'string', default: '1' },
    'raw-seconds': { type: 'string', default: '10' },
    'raw-concurrency': { type: 'string', default: '64' },
    seconds: { type: 'string', default: '15' },
    concurrency: { type: 'string', default: '16' },
    'step-seconds': { type: 'string', default: '10' },
    steps: { type: 'string', default: '0.5,0.75,1,1.25' },
    'overload-seconds': { type: 'string', default: '15' },
    'ramp-seconds': { type: 'string', default: '6' },
    'ramp-steps': { type: 'string', default: '5' },
    'skip-raw': { type: 'boolean', default: false },
    'skip-overload': { type: 'boolean', default: false },
    // run the services of another checkout (e.g. a baseline) against the same generator
    'services-root': { type: 'string' },
    // NODE_OPTIONS of the service processes, e.g. heap limits
    'service-node-options': { type: 'string' },
  },
});

const num = (name: string, v: string | undefined, min: number, max: number): number => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max)
    throw new Error(`--${name} must be a number in [${min}, ${max}], got ${JSON.stringify(v)}`);
  return n;
};
const opts = {
  pairs: num('pairs', flags.pairs, 1, 5000),
  logic: num('logic', flags.logic, 1, 8),
  access: num('access', flags.access, 1, 8),
  rawSeconds: num('raw-seconds', flags['raw-seconds'], 1, 300),
  rawConcurrency: num('raw-concurrency', flags['raw-concurrency'], 1, 1024),
  seconds: num('seconds', flags.seconds, 1, 300),
  concurrency: num('concurrency', flags.concurrency, 1, 4096),
  stepSeconds: num('step-seconds', flags['step-seconds'], 1, 300),
  steps: (flags.steps ?? '')
    .split(',')
    .map((s) => num('steps', s, 0.01, 10))
    .sort((a, b) => a - b),
  overloadSeconds: num('overload-seconds', flags['overload-seconds'], 1, 300),
  rampSeconds: num('ramp-seconds', flags['ramp-seconds'], 1, 300),
  rampSteps: num('ramp-steps', flags['ramp-steps'], 1, 20),
};

const targets = {
  perCore: 2500,
  p99Ms: 200,
  goodput: 0.95,
  rssBytes: 128 * 2 ** 20,
} as const;
const anchors = { openim: 290, wukongim: 2500 } as const;
/** An answer later than this is not useful: the "in time" of goodput. */
const deadlineMs = 1000;
/** The client gives up after this. */
const clientTimeoutMs = 5000;
/** The overload mix, by count. */
const mix: readonly [BusinessPriority, number][] = [
  ['payment', 1],
  ['message', 4],
  ['groupchat', 2],
  ['moments', 3],
];
const mixPattern: BusinessPriority[] = mix.flatMap(([b, n]) => Array.from({ length: n }, () => b));
const outFile = join(benchDir, 'im.json');
const progress = progressPrinter('bench:im');
const stop = new AbortController();

// ---- measuring --------------------------------------------------------------------

interface Cpu {
  readonly wall: number;
  readonly byProcess: Record<string, number>;
  readonly etcd: number;
  readonly generator: number;
}

function cpuSnapshot(stack: Stack): Cpu {
  const byProcess: Record<string, number> = {};
  for (const s of stack.services) byProcess[s.name] = cpuOf([s.pid]);
  const u = process.cpuUsage();
  return {
    wall: performance.now() / 1000,
    byProcess,
    etcd: cpuOf(stack.etcdPids),
    generator: (u.user + u.system) / 1e6,
  };
}

interface CpuUse {
  readonly wallSeconds: number;
  /** Cores used over the window, per service instance. */
  readonly cores: Record<string, number>;
  readonly servicesCores: number;
  readonly etcdCores: number;
  readonly generatorCores: number;
}

function cpuUse(a: Cpu, b: Cpu): CpuUse {
  const wall = b.wall - a.wall;
  const cores: Record<string, number> = {};
  for (const [name, s] of Object.entries(b.byProcess))
    cores[name] = (s - (a.byProcess[name] ?? 0)) / wall;
  return {
    wallSeconds: wall,
    cores,
    servicesCores: Object.values(cores).reduce((x, y) => x + y, 0),
    etcdCores: (b.etcd - a.etcd) / wall,
    generatorCores: (b.generator - a.generator) / wall,
  };
}

type Samples = ReturnType<typeof parseMetrics>;

/** A service's metrics; a failed scrape stops the bench (it used to read as zero txns and no shedding). */
async function metricsOf(url: string): Promise<Samples> {
  let res: Response;
  try {
    res = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5000) });
  } catch (err) {
    throw new Error(
      `cannot scrape ${url}/metrics: ${err instanceof Error ? err.message : String(err)}`,
      {
        cause: err,
      },
    );
  }
  if (!res.ok) throw new Error(`cannot scrape ${url}/metrics: HTTP ${res.status}`);
  return parseMetrics(await res.text());
}

const storageMetrics = (stack: Stack): Promise<Samples> => metricsOf(stack.storageUrl);

/** What each instance's gate did between two scrapes: the overload signal and its answers. */
interface GateUse {
  /** Average time admitted requests waited for a slot, ms. */
  readonly avgQueueMs: number | undefined;
  readonly shedByReason: Record<string, number>;
  /** Calls not sent upstream because the callee's announced level would shed them. */
  readonly notSentUpstream: number;
  readonly admissionLevelAtEnd: number;
}

async function gateScrape(stack: Stack): Promise<Record<string, Samples>> {
  const out: Record<string, Samples> = {};
  await Promise.all(
    stack.services.map(async (s) => {
      out[s.name] = await metricsOf(s.url);
    }),
  );
  return out;
}

function gateUse(a: Record<string, Samples>, b: Record<string, Samples>): Record<string, GateUse> {
  const out: Record<string, GateUse> = {};
  for (const [name, after] of Object.entries(b)) {
    const before = a[name] ?? [];
    const d = (metric: string, labels: Record<string, string> = {}): number =>
      sum(after, metric, labels) - sum(before, metric, labels);
    const n = d('yard_im_admission_queue_seconds_count');
    const shedByReason: Record<string, number> = {};
    for (const reason of ['level', 'queue-full', 'queue-timeout']) {
      shedByReason[reason] = d('yard_im_shed_total', { reason });
    }
    out[name] = {
      avgQueueMs: n > 0 ? (1000 * d('yard_im_admission_queue_seconds_sum')) / n : undefined,
      shedByReason,
      notSentUpstream: d('yard_upstream_requests_total', { outcome: 'not-sent' }),
      admissionLevelAtEnd: sum(after, 'yard_im_admission_level'),
    };
  }
  return out;
}

const etcdOps = (m: ReturnType<typeof parseMetrics>, op: string): number =>
  sum(m, 'yard_im_etcd_requests_total', { op, outcome: 'ok' });

function mustLive(stack: Stack): void {
  const dead = stack.services.find((s) => !s.alive);
  if (dead) throw new Error(`${dead.name} exited; its log ends:\n${dead.logTail()}`);
}

// ---- phase 1: raw storage -----------------------------------------------------------

interface RawResult {
  readonly writesPerSecond: number;
  readonly p50Ms: number | undefined;
  readonly p99Ms: number | undefined;
  readonly failed: number;
  readonly cpu: CpuUse;
  /** Writes per second per core etcd used. */
  readonly writesPerEtcdCore: number;
}

async function rawStorage(stack: Stack): Promise<RawResult> {
  const etcd = createEtcd({ endpoints: stack.etcd.endpoints });
  const prefix = `/yard/bench-raw/${randomBytes(3).toString('hex')}/`;
  const latencies: number[] = [];
  let ok = 0;
  let failed = 0;
  // each lane appends to its own inbox, as one writer: no compare ever fails for a race
  const revs = Array.from({ length: opts.rawConcurrency }, () => 0);
  const seqs = Array.from({ length: opts.rawConcurrency }, () => 0);
  const lane = async (l: number, end: number): Promise<void> => {
    const root = `${prefix}u/r${l}/inbox/`;
    for (let n = 0; performance.now() < end && !stop.signal.aborted && n < 10_000_000; n++) {
      const seq = (seqs[l] ?? 0) + 1;
      const mark = `${root}id/s${l}/m${seq}`;
      const item = JSON.stringify({
        id: `m${seq}`,
        from: `s${l}`,
        kind: 'text',
        text: `bench m${seq} ${'x'.repeat(40)}`,
        to: `r${l}`,
        sentAt: Date.now(),
        seq,
      });
      const t0 = performance.now();
      try {
        const t = await etcd.txn(
          [modIs(`${root}head`, revs[l] ?? 0), absent(mark)],
          [
            { put: { key: `${root}head`, value: String(seq) } },
            { put: { key: `${root}m/${String(seq).padStart(16, '0')}`, value: item } },
            { put: { key: mark, value: JSON.stringify({ seq, fp: 'x'.repeat(43) }) } },
          ],
        );
        if (t.succeeded) {
          ok++;
          revs[l] = t.revision;
          seqs[l] = seq;
          latencies.push(performance.now() - t0);
        } else failed++;
      } catch {
        failed++;
      }
    }
  };
  // a second to warm up, then the window
  await Promise.all(
    Array.from({ length: opts.rawConcurrency }, (_, l) => lane(l, performance.now() + 1000)),
  );
  ok = 0;
  failed = 0;
  latencies.length = 0;
  const a = cpuSnapshot(stack);
  const end = performance.now() + opts.rawSeconds * 1000;
  await Promise.all(Array.from({ length: opts.rawConcurrency }, (_, l) => lane(l, end)));
  const cpu = cpuUse(a, cpuSnapshot(stack));
  const rate = ok / cpu.wallSeconds;
  return {
    writesPerSecond: rate,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    failed,
    cpu,
    writesPerEtcdCore: cpu.etcdCores > 0 ? rate / cpu.etcdCores : 0,
  };
}

// ---- phases 2 and 3: end to end ------------------------------------------------------

interface E2eResult {
  readonly name: string;
  /** Messages offered per second (open loop), or undefined (closed loop). */
  readonly offeredPerSecond: number | undefined;
  readonly sent: number;
  readonly acked: number;
  readonly ackedPerSecond: number;
  readonly failedSends: number;
  /** Acked in the window and visible in the receiver's sync. */
  readonly delivered: number;
  readonly deliveredShare: number;
  readonly p50Ms: number | undefined;
  readonly p99Ms: number | undefined;
  readonly maxMs: number | undefined;
  readonly sendP99Ms: number | undefined;
  readonly cpu: CpuUse;
  /** Acked messages/s ÷ cores used by services and etcd. */
  readonly perCore: number;
  /** Acked messages/s ÷ cores used by the services alone. */
  readonly perServiceCore: number;
  readonly etcdTxnsPerMessage: number;
  readonly etcdRangesPerMessage: number;
  readonly receiverFailures: number;
  readonly rss: Record<string, number | undefined>;
}

async function endToEnd(
  stack: Stack,
  name: string,
  tracker: Tracker,
  receiverFailures: () => number,
  run: () => Promise<Outcomes>,
  offered?: number,
): Promise<E2eResult> {
  mustLive(stack);
  const m0 = await storageMetrics(stack);
  const f0 = receiverFailures();
  tracker.record(true);
  const a = cpuSnapshot(stack);
  const o = await run();
  const b = cpuSnapshot(stack);
  const m1 = await storageMetrics(stack);
  // what was acked in the window may still be on its way: wait for it, bounded
  const drainEnd = Date.now() + 5000;
  while (tracker.pending() > o.offered - o.ok && Date.now() < drainEnd) await sleep(50);
  tracker.record(false);
  const cpu = cpuUse(a, b);
  const lat = tracker.latencies;
  const delivered = tracker.delivered;
  tracker.forget();
  const ackedPerSecond = o.ok / cpu.wallSeconds;
  const msgs = Math.max(1, o.ok);
  const rss: Record<string, number | undefined> = {};
  for (const s of stack.services) rss[s.name] = peakRss(s.pid);
  const r: E2eResult = {
    name,
    offeredPerSecond: offered,
    sent: o.offered,
    acked: o.ok,
    ackedPerSecond,
    failedSends: o.offered - o.ok,
    delivered,
    deliveredShare: o.ok > 0 ? Math.min(1, delivered / o.ok) : 0,
    p50Ms: percentile(lat, 50),
    p99Ms: percentile(lat, 99),
    maxMs: percentile(lat, 100),
    sendP99Ms: percentile(o.latencies, 99),
    cpu,
    perCore: ackedPerSecond / Math.max(1e-9, cpu.servicesCores + cpu.etcdCores),
    perServiceCore: ackedPerSecond / Math.max(1e-9, cpu.servicesCores),
    etcdTxnsPerMessage: (etcdOps(m1, 'txn') - etcdOps(m0, 'txn')) / msgs,
    etcdRangesPerMessage: (etcdOps(m1, 'range') - etcdOps(m0, 'range')) / msgs,
    receiverFailures: receiverFailures() - f0,
    rss,
  };
  progress(
    `${name}: ${r.acked} acked (${ackedPerSecond.toFixed(0)}/s), ${delivered} visible, p50 ${fmtMs(r.p50Ms)} p99 ${fmtMs(r.p99Ms)}, ` +
      `services ${cpu.servicesCores.toFixed(2)} + etcd ${cpu.etcdCores.toFixed(2)} cores (generator ${cpu.generatorCores.toFixed(2)}) → ${r.perCore.toFixed(0)} msg/s/core`,
  );
  return r;
}

/** Two sets of outcomes as one. */
const merge = (a: Outcomes, b: Outcomes): Outcomes => ({
  offered: a.offered + b.offered,
  ok: a.ok + b.ok,
  okInTime: a.okInTime + b.okInTime,
  shed: a.shed + b.shed,
  failed: a.failed + b.failed,
  noAnswer: a.noAnswer + b.noAnswer,
  notSent: a.notSent + b.notSent,
  latencies: [...a.latencies, ...b.latencies],
});

const fmtMs = (ms: number | undefined): string =>
  ms === undefined ? 'n/a' : `${ms.toFixed(ms < 10 ? 1 : 0)} ms`;

// ---- phase 4: overload ----------------------------------------------------------------

interface OverloadResult {
  readonly factor: number;
  readonly offeredPerSecond: number;
  readonly byBusiness: Record<
    string,
    {
      offered: number;
      ok: number;
      okInTime: number;
      shed: number;
      failed: number;
      noAnswer: number;
      notSent: number;
      success: number;
      p99Ms: number | undefined;
    }
  >;
  readonly okInTimePerSecond: number;
  /** ok in time per second ÷ the mix capacity. */
  readonly goodput: number | undefined;
  /** The same over the second half of the run, once admission control has had time to settle. */
  readonly goodputSecondHalf: number | undefined;
  /** ok in time ÷ requests not shed (nor held back by the generator). */
  readonly admittedInTime: number;
  readonly cpu: CpuUse;
  readonly rss: Record<string, number | undefined>;
  readonly gates: Record<string, GateUse>;
}

interface MixRun {
  readonly http: Http;
  readonly pairs: readonly Pair[];
  readonly tracker: Tracker;
  /** For the report: a multiple of the capacity, or 0 for a step of the ramp. */
  readonly factor: number;
  readonly label: string;
  readonly rate: number;
  /** What goodput is relative to; 0 when unknown yet. */
  readonly capacity: number;
  readonly seconds: number;
}

/** The mix open-loop at `rate` for `seconds`. */
async function overload(stack: Stack, run: MixRun): Promise<OverloadResult> {
  const { http, pairs, tracker, factor, rate, capacity, seconds } = run;
  mustLive(stack);
  const half = Math.round((rate * seconds) / 2);
  const g0 = await gateScrape(stack);
  const a = cpuSnapshot(stack);
  const out = await openLoop(
    rate,
    seconds * 1000,
    4096,
    // by business and by half of the run: the second half shows the admission control settled
    (i) => `${mixPattern[i % mixPattern.length] ?? 'message'}:${i < half ? 0 : 1}`,
    (i) =>
      businessRequest(
        http,
        mixPattern[i % mixPattern.length] ?? 'message',
        pairs[Math.floor(i / mixPattern.length) % pairs.length] as Pair,
        tracker,
        clientTimeoutMs,
      ),
    deadlineMs,
    stop.signal,
  );
  const cpu = cpuUse(a, cpuSnapshot(stack));
  const gates = gateUse(g0, await gateScrape(stack));
  tracker.forget();
  const byBusiness: OverloadResult['byBusiness'] = {};
  let okInTime = 0;
  let admitted = 0;
  let okInTimeLate = 0;
  for (const [b] of mix) {
    const early = out.get(`${b}:0`) ?? emptyOutcomes();
    const late = out.get(`${b}:1`) ?? emptyOutcomes();
    okInTimeLate += late.okInTime;
    const o = merge(early, late);
    if (o.offered === 0) continue;
    okInTime += o.okInTime;
    admitted += o.offered - o.shed - o.notSent;
    byBusiness[b] = {
      offered: o.offered,
      ok: o.ok,
      okInTime: o.okInTime,
      shed: o.shed,
      failed: o.failed,
      noAnswer: o.noAnswer,
      notSent: o.notSent,
      success: o.offered > 0 ? o.okInTime / o.offered : 0,
      p99Ms: percentile(o.latencies, 99),
    };
  }
  const okInTimePerSecond = okInTime / seconds;
  const rss: Record<string, number | undefined> = {};
  for (const s of stack.services) rss[s.name] = peakRss(s.pid);
  const r: OverloadResult = {
    factor,
    offeredPerSecond: rate,
    byBusiness,
    okInTimePerSecond,
    goodput: capacity > 0 ? okInTimePerSecond / capacity : undefined,
    goodputSecondHalf: capacity > 0 ? okInTimeLate / (seconds / 2) / capacity : undefined,
    admittedInTime: admitted > 0 ? okInTime / admitted : 0,
    cpu,
    rss,
    gates,
  };
  progress(
    `${run.label}: ${rate.toFixed(0)} req/s offered, ${okInTimePerSecond.toFixed(0)}/s ok in ≤ ${deadlineMs} ms` +
      (r.goodput !== undefined
        ? ` (goodput ${(r.goodput * 100).toFixed(0)}%, second half ${((r.goodputSecondHalf ?? 0) * 100).toFixed(0)}%)`
        : '') +
      `; success ${Object.entries(byBusiness)
        .map(([b, o]) => `${b} ${(o.success * 100).toFixed(0)}% (shed ${o.shed})`)
        .join(', ')}; generator ${cpu.generatorCores.toFixed(2)} cores`,
  );
  progress(
    `  gates: ${Object.entries(gates)
      .map(
        ([n, g]) =>
          `${n} queued ${fmtMs(g.avgQueueMs)} avg, shed ${Object.values(g.shedByReason).reduce((x, y) => x + y, 0)}, ` +
          `not sent upstream ${g.notSentUpstream}, level ${g.admissionLevelAtEnd}`,
      )
      .join('; ')}`,
  );
  return r;
}

// ---- the report -------------------------------------------------------------------------

const pct = (x: number | undefined): string =>
  x === undefined ? 'n/a' : `${(x * 100).toFixed(1)}%`;
const per = (x: number): string => x.toFixed(0);

const rssRow = (what: string, rss: Record<string, number | undefined>): Row => {
  const max = Math.max(...Object.values(rss).map((v) => v ?? 0));
  return {
    what,
    value: Object.entries(rss)
      .map(([n, v]) => `${n} ${mebibytes(v)}`)
      .join(', '),
    target: '≤ 128 MiB',
    met: max > 0 ? max <= targets.rssBytes : undefined,
  };
};

function rawRows(raw: RawResult, closed: E2eResult): Row[] {
  const etcdOpsPerSecond =
    closed.ackedPerSecond * (closed.etcdTxnsPerMessage + closed.etcdRangesPerMessage);
  return [
    {
      what: `raw etcd: append txns/s (compare + 3 puts, ${opts.rawConcurrency} at once)`,
      value: `${per(raw.writesPerSecond)}/s, p50 ${fmtMs(raw.p50Ms)}, p99 ${fmtMs(raw.p99Ms)}`,
    },
    {
      what: '  …per etcd core (3 members)',
      value: `${per(raw.writesPerEtcdCore)}/s (etcd ${raw.cpu.etcdCores.toFixed(2)} cores, client ${raw.cpu.generatorCores.toFixed(2)})`,
    },
    {
      what: 'e2e closed loop ÷ raw append rate (the limit)',
      value:
        `${pct(closed.ackedPerSecond / raw.writesPerSecond)}; per message ${closed.etcdTxnsPerMessage.toFixed(1)} txns + ` +
        `${closed.etcdRangesPerMessage.toFixed(1)} ranges (${per(etcdOpsPerSecond)} etcd ops/s)`,
    },
  ];
}

function e2eRows(closed: E2eResult, steps: readonly E2eResult[], sustainable: E2eResult): Row[] {
  const ok = sustainable.p99Ms !== undefined && sustainable.p99Ms <= targets.p99Ms;
  return [
    {
      what: `e2e closed loop (${opts.concurrency} lanes): messages/s`,
      value: `${per(closed.ackedPerSecond)}/s, p50 ${fmtMs(closed.p50Ms)}, p99 ${fmtMs(closed.p99Ms)}`,
    },
    ...steps.map((s): Row => ({
      what: `e2e open loop ${per(s.offeredPerSecond ?? 0)}/s: p50 / p99 send→visible`,
      value: `${fmtMs(s.p50Ms)} / ${fmtMs(s.p99Ms)}, ${per(s.ackedPerSecond)}/s, ${pct(s.deliveredShare)} visible, ${per(s.perCore)}/core`,
      target: `p99 ≤ ${targets.p99Ms} ms`,
      met: s.p99Ms === undefined ? undefined : s.p99Ms <= targets.p99Ms,
    })),
    {
      what: 'sustainable rate (highest step with p99 ≤ 200 ms)',
      value: ok ? `${per(sustainable.ackedPerSecond)} msg/s` : 'none: the lowest step is shown',
    },
    {
      what: 'messages/s per core (services + etcd)',
      value: per(sustainable.perCore),
      target: `≥ ${targets.perCore}`,
      met: sustainable.perCore >= targets.perCore,
    },
    { what: '  …per core of the services alone', value: per(sustainable.perServiceCore) },
    {
      what: '  anchors: OpenIM / WuKongIM (msg/s/core)',
      value: `${anchors.openim} / ${anchors.wukongim}: this is ${(sustainable.perCore / anchors.openim).toFixed(2)}× / ${(sustainable.perCore / anchors.wukongim).toFixed(2)}×`,
    },
    {
      what: 'p99 send→visible at that rate',
      value: fmtMs(sustainable.p99Ms),
      target: `≤ ${targets.p99Ms} ms`,
      met: ok,
    },
    rssRow('peak RSS per instance (through the sustainable rate)', sustainable.rss),
  ];
}

const order = ['payment', 'message', 'groupchat', 'moments'] as const;

function overloadRows(
  capacity: number,
  ramp: readonly OverloadResult[],
  over: readonly OverloadResult[],
): Row[] {
  const out: Row[] = [];
  if (ramp.length > 0) {
    out.push({
      what: `mix capacity (${mix.map(([b, n]) => `${b} ${(n * 100) / mixPattern.length}%`).join(', ')})`,
      value:
        `${per(capacity)} req/s ok in ≤ ${deadlineMs} ms (ramp: ` +
        `${ramp.map((r) => `${per(r.offeredPerSecond)}→${per(r.okInTimePerSecond)}`).join(', ')})`,
    });
  }
  for (const o of over) {
    out.push({
      what: `overload ${o.factor}×: goodput (ok in ≤ 1 s per s ÷ capacity)`,
      value:
        `${pct(o.goodput)}, second half ${pct(o.goodputSecondHalf)} (${per(o.okInTimePerSecond)}/s of ` +
        `${per(o.offeredPerSecond)} offered); admitted ok in time ${pct(o.admittedInTime)}`,
      ...(o.factor === 2 ? { target: '≥ 95%', met: (o.goodput ?? 0) >= targets.goodput } : {}),
    });
    const success = order.map((k) => o.byBusiness[k]?.success ?? 0);
    out.push({
      what: '  success by priority (shed)',
      value: order
        .map((k) => `${k} ${pct(o.byBusiness[k]?.success)} (${o.byBusiness[k]?.shed ?? 0})`)
        .join(', '),
      target: 'payment ≥ … ≥ moments',
      // two points of slack: a few requests more or less are noise, not an inversion
      met: success.every((v, i) => i === 0 || v <= (success[i - 1] ?? 0) + 0.02),
    });
  }
  const last = over.at(-1);
  if (last) out.push(rssRow('peak RSS per instance (through 4× overload)', last.rss));
  return out;
}

// ---- main -------------------------------------------------------------------------------

type HttpFor = (i: number) => Http;

/** Phases 2 and 3: the closed loop, then open-loop steps at fractions of its rate. */
async function endToEndPhases(
  stack: Stack,
  pairs: readonly Pair[],
  tracker: Tracker,
  receiverFailures: () => number,
  httpFor: HttpFor,
): Promise<{ closed: E2eResult; steps: E2eResult[]; sustainable: E2eResult }> {
  const send = (lane: number, i: number) =>
    sendMessage(
      httpFor(lane),
      pairs[(lane + i * opts.concurrency) % pairs.length] as Pair,
      tracker,
      'c',
      clientTimeoutMs,
    );
  progress(`warming up: closed loop, ${opts.concurrency} lanes, 3 s`);
  await closedLoop(opts.concurrency, 3000, send, deadlineMs, stop.signal);
  tracker.forget();
  await sleep(1000);
  progress(`end to end, closed loop: ${opts.concurrency} lanes, ${opts.seconds} s`);
  const closed = await endToEnd(stack, 'closed loop', tracker, receiverFailures, () =>
    closedLoop(opts.concurrency, opts.seconds * 1000, send, deadlineMs, stop.signal),
  );
  const steps: E2eResult[] = [];
  for (const f of opts.steps) {
    if (stop.signal.aborted) break;
    await sleep(1000);
    const rate = Math.max(1, f * closed.ackedPerSecond);
    progress(
      `end to end, open loop at ${rate.toFixed(0)} msg/s (${f}× closed loop), ${opts.stepSeconds} s`,
    );
    const offer = async (): Promise<Outcomes> => {
      const out = await openLoop(
        rate,
        opts.stepSeconds * 1000,
        4096,
        () => 'message',
        (i) =>
          sendMessage(httpFor(i), pairs[i % pairs.length] as Pair, tracker, 'o', clientTimeoutMs),
        deadlineMs,
        stop.signal,
      );
      return out.get('message') ?? emptyOutcomes();
    };
    steps.push(
      await endToEnd(
        stack,
        `open loop ${rate.toFixed(0)}/s`,
        tracker,
        receiverFailures,
        offer,
        rate,
      ),
    );
  }
  const good = steps.filter(
    (s) => s.p99Ms !== undefined && s.p99Ms <= targets.p99Ms && s.deliveredShare >= 0.95,
  );
  return { closed, steps, sustainable: good.at(-1) ?? steps[0] ?? closed };
}

/** A ramp step passes when it served (almost) everything offered in time. */
const servedAll = (r: OverloadResult): boolean =>
  Object.values(r.byBusiness).reduce((n, o) => n + o.okInTime, 0) >=
  0.98 * Object.values(r.byBusiness).reduce((n, o) => n + o.offered, 0);

/**
 * Phase 4: the mix's capacity — open-loop steps from the sustainable message
 * rate up (×1.5 each, at most `rampSteps`) until one no longer serves ≥ 98% of
 * its requests in time; the capacity is what the last passing step served —
 * then the mix open-loop at 2× and 4× that capacity.
 */
async function overloadPhases(
  stack: Stack,
  pairs: readonly Pair[],
  tracker: Tracker,
  httpFor: HttpFor,
  start: number,
): Promise<{ capacity: number; ramp: OverloadResult[]; runs: OverloadResult[] }> {
  const ramp: OverloadResult[] = [];
  let capacity = 0;
  let rate = Math.max(1, start);
  for (let step = 0; step < opts.rampSteps && !stop.signal.aborted; step++, rate *= 1.5) {
    await sleep(1000);
    progress(
      `the mix's capacity: step ${step + 1}, ${rate.toFixed(0)} req/s, ${opts.rampSeconds} s`,
    );
    const r = await overload(stack, {
      http: httpFor(step),
      pairs,
      tracker,
      factor: 0,
      label: `the mix's capacity, step ${step + 1}`,
      rate,
      capacity: 0,
      seconds: opts.rampSeconds,
    });
    ramp.push(r);
    if (!servedAll(r)) break;
    capacity = r.okInTimePerSecond;
  }
  // nothing passed: the first step's useful rate is the best known
  if (capacity === 0) capacity = ramp[0]?.okInTimePerSecond ?? 0;
  progress(`the mix's capacity: ${capacity.toFixed(0)} req/s answered ok in ≤ ${deadlineMs} ms`);
  const runs: OverloadResult[] = [];
  for (const factor of [2, 4]) {
    if (stop.signal.aborted || capacity <= 0) break;
    await sleep(3000);
    const r = factor * capacity;
    progress(
      `overload ${factor}×: the mix open loop at ${r.toFixed(0)} req/s, ${opts.overloadSeconds} s`,
    );
    runs.push(
      await overload(stack, {
        http: httpFor(factor),
        pairs,
        tracker,
        factor,
        label: `overload ${factor}×`,
        rate: r,
        capacity,
        seconds: opts.overloadSeconds,
      }),
    );
  }
  return { capacity, ramp, runs };
}

const loadAverage = (): string =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');

async function report(
  raw: RawResult | undefined,
  e2e: { closed: E2eResult; steps: E2eResult[]; sustainable: E2eResult },
  over: { capacity: number; ramp: readonly OverloadResult[]; runs: readonly OverloadResult[] },
  idleRss: Record<string, number | undefined>,
  loadAtStart: string,
  started: number,
): Promise<void> {
  const { closed, steps, sustainable } = e2e;
  const cpus = availableParallelism();
  const tableRows = [
    ...(raw ? rawRows(raw, closed) : []),
    ...e2eRows(closed, steps, sustainable),
    ...overloadRows(over.capacity, over.ramp, over.runs),
    {
      what: '  RSS per instance idle, just started (the floor)',
      value: Object.entries(idleRss)
        .map(([n, v]) => `${n} ${mebibytes(v)}`)
        .join(', '),
    },
  ];
  console.log(
    `\nIM benchmark: etcd ×3 (one member per campus, loopback, no fsync), storage ×1, logic ×${opts.logic}, ` +
      `access ×${opts.access}, each a process; ${opts.pairs} sender → receiver pairs; the generator in the bench ` +
      `process; ${cpus} CPUs, load average ${loadAverage()} (at start ${loadAtStart})\n`,
  );
  console.log(table(tableRows));
  const cores = Object.entries(sustainable.cpu.cores).map(([n, c]) => `${n} ${c.toFixed(2)}`);
  console.log(
    `\nCPU at the sustainable rate (cores): ${cores.join(', ')}, etcd ${sustainable.cpu.etcdCores.toFixed(2)}, ` +
      `generator ${sustainable.cpu.generatorCores.toFixed(2)}`,
  );
  await writeJson(outFile, {
    cpus,
    topology: {
      etcd: 3,
      storage: 1,
      logic: opts.logic,
      access: opts.access,
      pairs: opts.pairs,
      generator: 'in the bench process (node:http, keep-alive)',
    },
    options: opts,
    definitions: {
      perCore:
        'acked messages/s ÷ (CPU seconds of access, logic, storage and the three etcd members ÷ wall seconds)',
      latency:
        'send start → the message appears in the receiver’s sync answer (the receiver long-polls push, then syncs)',
      sustainable: `the highest open-loop step with p99 ≤ ${targets.p99Ms} ms and ≥ 95% of acked messages visible`,
      capacity: `the mix open-loop from the sustainable message rate up ×1.5 a step: requests answered 2xx within ${deadlineMs} ms per second in the last step that served ≥ 98% of its requests so`,
      goodput: `requests answered 2xx within ${deadlineMs} ms per second ÷ the mix's capacity (over the whole run, and over its second half, once admission control has settled)`,
      admittedInTime: `requests answered 2xx within ${deadlineMs} ms ÷ requests not shed`,
      mix: Object.fromEntries(mix.map(([b, n]) => [b, n / mixPattern.length])),
    },
    anchors,
    targets,
    raw,
    closed,
    steps,
    sustainable: sustainable.name,
    overload: over,
    idleRss,
    rows: tableRows,
    loadAverage: { atStart: loadAtStart, atEnd: loadAverage() },
    wallSeconds: (Date.now() - started) / 1000,
  });
  console.log(`wrote ${outFile}`);
}

async function main(): Promise<void> {
  let signals = 0;
  const onSignal = (): void => {
    // first: stop the phases and clean up; second: leave now (exit hooks kill every child)
    if (++signals > 1) process.exit(130);
    progress('stopping: cleaning up (again to force)');
    process.exitCode = 130;
    stop.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const started = Date.now();
  const loadAtStart = loadAverage();
  progress(`load average ${loadAtStart} on ${availableParallelism()} CPUs`);
  const stack = await startStack({
    logicInstances: opts.logic,
    accessInstances: opts.access,
    ...(flags['services-root'] ? { servicesRoot: flags['services-root'] } : {}),
    ...(flags['service-node-options'] !== undefined
      ? { nodeOptions: flags['service-node-options'] }
      : {}),
    progress,
  });
  const https = stack.accessUrls.map((u) => createHttp(u));
  const http = https[0] ?? createHttp(stack.accessUrls[0] ?? '');
  const httpFor: HttpFor = (i) => https[i % https.length] ?? http;
  let receivers: ReturnType<typeof startReceivers> | undefined;
  try {
    await sleep(1000);
    // before any load: what a service instance costs just running
    const idleRss: Record<string, number | undefined> = {};
    for (const s of stack.services) idleRss[s.name] = procStatusBytes(s.pid, 'VmRSS');
    let raw: RawResult | undefined;
    if (!flags['skip-raw']) {
      progress(
        `raw storage: append txns against etcd, ${opts.rawConcurrency} at once, ${opts.rawSeconds} s`,
      );
      raw = await rawStorage(stack);
      progress(
        `raw storage: ${raw.writesPerSecond.toFixed(0)} txns/s, p50 ${fmtMs(raw.p50Ms)} p99 ${fmtMs(raw.p99Ms)}, ` +
          `etcd ${raw.cpu.etcdCores.toFixed(2)} cores, client ${raw.cpu.generatorCores.toFixed(2)} cores`,
      );
    }
    if (stop.signal.aborted) return;
    progress(`setting up ${opts.pairs} sender → receiver pairs (contacts, a group each)`);
    const pairs = await setupPairs(http, opts.pairs, `b${randomBytes(2).toString('hex')}`);
    const tracker = new Tracker();
    receivers = startReceivers(http, pairs, tracker, 20_000);
    await sleep(1000);
    const e2e = await endToEndPhases(stack, pairs, tracker, receivers.failures, httpFor);
    if (stop.signal.aborted) return;
    const over = flags['skip-overload']
      ? { capacity: 0, ramp: [], runs: [] }
      : await overloadPhases(stack, pairs, tracker, httpFor, e2e.sustainable.ackedPerSecond);
    if (stop.signal.aborted) return;
    await report(raw, e2e, over, idleRss, loadAtStart, started);
  } finally {
    await receivers?.stop();
    for (const h of https) h.close();
    await stack.close();
    progress('stopped every process');
  }
}

await main().catch((err: unknown) => {
  console.error(`[bench:im] failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
