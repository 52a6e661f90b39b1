// npm run bench:operator [-- --services 1000 --nodes-per-campus 20 --skip-floor]
//
// The operator (operator/main.ts, a real process) against a local control
// plane of its own, with 1,000 IMServices across three campuses (capacity 2:
// one replica per campus, 3,000 pods). Measures, in one run:
//   - time to steady state: from creating the IMServices until every one is
//     Available at its current generation (and until every replica is);
//   - reconciles per second and reconcile p50/p99, from the operator's /metrics;
//   - cold sync after kill -9: until /readyz is 200 (caches synced), until it
//     leads, and until its first reconcile round is done;
//   - peak RSS (VmHWM) of both operator processes;
//   - API requests per reconcile, from the API server's audit log (the
//     operator runs as its own ServiceAccount, the only user audited);
//   - the floor: the same Deployments and Services created directly, with no
//     operator — how long the cluster itself (controller manager, scheduler,
//     kwok) takes to bring them up, which no operator can beat.
// It prints a table against the issue's targets and writes
// .yard/bench/operator.json. A benchmark, not a test: it never fails on a number.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { availableParallelism, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { KubeConfig } from '@kubernetes/client-node';
import type { V1Deployment } from '@kubernetes/client-node';
import { businessPriorities, imServiceResource, imServiceTiers } from '../../crds/index.ts';
import type { IMService } from '../../crds/index.ts';
import {
  desiredDeployment,
  desiredService,
  templateHash,
} from '../../operator/imservice/desired.ts';
import type { IMServiceView } from '../../operator/imservice/desired.ts';
import { perCampusReplicas } from '../../operator/imservice/sizing.ts';
import { yardKinds } from '../../crds/index.ts';
import { Informer, isConflict, kinds, nullLogger, RestClient } from '../../runtime/index.ts';
import type { KubeObject, ResourceType } from '../../runtime/index.ts';
import { down, repoRoot, startReaper, up } from '../control-plane/cluster.ts';
import type { ClusterState } from '../control-plane/cluster.ts';
import { campusNames, ensureYard } from '../harness/yard.ts';
import { auditPolicy, countRequests, noRequests } from './audit.ts';
import type { RequestCounts } from './audit.ts';
import { OperatorProcess } from './operator-process.ts';
import { cpuSeconds } from './proc.ts';
import { bucketDelta, buckets, histogramQuantile, parseMetrics, sum } from './prometheus.ts';
import type { Sample } from './prometheus.ts';
import {
  benchDir,
  mebibytes,
  millis,
  progressPrinter,
  seconds,
  table,
  writeJson,
} from './report.ts';
import type { Row } from './report.ts';
import { label } from '../../crds/names.ts';

const targets = { steadyMs: 60_000, coldSyncMs: 10_000, rssBytes: 256 * 2 ** 20 } as const;

const { values: flags } = parseArgs({
  options: {
    services: { type: 'string', default: '1000' },
    // 110 pods a node: 20 a campus hold the operator's 1,000 pods and the floor's 1,000
    'nodes-per-campus': { type: 'string', default: '20' },
    'skip-floor': { type: 'boolean', default: false },
  },
});
const serviceCount = Number(flags.services);
const nodesPerCampus = Number(flags['nodes-per-campus']);
const clusterDir = join(repoRoot, '.yard', 'bench-operator');
const outFile = join(benchDir, 'operator.json');
const policyFile = join(benchDir, 'operator-audit-policy.yaml');
const auditLog = join(clusterDir, 'logs', 'audit.log');
const operatorNs = 'yard-system';
const operatorUser = `system:serviceaccount:${operatorNs}:yard-operator`;
const benchNs = 'bench';
const floorNs = 'bench-floor';
const identity = 'yard-operator-0';
const controllers = ['imservice', 'campus'] as const;
type ControllerName = (typeof controllers)[number];
// every wait is bounded: a run that cannot reach a state reports "not reached"
const bounds = { steadyMs: 20 * 60_000, settleMs: 2 * 60_000, coldMs: 10 * 60_000 } as const;

const progress = progressPrinter('bench');
const stop = new AbortController();

const serviceAccounts: ResourceType = {
  group: '',
  version: 'v1',
  resource: 'serviceaccounts',
  kind: 'ServiceAccount',
  namespaced: true,
};
const clusterRoleBindings: ResourceType = {
  group: 'rbac.authorization.k8s.io',
  version: 'v1',
  resource: 'clusterrolebindings',
  kind: 'ClusterRoleBinding',
  namespaced: false,
};

