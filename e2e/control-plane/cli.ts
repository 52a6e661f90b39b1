// The local control plane's command line: `npm run cluster:up|down|status|kubeconfig|build`.
import { parseArgs } from 'node:util';
import { dirname, join, relative } from 'node:path';
import { ensureBinaries } from './binaries.ts';
import {
  AlreadyRunningError,
  defaultClusterDir,
  down,
  readState,
  repoRoot,
  status,
  up,
} from './cluster.ts';
import type { ClusterState, ComponentStatus } from './cluster.ts';

const usage = `usage: node e2e/control-plane/cli.ts <command> [options]

commands:
  up          start etcd, kube-apiserver, kube-controller-manager, kube-scheduler
              and kwok on loopback, with simulated nodes in three campuses
  down        stop every process the cluster started (and the demo's operator,
              scheduler and node agent) and remove its data
  status      what runs, where, and whether it is healthy
  kubeconfig  print the kubeconfig path (export KUBECONFIG=$(npm run -s cluster:kubeconfig))
  build       find or build the pinned binaries only

options:
  --dir DIR               the cluster's folder (default .yard/cluster, or YARD_CLUSTER_DIR)
  --nodes-per-campus N    simulated nodes per campus (default from the topology, or YARD_NODES_PER_CAMPUS)
  --topology FILE         another topology file (default e2e/control-plane/topology.yaml)
  --port N                a fixed API server port (default: any free port)
`;

const say = (line: string): void => {
  process.stderr.write(`yard: ${line}\n`);
};

function describe(s: ClusterState): string {
  const cwdRel = relative(process.cwd(), s.kubeconfig);
  return [
    `API server ${s.server} (Kubernetes ${s.versions.kubernetes})`,
    `campuses: ${s.nodes.map((n) => `${n.campus} (${n.count} nodes)`).join(', ')}`,
    `kubeconfig: ${s.kubeconfig}`,
    '',
    'Point kubectl at it:',
    `  export KUBECONFIG=${cwdRel.startsWith('..') ? s.kubeconfig : cwdRel}`,
    `  export PATH=${dirname(s.kubectl)}:${join(repoRoot, 'bin')}:$PATH   # kubectl ${s.versions.kubernetes} and its yard plugin`,
    '  kubectl get nodes -L topology.kubernetes.io/zone',
    `Stop it with: npm run cluster:down${s.dir === defaultClusterDir() ? '' : ` -- --dir ${s.dir}`}`,
  ].join('\n');
}

function intOption(v: string | undefined, flag: string): number | undefined {
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${flag} must be a whole number, got "${v}"`);
  return n;
}

type Options = {
  dir: string;
  nodesPerCampus?: number;
  topology?: string;
  port?: number;
};

async function cmdUp(o: Options): Promise<number> {
  const abort = new AbortController();
  const onSignal = (): void => {
    say('interrupted; stopping what was started (Ctrl-C again to leave at once)');
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    abort.abort(new Error('interrupted'));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const started = Date.now();
  try {
    const s = await up({
      dir: o.dir,
      progress: say,
      signal: abort.signal,
      ...(o.topology ? { topologyFile: o.topology } : {}),
      ...(o.nodesPerCampus !== undefined ? { nodesPerCampus: o.nodesPerCampus } : {}),
      ...(o.port !== undefined ? { apiserverPort: o.port } : {}),
    });
    say(`up in ${((Date.now() - started) / 1000).toFixed(1)}s`);
    process.stdout.write(describe(s) + '\n');
    return 0;
  } catch (err) {
    if (!(err instanceof AlreadyRunningError)) throw err;
    say('already running; nothing to do');
    process.stdout.write(describe(err.state) + '\n');
    return 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

async function cmdDown(o: Options): Promise<number> {
  const had = await down(o.dir);
  say(had ? `stopped the cluster in ${o.dir} and removed its data` : `no cluster in ${o.dir}`);
  return 0;
}

async function cmdStatus(o: Options): Promise<number> {
  const st = await status(o.dir);
  if (!st) {
    process.stdout.write(`no cluster in ${o.dir} (start one with: npm run cluster:up)\n`);
    return 3;
  }
  const health = (c: { running: boolean; healthy: boolean }): string =>
    !c.running ? 'STOPPED  ' : c.healthy ? 'healthy  ' : 'UNHEALTHY';
  const row = (c: ComponentStatus): string =>
    `  ${c.name.padEnd(24)} pid ${String(c.pid).padEnd(8)} ${health(c)} ${c.detail}`;
  const head = `cluster ${st.state.name} (${st.state.phase}) in ${st.state.dir}, since ${st.state.startedAt}`;
  const yard =
    st.yard.length > 0
      ? [
          '',
          "Yard's components (started by npm run demo; logs in the cluster's logs/):",
          ...st.yard.map(row),
        ]
      : [
          '',
          "Yard's components: none running here (npm run demo starts them, or npm run operator, scheduler, node-agent)",
        ];
  process.stdout.write(
    [head, ...st.components.map(row), ...yard, '', describe(st.state), ''].join('\n'),
  );
  return [...st.components, ...st.yard].every((c) => c.running && c.healthy) ? 0 : 1;
}

async function cmdKubeconfig(o: Options): Promise<number> {
  const s = await readState(o.dir);
  if (!s) {
    say(`no cluster in ${o.dir} (start one with: npm run cluster:up)`);
    return 3;
  }
  process.stdout.write(s.kubeconfig + '\n');
  return 0;
}

async function cmdBuild(): Promise<number> {
  const bins = await ensureBinaries(say);
  for (const [c, p] of Object.entries(bins)) process.stdout.write(`${c.padEnd(24)} ${p}\n`);
  return 0;
}

const commands: Record<string, (o: Options) => Promise<number>> = {
  up: cmdUp,
  down: cmdDown,
  status: cmdStatus,
  kubeconfig: cmdKubeconfig,
  build: cmdBuild,
};

async function main(): Promise<number> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      dir: { type: 'string' },
      'nodes-per-campus': { type: 'string' },
      topology: { type: 'string' },
      port: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const cmd = positionals[0];
  if (values.help || !cmd) {
    process.stdout.write(usage);
    return values.help ? 0 : 2;
  }
  const fn = commands[cmd];
  if (!fn) {
    process.stderr.write(`unknown command "${cmd}"\n\n${usage}`);
    return 2;
  }
  const nodesPerCampus =
    intOption(values['nodes-per-campus'], '--nodes-per-campus') ??
    intOption(process.env['YARD_NODES_PER_CAMPUS'], 'YARD_NODES_PER_CAMPUS');
  const port = intOption(values.port, '--port');
  return fn({
    dir: values.dir ?? defaultClusterDir(),
    ...(nodesPerCampus !== undefined ? { nodesPerCampus } : {}),
    ...(values.topology ? { topology: values.topology } : {}),
    ...(port !== undefined ? { port } : {}),
  });
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    const e = err as Error;
    say(`error: ${e.message}`);
    if (process.env['YARD_DEBUG'] && e.stack) process.stderr.write(e.stack + '\n');
    process.exit(1);
  },
);
