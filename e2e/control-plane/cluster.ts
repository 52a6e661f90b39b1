import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import type { V1Node } from '@kubernetes/client-node';
import { ensureBinaries } from './binaries.ts';
import type { Binaries, Progress } from './binaries.ts';
import { createPki } from './pki.ts';
import type { Pki } from './pki.ts';
import {
  assertPortFree,
  freePort,
  isAlive,
  logTail,
  startDetached,
  stopProcess,
  waitHealthy,
  StartError,
} from './process.ts';
import type { ProcessRecord } from './process.ts';
import { loadTopology, nodeManifests } from './topology.ts';
import type { Topology } from './topology.ts';
import { versions } from './versions.ts';

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = resolve(here, '..', '..');
export const defaultTopologyFile = join(here, 'topology.yaml');

/** Everything `down` and `status` need, written as each part starts. */
export interface ClusterState {
  readonly name: string;
  readonly dir: string;
  readonly kubeconfig: string;
  readonly server: string;
  /** The kubectl of the pinned version that this cluster was started with. */
  readonly kubectl: string;
  phase: 'starting' | 'running';
  readonly startedAt: string;
  readonly versions: typeof versions;
  readonly ports: Record<string, number>;
  readonly processes: ProcessRecord[];
  nodes: { readonly campus: string; readonly count: number }[];
  /**
   * Yard's own processes started beside the control plane (the demo's
   * operator, scheduler and node agent): they keep the cluster working after
   * the tool that started them exits, and `down` stops them first.
   */
  components?: ComponentRecord[];
}

/** A Yard process recorded in the cluster's state, with the URL that answers 200 while it is healthy. */
export interface ComponentRecord extends ProcessRecord {
  readonly health: string;
}

export interface UpOptions {
  /** Folder holding this cluster's data, logs and kubeconfig. */
  readonly dir?: string;
  readonly name?: string;
  readonly topologyFile?: string;
  readonly nodesPerCampus?: number;
  /** A fixed API server port (default: any free port). */
  readonly apiserverPort?: number;
  /** Extra flags per component, appended to Yard's (kubeadm's extraArgs idea). */
  readonly extraArgs?: Readonly<Partial<Record<ControlPlaneProcess, readonly string[]>>>;
  readonly progress?: Progress;
  readonly signal?: AbortSignal;
}

export type ControlPlaneProcess =
  'etcd' | 'kube-apiserver' | 'kube-controller-manager' | 'kube-scheduler' | 'kwok';

/** The default folder of the cluster `npm run cluster:up` manages. */
export function defaultClusterDir(env: NodeJS.ProcessEnv = process.env): string {
  return env['YARD_CLUSTER_DIR']
    ? resolve(env['YARD_CLUSTER_DIR'])
    : join(repoRoot, '.yard', 'cluster');
}

const stateFile = (dir: string): string => join(dir, 'state.json');

export async function readState(dir: string): Promise<ClusterState | undefined> {
  try {
    return JSON.parse(await readFile(stateFile(dir), 'utf8')) as ClusterState;
  } catch {
    return undefined;
  }
}

/** Writes are chained so concurrent starts never interleave or reorder them. */
let stateWrites: Promise<void> = Promise.resolve();
function writeState(s: ClusterState): Promise<void> {
  const next = stateWrites.then(() => writeStateNow(s));
  stateWrites = next.catch(() => {});
  return next;
}

async function writeStateNow(s: ClusterState): Promise<void> {
  const tmp = stateFile(s.dir) + '.tmp';
  await writeFile(tmp, JSON.stringify(s, null, 2));
  await rename(tmp, stateFile(s.dir));
}