// ---- small tools -------------------------------------------------------------

/** Polls `probe` until it gives a value; undefined when `timeoutMs` passes or the run is stopped. */
async function until<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs: number,
  intervalMs = 200,
): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !stop.signal.aborted) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      if (err instanceof OperatorExited) throw err;
      // starting, or busy: look again
    }
    await sleep(intervalMs);
  }
  return undefined;
}

/** The operator died: no number of this run would mean anything. */
class OperatorExited extends Error {
  constructor(op: OperatorProcess) {
    super(`the operator (pid ${op.pid}) exited; its log ends:\n${op.log.slice(-3000)}`);
    this.name = 'OperatorExited';
  }
}

function mustLive(op: OperatorProcess): void {
  if (!op.alive) throw new OperatorExited(op);
}

/** Runs `fn` over `items`, `width` at a time. */
async function pool<T>(items: readonly T[], width: number, fn: (t: T) => Promise<unknown>) {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length && !stop.signal.aborted) {
      const item = items[next++];
      if (item !== undefined) await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
}

async function createIgnoringConflict<T extends KubeObject>(
  rest: RestClient,
  type: ResourceType,
  obj: T,
): Promise<void> {
  try {
    await rest.create(type, obj);
  } catch (err) {
    if (!isConflict(err)) throw err;
  }
}

async function createNamespace(rest: RestClient, name: string): Promise<void> {
  await createIgnoringConflict(rest, kinds.Namespace, { metadata: { name } });
  // pods need the namespace's default ServiceAccount (its admission plugin)
  await until(() => rest.get(serviceAccounts, name, 'default').then(() => true), 30_000);
}

async function watch<T extends KubeObject>(
  rest: RestClient,
  type: ResourceType,
  namespace: string,
): Promise<Informer<T>> {
  const inf = new Informer<T>({ rest, type, namespace, log: nullLogger });
  inf.start();
  await until(() => (inf.hasSynced() ? true : undefined), 60_000);
  return inf;
}

const serviceNames = (n: number): string[] =>
  Array.from({ length: n }, (_, i) => `svc-${String(i).padStart(4, '0')}`);

/** A mix of tiers and business classes, capacity 2 (one replica per campus), small requests. */
function imservice(name: string, i: number, namespace: string): IMService {
  return {
    apiVersion: imServiceResource.apiVersion,
    kind: imServiceResource.kind,
    metadata: { name, namespace },
    spec: {
      tier: imServiceTiers[i % imServiceTiers.length] ?? 'logic',
      businessPriority: businessPriorities[i % businessPriorities.length] ?? 'message',
      capacity: 2,
      schedulerName: 'default-scheduler',
      template: {
        spec: {
          containers: [
            {
              name: 'main',
              image: 'registry.local/yard/logic:1',
              ports: [{ name: 'http', containerPort: 8080 }],
              resources: { requests: { cpu: '10m', memory: '16Mi' } },
            },
          ],
        },
      },
    },
  };
}

const isAvailable = (s: IMService): boolean =>
  s.status !== undefined &&
  s.status.observedGeneration === s.metadata.generation &&
  (s.status.conditions?.some((c) => c.type === 'Available' && c.status === 'True') ?? false);
const isFull = (s: IMService): boolean =>
  isAvailable(s) && s.status?.availableReplicas === s.status?.replicas;
const rolledOut = (d: V1Deployment): boolean =>
  (d.status?.observedGeneration ?? 0) >= (d.metadata?.generation ?? 1) &&
  (d.status?.availableReplicas ?? 0) >= (d.spec?.replicas ?? 0);

// ---- the operator's metrics -----------------------------------------------------

interface Scrape {
  readonly at: number;
  readonly samples: Sample[];
}

async function scrape(op: OperatorProcess): Promise<Scrape> {
  mustLive(op);
  return { at: Date.now(), samples: parseMetrics(await op.metrics()) };
}

const reconciles = (s: Scrape, c: ControllerName): number =>
  sum(s.samples, 'controller_runtime_reconcile_total', { controller: c });
const busy = (s: Scrape, c: ControllerName): boolean =>
  sum(s.samples, 'workqueue_depth', { name: c }) > 0 ||
  sum(s.samples, 'controller_runtime_active_workers', { controller: c }) > 0;

interface ReconcileStats {
  readonly count: number;
  readonly errors: number;
  readonly perSecond: number;
  readonly meanSeconds: number | undefined;
  readonly p50Seconds: number | undefined;
  readonly p99Seconds: number | undefined;
  readonly workers: number;
}

