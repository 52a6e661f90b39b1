// The node agent's command line: run the agent, or ask a running one what it
// runs and which blackholes (Campus.spec.blackhole) it enforces.
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { isLogLevel, jsonLogger } from '../../runtime/logger.ts';
import { defaultClusterDir, repoRoot } from '../control-plane/cluster.ts';
import { startNodeAgent } from './agent.ts';
import { blackholeMoved, callControl, serveControl } from './control.ts';

const usage = `usage: node e2e/node-agent/main.ts [run] [options]
       node e2e/node-agent/main.ts status [--control URL]

Runs the pods labelled yard.dev/runtime=process on kwok's simulated nodes as
local processes and enforces Campus.spec.blackhole on them (see
e2e/node-agent/README.md), or asks a running agent what it runs and holds.

run options:
  --kubeconfig PATH     the cluster (default $KUBECONFIG, else .yard/cluster/kubeconfig)
  --node-selector SEL   serve only the simulated nodes this label selector picks
  --dir DIR             logs and pod data (default .yard/node-agent)
  --control HOST:PORT   where the control API listens (default 127.0.0.1:10355)
  --log-level LEVEL     debug, info, warn or error (default info)

status:
  --control URL         the agent's control API (default $YARD_NODE_AGENT_CONTROL,
                        else http://127.0.0.1:10355)
`;

const defaultControl = '127.0.0.1:10355';

function fail(message: string): never {
  process.stderr.write(`node-agent: ${message}\n\n${usage}`);
  process.exit(2);
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    kubeconfig: { type: 'string' },
    'node-selector': { type: 'string' },
    dir: { type: 'string' },
    control: { type: 'string' },
    'log-level': { type: 'string' },
    campus: { type: 'string' },
    node: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  process.stdout.write(usage);
  process.exit(0);
}
const command = positionals[0] ?? 'run';
if (positionals.length > 1) fail(`unexpected arguments: ${positionals.slice(1).join(' ')}`);

async function status(): Promise<void> {
  const raw = values.control ?? process.env['YARD_NODE_AGENT_CONTROL'] ?? defaultControl;
  const base = /^https?:\/\//.test(raw) ? raw : `http://${raw}`;
  const result = await callControl(base, 'status');
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

async function run(): Promise<void> {
  const level = values['log-level'] ?? 'info';
  if (!isLogLevel(level)) fail(`--log-level must be debug, info, warn or error, got ${level}`);
  const log = jsonLogger({ level, fields: { component: 'node-agent' } });
  const kubeconfig =
    values.kubeconfig ??
    process.env['KUBECONFIG']?.split(':')[0] ??
    join(defaultClusterDir(), 'kubeconfig');
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const listen = /^(.*):(\d+)$/.exec(values.control ?? defaultControl);
  const host = listen?.[1] || '127.0.0.1';
  // the control API shows pids and folders: it answers on loopback only
  if (!listen || !/^(127\.\d+\.\d+\.\d+|localhost|\[?::1\]?)$/.test(host)) {
    fail('--control must be a loopback host:port, such as 127.0.0.1:10355');
  }
  const agent = await startNodeAgent({
    kubeConfig: kc,
    dir: values.dir ?? join(repoRoot, '.yard', 'node-agent'),
    ...(values['node-selector'] ? { nodeSelector: values['node-selector'] } : {}),
    log,
  });
  let server;
  try {
    server = await serveControl(agent, host, Number(listen[2]));
  } catch (err) {
    await agent.stop();
    throw err;
  }
  process.stdout.write(
    `${JSON.stringify({ service: 'node-agent', control: server.url, dir: agent.dir })}\n`,
  );
  const running = server;
  const stop = (signal: string): void => {
    log.info('stopping', { signal });
    Promise.all([running.close(), agent.stop()]).then(
      () => process.exit(0),
      (err: unknown) => {
        log.error('unclean stop', { err });
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

try {
  if (command === 'run') await run();
  else if (command === 'status') await status();
  else if (command === 'blackhole' || command === 'thaw')
    fail(`${command} is retired: ${blackholeMoved}`);
  else fail(`unknown command ${command}`);
} catch (err) {
  process.stderr.write(`node-agent: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