/** GET over TLS with the admin client certificate (or none); true on 200. */
function httpsOk(
  url: string,
  tls: { ca?: string; cert?: string; key?: string; insecure?: boolean },
): Promise<boolean> {
  return new Promise((resolvePromise, reject) => {
    const req = request(
      url,
      {
        method: 'GET',
        timeout: 3000,
        ...(tls.ca ? { ca: tls.ca } : {}),
        ...(tls.cert ? { cert: tls.cert } : {}),
        ...(tls.key ? { key: tls.key } : {}),
        rejectUnauthorized: !tls.insecure,
      },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () =>
          res.statusCode === 200
            ? resolvePromise(true)
            : reject(new Error(`HTTP ${res.statusCode}: ${body.slice(0, 300)}`)),
        );
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

async function httpOk(url: string): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  return true;
}

interface AdminTls {
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

/** Where each component answers, and its health check (one definition for `up` and `status`). */
function healthEndpoint(
  c: ControlPlaneProcess,
  ports: Record<string, number>,
  tls: AdminTls,
): { url: string; probe: () => Promise<boolean> } {
  const local = (scheme: string, port: string): string => `${scheme}://127.0.0.1:${ports[port]}`;
  switch (c) {
    case 'etcd': {
      const url = local('http', 'etcd');
      return { url, probe: () => httpOk(`${url}/health`) };
    }
    case 'kube-apiserver': {
      const url = local('https', 'apiserver');
      return { url, probe: () => httpsOk(`${url}/readyz`, tls) };
    }
    case 'kube-controller-manager':
    case 'kube-scheduler': {
      // serving certificates are self-signed by the component itself
      const url = local('https', c === 'kube-scheduler' ? 'scheduler' : 'controllerManager');
      return { url, probe: () => httpsOk(`${url}/healthz`, { insecure: true }) };
    }
    case 'kwok': {
      const url = local('http', 'kwok');
      return { url, probe: () => httpOk(`${url}/healthz`) };
    }
  }
}

async function readAdminTls(pkiDir: string): Promise<AdminTls> {
  const read = (f: string): Promise<string> => readFile(join(pkiDir, f), 'utf8').catch(() => '');
  return { ca: await read('ca.crt'), cert: await read('admin.crt'), key: await read('admin.key') };
}

function kubeconfigYaml(
  server: string,
  pki: { ca: string; cert: string; key: string },
  name: string,
): string {
  const b64 = (s: string): string => Buffer.from(s).toString('base64');
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: ${name}`,
    '  cluster:',
    `    server: ${server}`,
    `    certificate-authority-data: ${b64(pki.ca)}`,
    'users:',
    '- name: yard-admin',
    '  user:',
    `    client-certificate-data: ${b64(pki.cert)}`,
    `    client-key-data: ${b64(pki.key)}`,
    'contexts:',
    `- name: ${name}`,
    '  context:',
    `    cluster: ${name}`,
    '    user: yard-admin',
    `current-context: ${name}`,
    '',
  ].join('\n');
}

/** The processes of a state that are still running. */
export function liveProcesses(s: ClusterState): ProcessRecord[] {
  return s.processes.filter((p) => isAlive(p));
}

/** Component flags, pure so that a table test can read them. */
export function componentArgs(
  c: ControlPlaneProcess,
  dir: string,
  ports: Record<string, number>,
  pki: Pki,
  kubeconfig: string,
): string[] {
  const p = (k: string): number => {
    const v = ports[k];
    if (v === undefined) throw new Error(`no port for ${k}`);
    return v;
  };
  switch (c) {
    case 'etcd':
      return [
        '--name=yard',
        `--data-dir=${join(dir, 'etcd-data')}`,
        `--listen-client-urls=http://127.0.0.1:${p('etcd')}`,
        `--advertise-client-urls=http://127.0.0.1:${p('etcd')}`,
        `--listen-peer-urls=http://127.0.0.1:${p('etcdPeer')}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${p('etcdPeer')}`,
        `--initial-cluster=yard=http://127.0.0.1:${p('etcdPeer')}`,
        '--initial-cluster-state=new',
        // a throw-away store: durability across power loss is not wanted here
        '--unsafe-no-fsync',
        '--quota-backend-bytes=8589934592',
        '--log-level=warn',
      ];
    case 'kube-apiserver':
      return [
        `--etcd-servers=http://127.0.0.1:${p('etcd')}`,
        '--bind-address=127.0.0.1',
        '--advertise-address=127.0.0.1',
        `--secure-port=${p('apiserver')}`,
        `--cert-dir=${join(dir, 'apiserver-certs')}`,
        `--tls-cert-file=${pki.servingCert}`,
        `--tls-private-key-file=${pki.servingKey}`,
        `--client-ca-file=${pki.caCert}`,
        `--service-account-key-file=${pki.saPub}`,
        `--service-account-signing-key-file=${pki.saKey}`,
        '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
        '--api-audiences=https://kubernetes.default.svc.cluster.local',
        '--authorization-mode=Node,RBAC',
        '--service-cluster-ip-range=10.96.0.0/16',
        '--allow-privileged=true',
        // the API server's own Endpoints would carry 127.0.0.1, which validation refuses
        '--endpoint-reconciler-type=none',
        '--max-requests-inflight=800',
        '--max-mutating-requests-inflight=400',
        '--profiling=false',
      ];
    case 'kube-controller-manager':
      return [
        `--kubeconfig=${kubeconfig}`,
        `--authentication-kubeconfig=${kubeconfig}`,
        `--authorization-kubeconfig=${kubeconfig}`,
        '--bind-address=127.0.0.1',
        `--secure-port=${p('controllerManager')}`,
        `--cert-dir=${join(dir, 'controller-manager-certs')}`,
        `--service-account-private-key-file=${pki.saKey}`,
        `--root-ca-file=${pki.caCert}`,
        `--cluster-signing-cert-file=${pki.caCert}`,
        `--cluster-signing-key-file=${pki.caKey}`,
        '--use-service-account-credentials=false',
        '--leader-elect=false',
        '--kube-api-qps=200',
        '--kube-api-burst=400',
        '--profiling=false',
      ];
    case 'kube-scheduler':
      return [
        `--kubeconfig=${kubeconfig}`,
        `--authentication-kubeconfig=${kubeconfig}`,
        `--authorization-kubeconfig=${kubeconfig}`,
        '--bind-address=127.0.0.1',
        `--secure-port=${p('scheduler')}`,
        `--cert-dir=${join(dir, 'scheduler-certs')}`,
        '--leader-elect=false',
        '--profiling=false',
      ];
    case 'kwok':
      return [
        `--kubeconfig=${kubeconfig}`,
        `--config=${join(here, 'kwok-stages.yaml')}`,
        '--manage-all-nodes=false',
        '--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake',
        '--node-ip=127.0.0.1',
        `--server-address=127.0.0.1:${p('kwok')}`,
      ];
  }
}

async function createNodes(
  kubeconfig: string,
  t: Topology,
  progress: Progress,
  signal?: AbortSignal,
): Promise<void> {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const api = kc.makeApiClient(CoreV1Api);
  const nodes = nodeManifests(t, versions.kubernetes) as V1Node[];
  let next = 0;
  let created = 0;
  const worker = async (): Promise<void> => {
    while (next < nodes.length) {
      signal?.throwIfAborted();
      const body = nodes[next++];
      if (!body) return;
      await api.createNode({ body });
      created++;
      if (nodes.length >= 200 && created % 200 === 0)
        progress(`created ${created}/${nodes.length} nodes`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(32, nodes.length) }, worker));
  const deadline = Date.now() + 60_000 + nodes.length * 20;
  let ready = 0;
  let lastReported = -1;
  while (Date.now() < deadline) {
    signal?.throwIfAborted();
    const list = await api.listNode({ labelSelector: 'type=kwok' });
    ready = list.items.filter((n) =>
      n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
    ).length;
    if (ready >= nodes.length) return;
    if (nodes.length >= 200 && ready !== lastReported)
      progress(`${ready}/${nodes.length} nodes Ready`);
    lastReported = ready;
    await sleep(500);
  }
  throw new StartError('kwok', `only ${ready} of ${nodes.length} simulated nodes became Ready`);
}

/**
 * Makes `dir` free for a new cluster: refuses when a cluster runs from it
 * (AlreadyRunningError when whole, StartError when partial), removes it when
 * it holds only the stale data of a dead one.
 */
async function clearOrRefuse(dir: string, progress: Progress): Promise<void> {
  const existing = await readState(dir);
  if (existing) {
    const live = liveProcesses(existing);
    if (live.length === existing.processes.length && existing.phase === 'running') {
      throw new AlreadyRunningError(existing);
    }
    if (live.length > 0) {
      throw new StartError(
        'control plane',
        `${dir} belongs to a cluster that is ${existing.phase === 'starting' ? 'still starting' : 'partly running'} ` +
          `(alive: ${live.map((p) => `${p.name} pid ${p.pid}`).join(', ')}). Run \`npm run cluster:down\` first.`,
      );
    }
  }
  if (existing) await stopComponents(existing);
  if (existsSync(dir)) {
    progress(
      `removing stale data from an earlier cluster in ${dir} (none of its processes is alive)`,
    );
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Brings up etcd, kube-apiserver, kube-controller-manager, kube-scheduler and
 * kwok on loopback, and simulated nodes in the topology's campuses. On any
 * failure or abort, everything already started is stopped and the data folder
 * removed before the error is thrown.
 */
export async function up(opts: UpOptions = {}): Promise<ClusterState> {
  const dir = resolve(opts.dir ?? defaultClusterDir());
  const name = opts.name ?? 'yard-local';
  const progress = opts.progress ?? (() => {});
  const signal = opts.signal;

  await clearOrRefuse(dir, progress);

  const topology = await loadTopology(
    opts.topologyFile ?? defaultTopologyFile,
    opts.nodesPerCampus,
  );
  const bins: Binaries = await ensureBinaries(progress);
  signal?.throwIfAborted();

  await mkdir(join(dir, 'pki'), { recursive: true });
  await mkdir(join(dir, 'logs'), { recursive: true });
  if (opts.apiserverPort !== undefined) await assertPortFree(opts.apiserverPort, 'kube-apiserver');
  const ports: Record<string, number> = {
    etcd: await freePort(),
    etcdPeer: await freePort(),
    apiserver: opts.apiserverPort ?? (await freePort()),
    controllerManager: await freePort(),
    scheduler: await freePort(),
    kwok: await freePort(),
  };
  const server = `https://127.0.0.1:${ports['apiserver']}`;
  const kubeconfig = join(dir, 'kubeconfig');
  const state: ClusterState = {
    name,
    dir,
    kubeconfig,
    server,
    kubectl: bins.kubectl,
    phase: 'starting',
    startedAt: new Date().toISOString(),
    versions,
    ports,
    processes: [],
    nodes: topology.campuses.map((c) => ({ campus: c.name, count: c.nodes })),
  };
  await writeState(state);

  try {
    const pki = await createPki(join(dir, 'pki'));
    const tls = await readAdminTls(join(dir, 'pki'));
    await writeFile(kubeconfig, kubeconfigYaml(server, tls, name), { mode: 0o600 });

    const start = async (c: ControlPlaneProcess, timeoutMs: number): Promise<void> => {
      signal?.throwIfAborted();
      progress(`starting ${c}`);
      const args = [
        ...componentArgs(c, dir, ports, pki, kubeconfig),
        ...(opts.extraArgs?.[c] ?? []),
      ];
      const rec = startDetached(c, bins[c], args, join(dir, 'logs', `${c}.log`));
      state.processes.push(rec);
      await writeState(state);
      await waitHealthy(rec, healthEndpoint(c, ports, tls).probe, timeoutMs, signal);
    };

    await start('etcd', 30_000);
    await start('kube-apiserver', 90_000);
    await Promise.all([
      start('kube-controller-manager', 60_000),
      start('kube-scheduler', 60_000),
      start('kwok', 60_000),
    ]);
    const total = topology.campuses.reduce((n, c) => n + c.nodes, 0);
    progress(
      `creating ${total} simulated nodes in ${topology.campuses.map((c) => c.name).join(', ')}`,
    );
    await createNodes(kubeconfig, topology, progress, signal);
    state.phase = 'running';
    await writeState(state);
    return state;
  } catch (err) {
    progress(
      signal?.aborted
        ? 'interrupted: stopping what was started'
        : 'start-up failed: stopping what was started',
    );
    await teardown(state);
    throw err;
  }
}

export class AlreadyRunningError extends Error {
  readonly state: ClusterState;
  constructor(state: ClusterState) {
    super(
      `a cluster already runs from ${state.dir} (API server ${state.server}, kubeconfig ${state.kubeconfig})`,
    );
    this.name = 'AlreadyRunningError';
    this.state = state;
  }
}

/**
 * Starts a Yard process (a Node script of this repository) detached beside
 * the cluster in `dir`, logging to its logs folder, and records it in the
 * state so that `status` lists it and `down` stops it. One of the same name
 * already recorded is stopped first.
 */
export async function startComponent(
  dir: string,
  name: string,
  script: string,
  args: readonly string[],
  health: string,
): Promise<ComponentRecord> {
  const s = await readState(resolve(dir));
  if (!s) throw new Error(`no cluster in ${dir} (start one with: npm run cluster:up)`);
  for (const old of (s.components ?? []).filter((c) => c.name === name)) await stopProcess(old);
  const rec: ComponentRecord = {
    ...startDetached(
      name,
      process.execPath,
      [join(repoRoot, script), ...args],
      join(s.dir, 'logs', `${name}.log`),
    ),
    health,
  };
  s.components = [...(s.components ?? []).filter((c) => c.name !== name), rec];
  await writeState(s);
  return rec;
}

/** Stops the Yard processes recorded beside a cluster: the node agent first, so its pods' processes go with it. */
async function stopComponents(s: ClusterState): Promise<void> {
  const list = s.components ?? [];
  for (const c of list.filter((x) => x.name === 'node-agent')) await stopProcess(c, 10_000);
  await Promise.all(list.filter((x) => x.name !== 'node-agent').map((c) => stopProcess(c, 5000)));
}

/** Stops components newest first (Yard's own, then kwok and controllers, the API server, etcd last). */
async function teardown(s: ClusterState): Promise<void> {
  await stopComponents(s);
  const order = ['kwok', 'kube-scheduler', 'kube-controller-manager', 'kube-apiserver', 'etcd'];
  const byOrder = [...s.processes].sort((a, b) => order.indexOf(a.name) - order.indexOf(b.name));
  const first = byOrder.filter((p) => p.name !== 'kube-apiserver' && p.name !== 'etcd');
  await Promise.all(first.map((p) => stopProcess(p, 3000)));
  for (const name of ['kube-apiserver', 'etcd']) {
    for (const p of byOrder.filter((r) => r.name === name)) await stopProcess(p, 5000);
  }
  await rm(s.dir, { recursive: true, force: true });
}

/**
 * Starts a detached watcher that tears the cluster in `dir` down when process
 * `pid` dies, however it dies (see reaper.ts).
 */
export function startReaper(dir: string, pid: number = process.pid): void {
  const child = spawn(process.execPath, [join(here, 'reaper.ts'), dir, String(pid)], {
    detached: true,
    stdio: 'ignore',
  });
  child.unref();
}

/** Stops every process a cluster started and removes its data; true when there was one. */
export async function down(dir: string = defaultClusterDir()): Promise<boolean> {
  const s = await readState(resolve(dir));
  if (!s) {
    if (existsSync(dir)) {
      await rm(dir, { recursive: true, force: true });
      return true;
    }
    return false;
  }
  await teardown(s);
  // the default cluster's parent (.yard) goes too when nothing else is in it: a clean work tree
  if (resolve(dir) === defaultClusterDir()) await rmdir(dirname(resolve(dir))).catch(() => {});
  return true;
}

export interface ComponentStatus {
  readonly name: string;
  readonly pid: number;
  readonly running: boolean;
  readonly healthy: boolean;
  readonly detail: string;
  readonly log: string;
}

/** What runs, where, and whether each part answers its health check. */
export async function status(
  dir: string = defaultClusterDir(),
): Promise<
  { state: ClusterState; components: ComponentStatus[]; yard: ComponentStatus[] } | undefined
> {
  const s = await readState(resolve(dir));
  if (!s) return undefined;
  const tls = await readAdminTls(join(s.dir, 'pki'));
  const components = await Promise.all(
    s.processes.map(async (p): Promise<ComponentStatus> => {
      const running = isAlive(p);
      const { url: where, probe } = healthEndpoint(p.name as ControlPlaneProcess, s.ports, tls);
      let healthy = false;
      let detail = where;
      if (running) {
        try {
          healthy = await probe();
        } catch (err) {
          detail = `${where} (${err instanceof Error ? err.message : String(err)})`;
        }
      } else {
        detail = `not running; last log lines:\n${logTail(p.log, 5)}`;
      }
      return { name: p.name, pid: p.pid, running, healthy, detail, log: p.log };
    }),
  );
  const yard = await Promise.all(
    (s.components ?? []).map(async (p): Promise<ComponentStatus> => {
      const running = isAlive(p);
      let healthy = false;
      let detail = p.health;
      if (running) {
        try {
          healthy = await httpOk(p.health);
        } catch (err) {
          detail = `${p.health} (${err instanceof Error ? err.message : String(err)})`;
        }
      } else {
        detail = `not running; last log lines:\n${logTail(p.log, 5)}`;
      }
      return { name: p.name, pid: p.pid, running, healthy, detail, log: p.log };
    }),
  );
  return { state: s, components, yard };
}