function reconcileStats(from: Scrape, to: Scrape, c: ControllerName): ReconcileStats {
  const count = reconciles(to, c) - reconciles(from, c);
  const time = 'controller_runtime_reconcile_time_seconds';
  const l = { controller: c };
  const hist = bucketDelta(buckets(to.samples, time, l), buckets(from.samples, time, l));
  const secs = sum(to.samples, `${time}_sum`, l) - sum(from.samples, `${time}_sum`, l);
  const n = sum(to.samples, `${time}_count`, l) - sum(from.samples, `${time}_count`, l);
  const errs = 'controller_runtime_reconcile_errors_total';
  return {
    count,
    errors: sum(to.samples, errs, l) - sum(from.samples, errs, l),
    perSecond: count / Math.max(0.001, (to.at - from.at) / 1000),
    meanSeconds: n > 0 ? secs / n : undefined,
    p50Seconds: histogramQuantile(0.5, hist),
    p99Seconds: histogramQuantile(0.99, hist),
    workers: sum(to.samples, 'controller_runtime_max_concurrent_reconciles', l),
  };
}

/** CPU seconds so far of the operator and each control-plane process. */
function cpu(op: OperatorProcess, state: ClusterState): Record<string, number> {
  const out: Record<string, number> = { operator: cpuSeconds(op.pid) ?? 0 };
  for (const p of state.processes) out[p.name] = cpuSeconds(p.pid) ?? 0;
  return out;
}

/** Cores each process used on average between two `cpu` readings `ms` apart. */
function cores(
  before: Record<string, number>,
  after: Record<string, number>,
  ms: number,
): Record<string, number> {
  return Object.fromEntries(
    Object.entries(after).map(([k, v]) => [k, round((v - (before[k] ?? 0)) / (ms / 1000), 2)]),
  );
}

const round = (x: number, digits = 1): number => Number(x.toFixed(digits));

// ---- set-up --------------------------------------------------------------------

/**
 * The operator's own identity (a ServiceAccount bound to cluster-admin, its
 * token in a kubeconfig): the audit policy records only that user, so its
 * requests are counted apart from the controller manager's, kwok's and ours.
 */
async function operatorKubeconfig(rest: RestClient, kc: KubeConfig): Promise<string> {
  await createNamespace(rest, operatorNs);
  await createIgnoringConflict(rest, serviceAccounts, {
    metadata: { name: 'yard-operator', namespace: operatorNs },
  });
  await createIgnoringConflict(rest, clusterRoleBindings, {
    metadata: { name: 'yard-bench-operator' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
    subjects: [{ kind: 'ServiceAccount', name: 'yard-operator', namespace: operatorNs }],
  } as KubeObject);
  const tr = await rest.request<{ status: { token: string } }>(
    'POST',
    `/api/v1/namespaces/${operatorNs}/serviceaccounts/yard-operator/token`,
    {
      body: {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: { expirationSeconds: 4 * 3600 },
      },
    },
  );
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('the bench kubeconfig has no cluster');
  const out = new KubeConfig();
  out.loadFromOptions({
    clusters: [cluster],
    users: [{ name: 'yard-operator', token: tr.status.token }],
    contexts: [{ name: 'bench', cluster: cluster.name, user: 'yard-operator' }],
    currentContext: 'bench',
  });
  const file = join(clusterDir, 'operator.kubeconfig');
  await writeFile(file, out.exportConfig(), { mode: 0o600 });
  return file;
}

function startOperator(kubeconfig: string): OperatorProcess {
  return OperatorProcess.start({
    kubeconfig,
    identity,
    leaseNamespace: operatorNs,
    leaseDuration: '15s',
  });
}

// ---- 1. from 1,000 new IMServices to steady state ------------------------------

interface SteadyState {
  readonly createMs: number;
  readonly availableMs: number | undefined;
  readonly fullMs: number | undefined;
  readonly settledMs: number | undefined;
  readonly window: { readonly from: number; readonly to: number };
  readonly first: Scrape;
  readonly last: Scrape;
  readonly peakPerSecond: Record<ControllerName, number>;
  /** Share of scrapes in which every imservice worker was busy. */
  readonly imserviceSaturation: number;
  readonly cores: Record<string, number>;
  readonly load: { readonly mean: number; readonly max: number };
  readonly peakRss: number | undefined;
}

/** What the 1 s loop of `steadyState` has seen so far. */
interface Tracked {
  readonly scrapes: Scrape[];
  availableAt?: number;
  fullAt?: number;
  settledAt?: number;
  /** Consecutive scrapes, after every replica was up, with empty queues and no new reconcile. */
  quiet: number;
  /** The machine's 1-minute load average, every second: this machine is shared. */
  readonly load: number[];
}

/** Every second: the IMServices' state from our cache and the operator's metrics, until it settles. */
async function track(
  op: OperatorProcess,
  imservices: Informer<IMService>,
  first: Scrape,
  t0: number,
) {
  const p: Tracked = { scrapes: [first], quiet: 0, load: [] };
  for (let tick = 0; Date.now() - t0 < bounds.steadyMs && !stop.signal.aborted; tick++) {
    await sleep(1000);
    mustLive(op);
    p.load.push(loadavg()[0] ?? 0);
    const { available, full } = observe(p, imservices);
    const s = await scrape(op).catch(() => undefined);
    const prev = p.scrapes.at(-1);
    if (s) p.scrapes.push(s);
    p.quiet = p.fullAt !== undefined && quietBetween(prev, s) ? p.quiet + 1 : 0;
    if (tick % 5 === 0 || p.quiet >= 3) {
      progress(
        `${available}/${serviceCount} Available, ${full} with every replica; ${describe(op, s)}`,
      );
    }
    if (p.quiet >= 3) {
      p.settledAt = Date.now();
      break;
    }
    if (p.fullAt !== undefined && Date.now() - p.fullAt > bounds.settleMs) break;
  }
  return p;
}

/** How many IMServices are Available, and with every replica; notes when all first are. */
function observe(p: Tracked, imservices: Informer<IMService>): { available: number; full: number } {
  const list = imservices.store.list();
  const available = list.filter(isAvailable).length;
  const full = list.filter(isFull).length;
  if (p.availableAt === undefined && available === serviceCount) p.availableAt = Date.now();
  if (p.fullAt === undefined && full === serviceCount) p.fullAt = Date.now();
  return { available, full };
}

/** Queues empty and no reconcile between two scrapes. */
const quietBetween = (a: Scrape | undefined, b: Scrape | undefined): boolean =>
  a !== undefined &&
  b !== undefined &&
  controllers.every((c) => !busy(b, c) && reconciles(b, c) === reconciles(a, c));

function describe(op: OperatorProcess, s: Scrape | undefined): string {
  const m = s
    ? `reconciles imservice ${reconciles(s, 'imservice')}, campus ${reconciles(s, 'campus')}; ` +
      `queue ${sum(s.samples, 'workqueue_depth', { name: 'imservice' })}`
    : 'no metrics';
  return `${m}; RSS ${mebibytes(op.rssBytes())}; load ${loadavg()[0]?.toFixed(1)}`;
}

const after = (t: number | undefined, t0: number): number | undefined =>
  t === undefined ? undefined : t - t0;

async function steadyState(
  rest: RestClient,
  op: OperatorProcess,
  state: ClusterState,
): Promise<SteadyState> {
  const imservices = await watch<IMService>(rest, yardKinds.IMService, benchNs);
  try {
    const first = await scrape(op);
    const cpu0 = cpu(op, state);
    const t0 = Date.now();
    progress(`creating ${serviceCount} IMServices`);
    const specs = serviceNames(serviceCount).map((n, i) => imservice(n, i, benchNs));
    await pool(specs, 32, (s) => rest.create(yardKinds.IMService, s));
    const createMs = Date.now() - t0;
    progress(`created ${serviceCount} IMServices in ${seconds(createMs)}`);
    const p = await track(op, imservices, first, t0);
    const last = p.scrapes.at(-1) ?? first;
    const to = p.settledAt ?? last.at;
    return {
      createMs,
      availableMs: after(p.availableAt, t0),
      fullMs: after(p.fullAt, t0),
      settledMs: after(p.settledAt, t0),
      window: { from: t0, to },
      first,
      last,
      peakPerSecond: {
        imservice: peakRate(p.scrapes, 'imservice'),
        campus: peakRate(p.scrapes, 'campus'),
      },
      imserviceSaturation: saturation(p.scrapes.slice(1), 'imservice'),
      cores: cores(cpu0, cpu(op, state), to - t0),
      load: {
        mean: round(p.load.reduce((a, b) => a + b, 0) / Math.max(1, p.load.length)),
        max: round(Math.max(0, ...p.load)),
      },
      peakRss: op.peakRssBytes(),
    };
  } finally {
    await imservices.stop();
  }
}

/** The highest reconcile rate over any 5 s between scrapes. */
function peakRate(scrapes: readonly Scrape[], c: ControllerName): number {
  let peak = 0;
  for (let i = 0; i < scrapes.length; i++) {
    const a = scrapes[i];
    const b = scrapes.find((x) => a && x.at - a.at >= 5000);
    if (!a || !b) continue;
    peak = Math.max(peak, (reconciles(b, c) - reconciles(a, c)) / ((b.at - a.at) / 1000));
  }
  return round(peak);
}

function saturation(scrapes: readonly Scrape[], c: ControllerName): number {
  const busyOnes = scrapes.filter((s) => {
    const max = sum(s.samples, 'controller_runtime_max_concurrent_reconciles', { controller: c });
    return max > 0 && sum(s.samples, 'controller_runtime_active_workers', { controller: c }) >= max;
  });
  return scrapes.length ? round(busyOnes.length / scrapes.length, 2) : 0;
}

// ---- 2. cold sync after kill -9 --------------------------------------------------

interface ColdSync {
  readonly servingMs: number | undefined;
  readonly readyMs: number | undefined;
  readonly syncedMs: number | undefined;
  readonly leadingMs: number | undefined;
  readonly firstRoundMs: number | undefined;
  readonly window: { readonly from: number; readonly to: number };
  readonly last: Scrape | undefined;
  readonly peakRss: number | undefined;
}

/**
 * Kills the operator with SIGKILL and starts it again with the same identity
 * (a container restarted in its pod keeps the pod's name), so it renews its
 * own lease at once: what is measured is the process, not the lease wait a
 * new pod would add (the lease duration, 15 s, by design).
 */
async function coldSync(
  old: OperatorProcess,
  kubeconfig: string,
): Promise<{ op: OperatorProcess; result: ColdSync }> {
  old.kill('SIGKILL');
  await old.exited;
  const t0 = Date.now();
  const op = startOperator(kubeconfig);
  const since = (t: number | undefined): number | undefined => after(t, t0);
  const port = await op.port(bounds.coldMs).catch(() => undefined);
  const servingMs = port === undefined ? undefined : Date.now() - t0;
  const readyMs = since(
    await until(
      async () => {
        mustLive(op);
        return (await op.get('/readyz', 2000)).status === 200 ? Date.now() : undefined;
      },
      bounds.coldMs,
      50,
    ),
  );
  let leadingAt: number | undefined;
  let last: Scrape | undefined;
  const roundAt = await until(async () => {
    last = await scrape(op);
    if (leadingAt === undefined && sum(last.samples, 'leader_election_master_status') === 1)
      leadingAt = last.at;
    const done =
      reconciles(last, 'imservice') >= serviceCount &&
      reconciles(last, 'campus') >= campusNames.length &&
      controllers.every((c) => last && !busy(last, c));
    return done ? last.at : undefined;
  }, bounds.coldMs);
  const result: ColdSync = {
    servingMs,
    readyMs,
    syncedMs: since(op.loggedAt('caches synced; starting controllers')),
    leadingMs: since(leadingAt),
    firstRoundMs: since(roundAt),
    window: { from: t0, to: roundAt ?? Date.now() },
    last,
    peakRss: op.peakRssBytes(),
  };
  progress(
    `cold sync: serving ${seconds(servingMs)}, ready ${seconds(readyMs)}, ` +
      `leading ${seconds(result.leadingMs)}, first round done ${seconds(result.firstRoundMs)}`,
  );
  return { op, result };
}

// ---- 3. the floor: the same objects with no operator --------------------------------

interface Floor {
  readonly createMs: number;
  readonly readyMs: number | undefined;
}

function floorObjects(names: readonly string[]): KubeObject[] {
  return names.flatMap((name, i) => {
    const s = imservice(name, i, floorNs);
    const v: IMServiceView = {
      name,
      namespace: floorNs,
      uid: '',
      tier: s.spec.tier,
      businessPriority: s.spec.businessPriority,
      capacity: s.spec.capacity,
      schedulerName: s.spec.schedulerName ?? 'default-scheduler',
      template: s.spec.template,
    };
    const hash = templateHash(v.template);
    const replicas = perCampusReplicas(v.capacity, campusNames.length);
    // no owner: an owner reference to an object that does not exist would be collected
    const orphan = <T extends KubeObject>(o: T): T => ({
      ...o,
      metadata: { ...o.metadata, ownerReferences: [] },
    });
    return [
      orphan(desiredService(v)),
      ...campusNames.map((c) =>
        orphan(
          desiredDeployment(
            v,
            { name: c, nodeSelector: { [label.zone]: c } },
            replicas,
            v.template,
            hash,
          ),
        ),
      ),
    ];
  });
}

async function floor(rest: RestClient): Promise<Floor> {
  await createNamespace(rest, floorNs);
  const deployments = await watch<V1Deployment & KubeObject>(rest, kinds.Deployment, floorNs);
  try {
    const objects = floorObjects(serviceNames(serviceCount));
    const want = objects.filter((o) => o.kind === 'Deployment').length;
    const t0 = Date.now();
    progress(`floor: creating ${objects.length} Deployments and Services directly`);
    await pool(objects, 32, (o) =>
      rest.create(o.kind === 'Deployment' ? kinds.Deployment : kinds.Service, o),
    );
    const createMs = Date.now() - t0;
    let tick = 0;
    const readyAt = await until(
      () => {
        const up = deployments.store.list().filter(rolledOut).length;
        if (tick++ % 10 === 0) progress(`floor: ${up}/${want} Deployments available`);
        return up === want ? Date.now() : undefined;
      },
      bounds.steadyMs,
      500,
    );
    progress(`floor: every Deployment available after ${seconds(readyAt && readyAt - t0)}`);
    return { createMs, readyMs: readyAt && readyAt - t0 };
  } finally {
    await deployments.stop();
  }
}

// ---- the report ----------------------------------------------------------------------

interface Results {
  readonly steady: SteadyState;
  readonly cold: ColdSync;
  readonly floor: Floor | undefined;
  readonly requests: Record<'steady' | 'cold', RequestCounts>;
}

function perReconcile(c: RequestCounts, reconcileCount: number): number {
  return reconcileCount > 0 ? round(c.total / reconcileCount, 2) : 0;
}

// what each controller writes (the runtime's lists, watches, leases and events apart)
const writesOf: Record<ControllerName, readonly string[]> = {
  imservice: ['deployments', 'services', 'imservices/status', 'priorityclasses'],
  campus: ['campuses', 'campuses/status', 'pods/status', 'nodes'],
};

function writesPerReconcile(c: RequestCounts, ctl: ControllerName, n: number): string {
  const per = writesOf[ctl].map((r) => [r, (c.byResource[r] ?? 0) / Math.max(1, n)] as const);
  const total = per.reduce((a, [, x]) => a + x, 0);
  return `${round(total, 2)} (${per
    .filter(([, x]) => x > 0)
    .map(([r, x]) => `${r} ${round(x, 2)}`)
    .join(', ')})`;
}

function rows(r: Results): Row[] {
  const s = r.steady;
  const im = reconcileStats(s.first, s.last, 'imservice');
  const ca = reconcileStats(s.first, s.last, 'campus');
  const peakRss = Math.max(s.peakRss ?? 0, r.cold.peakRss ?? 0) || undefined;
  const coldRound = r.cold.last
    ? reconciles(r.cold.last, 'imservice') + reconciles(r.cold.last, 'campus')
    : 0;
  const steadyReq = r.requests.steady;
  return [
    { what: 'IMServices / pods', value: `${serviceCount} / ${serviceCount * campusNames.length}` },
    {
      what: 'steady state: all Available (observedGeneration current)',
      value: seconds(s.availableMs),
      target: `≤ ${targets.steadyMs / 1000} s`,
      met: s.availableMs === undefined ? false : s.availableMs <= targets.steadyMs,
    },
    { what: 'every replica available', value: seconds(s.fullMs) },
    { what: 'settled (queues empty, no reconciles for 3 s)', value: seconds(s.settledMs) },
    {
      what: 'floor: same Deployments + Services created directly, no operator',
      value: r.floor ? seconds(r.floor.readyMs) : 'skipped',
    },
    { what: 'creating the IMServices (32 clients)', value: seconds(s.createMs) },
    {
      what: 'reconciles imservice / campus',
      value: `${im.count} / ${ca.count} (errors ${im.errors} / ${ca.errors})`,
    },
    {
      what: 'reconciles/s imservice: mean / peak 5 s',
      value: `${round(im.perSecond)} / ${s.peakPerSecond.imservice}`,
    },
    {
      what: 'reconciles/s campus: mean / peak 5 s',
      value: `${round(ca.perSecond)} / ${s.peakPerSecond.campus}`,
    },
    {
      what: 'reconcile imservice p50 / p99',
      value: `${millis(im.p50Seconds)} / ${millis(im.p99Seconds)}`,
    },
    {
      what: 'reconcile campus p50 / p99',
      value: `${millis(ca.p50Seconds)} / ${millis(ca.p99Seconds)}`,
    },
    {
      what: 'imservice workers all busy (share of scrapes)',
      value: `${Math.round(s.imserviceSaturation * 100)} % of ${im.workers} workers`,
    },
    { what: 'cold sync: probes served', value: seconds(r.cold.servingMs) },
    {
      what: 'cold sync: /readyz 200 (caches synced)',
      value: seconds(r.cold.readyMs),
      target: `≤ ${targets.coldSyncMs / 1000} s`,
      met: r.cold.readyMs === undefined ? false : r.cold.readyMs <= targets.coldSyncMs,
    },
    { what: 'cold sync: leading', value: seconds(r.cold.leadingMs) },
    { what: 'cold sync: first reconcile round done', value: seconds(r.cold.firstRoundMs) },
    {
      what: 'peak RSS (VmHWM): first run / after restart',
      value: `${mebibytes(s.peakRss)} / ${mebibytes(r.cold.peakRss)}`,
      target: `≤ ${targets.rssBytes / 2 ** 20} MiB`,
      met: peakRss === undefined ? undefined : peakRss <= targets.rssBytes,
    },
    {
      what: 'API requests per reconcile (to steady state)',
      value: `${perReconcile(steadyReq, im.count + ca.count)} (${steadyReq.total} requests, ${steadyReq.writes} writes)`,
    },
    {
      what: 'writes per imservice reconcile',
      value: writesPerReconcile(steadyReq, 'imservice', im.count),
    },
    {
      what: 'writes per campus reconcile',
      value: writesPerReconcile(steadyReq, 'campus', ca.count),
    },
    {
      what: 'API requests per reconcile (cold-sync round)',
      value: `${perReconcile(r.requests.cold, coldRound)} (${r.requests.cold.total} requests)`,
    },
    {
      what: 'machine load average (1 min) to steady state: mean / max',
      value: `${s.load.mean} / ${s.load.max} on ${availableParallelism()} cores`,
    },
    {
      what: 'CPU cores used to steady state',
      value: Object.entries(s.cores)
        .map(([k, v]) => `${k} ${v}`)
        .join(', '),
    },
  ];
}

/** What limits the operator, read off this run's numbers. */
function limits(r: Results): string[] {
  const s = r.steady;
  const im = reconcileStats(s.first, s.last, 'imservice');
  const byRes = r.requests.steady.byResource;
  const out: string[] = [];
  if (im.meanSeconds !== undefined) {
    out.push(
      `imservice: ${im.workers} workers × mean reconcile ${millis(im.meanSeconds)} → at most ` +
        `${round(im.workers / im.meanSeconds)} reconciles/s; it ran ${round(im.perSecond)}/s on average, ` +
        `all workers busy in ${Math.round(s.imserviceSaturation * 100)} % of scrapes.`,
    );
  }
  const applies =
    (byRes['deployments'] ?? 0) + (byRes['services'] ?? 0) + (byRes['imservices/status'] ?? 0);
  if (im.count > 0) {
    out.push(
      `each imservice reconcile writes ${round(applies / im.count, 2)} times (of up to 3 Deployment ` +
        'applies at once, a Service apply and a status apply; each skipped when the cache shows it ' +
        'unchanged): its time is mostly API round trips on a busy API server.',
    );
  }
  const served = r.requests.steady.serverMs;
  const share = (k: string): string => `${k} ${served[k] ?? '?'} ms`;
  out.push(
    'mean time the API server spent on the operator’s requests: ' +
      ['patch deployments', 'patch services', 'patch imservices/status', 'patch campuses/status']
        .map(share)
        .join(', ') +
      (im.meanSeconds !== undefined
        ? `; an imservice reconcile took ${millis(im.meanSeconds)} for its 5 sequential writes`
        : ''),
  );
  const cores = Object.entries(s.cores).sort((a, b) => b[1] - a[1]);
  out.push(
    `CPU (${availableParallelism()} cores on this machine): ` +
      cores.map(([k, v]) => `${k} ${v}`).join(', ') +
      '; the operator is one Node thread, so ~1 core is its ceiling.',
  );
  if (r.floor?.readyMs !== undefined && s.fullMs !== undefined) {
    out.push(
      `the cluster alone needs ${seconds(r.floor.readyMs)} to bring the same Deployments up; ` +
        `the operator took ${seconds(s.fullMs)} to every replica, ${seconds(s.availableMs)} to all Available.`,
    );
  }
  return out;
}

// ---- main ---------------------------------------------------------------------------

async function measure(state: ClusterState): Promise<Results> {
  const kc = new KubeConfig();
  kc.loadFromFile(state.kubeconfig);
  const rest = new RestClient(kc, { userAgent: 'yard-bench' });
  await ensureYard(kc);
  const opKubeconfig = await operatorKubeconfig(rest, kc);
  await createNamespace(rest, benchNs);

  let op = startOperator(opKubeconfig);
  try {
    progress(`operator pid ${op.pid}: waiting for it to lead`);
    await until(async () => {
      mustLive(op);
      const ready = (await op.get('/readyz', 2000)).status === 200;
      const leading = sum((await scrape(op)).samples, 'leader_election_master_status') === 1;
      return ready && leading ? true : undefined;
    }, 120_000);
    const steady = await steadyState(rest, op, state);
    progress(
      `steady state: all Available after ${seconds(steady.availableMs)}; restarting with kill -9`,
    );
    const restarted = await coldSync(op, opKubeconfig);
    op = restarted.op;
    const cold = restarted.result;
    // the floor is the cluster without an operator
    op.kill('SIGTERM');
    await op.exited;
    const floorResult = flags['skip-floor'] ? undefined : await floor(rest);
    progress('counting the operator’s requests in the audit log');
    const requests = await countRequests(auditLog, operatorUser, [
      { name: 'steady', ...steady.window },
      { name: 'cold', ...cold.window },
    ]);
    return {
      steady,
      cold,
      floor: floorResult,
      requests: {
        steady: requests['steady'] ?? noRequests(),
        cold: requests['cold'] ?? noRequests(),
      },
    };
  } finally {
    await op.stop();
  }
}

async function main(): Promise<void> {
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      progress(`${sig}: stopping`);
      stop.abort();
    });
  }
  await mkdir(benchDir, { recursive: true });
  await writeFile(policyFile, auditPolicy(operatorUser));
  const started = Date.now();
  let state: ClusterState | undefined;
  try {
    progress(`starting a control plane with ${nodesPerCampus} nodes per campus in ${clusterDir}`);
    state = await up({
      dir: clusterDir,
      name: 'yard-bench-operator',
      nodesPerCampus,
      signal: stop.signal,
      progress: (l) => progress(`control plane: ${l}`),
      extraArgs: {
        'kube-apiserver': [
          `--audit-policy-file=${policyFile}`,
          `--audit-log-path=${auditLog}`,
          '--audit-log-maxsize=2048',
        ],
        // the cluster's own controllers must not be what is measured: lift
        // their client rate limits (the floor runs with the same settings)
        'kube-controller-manager': [
          '--kube-api-qps=1000',
          '--kube-api-burst=2000',
          '--concurrent-deployment-syncs=20',
          '--concurrent-replicaset-syncs=20',
        ],
        'kube-scheduler': ['--kube-api-qps=1000', '--kube-api-burst=2000'],
      },
    });
    startReaper(clusterDir); // torn down even if this process is killed
    const results = await measure(state);
    const report = rows(results);
    const why = limits(results);
    console.log(
      `\nOperator benchmark: ${serviceCount} IMServices × ${campusNames.length} campuses\n`,
    );
    console.log(table(report));
    console.log('\nWhat limits it:');
    for (const l of why) console.log(`  - ${l}`);
    await writeJson(outFile, {
      when: new Date().toISOString(),
      services: serviceCount,
      nodesPerCampus,
      machine: { cores: availableParallelism(), loadavg: loadavg() },
      targets,
      ...results,
      steady: {
        ...results.steady,
        first: undefined,
        last: undefined,
        stats: {
          imservice: reconcileStats(results.steady.first, results.steady.last, 'imservice'),
          campus: reconcileStats(results.steady.first, results.steady.last, 'campus'),
        },
      },
      cold: { ...results.cold, last: undefined },
      table: report,
      limits: why,
      durationMs: Date.now() - started,
    });
    console.log(`\nwrote ${outFile}`);
  } finally {
    if (state) {
      progress('stopping the control plane');
      await down(clusterDir);
    }
  }
}

await main().catch((err: unknown) => {
  console.error(`[bench] failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
