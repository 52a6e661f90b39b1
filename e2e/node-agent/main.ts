// The node agent's command line: run the agent, or ask a running one what it
// runs and which blackholes (Campus.spec.blackhole) it enforces.
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { isLogLevel, jsonLogger } from '../../runtime/logger.ts';
import { flagsHelp, parseCommandLine, UsageError } from '../../runtime/process.ts';
import { defaultClusterDir, repoRoot } from '../control-plane/cluster.ts';
import { startNodeAgent } from './agent.ts';
import { blackholeMoved, callControl, serveControl } from './control.ts';

const runFlags = {
  kubeconfig: {
    type: 'string',
    value: 'PATH',
    help: 'the cluster',
    env: ['KUBECONFIG'],
    default: '.yard/cluster/kubeconfig',
  },
  'node-selector': {
    type: 'string',
    value: 'SEL',
    help: 'serve only the simulated nodes this label selector picks',
  },
  dir: { type: 'string', value: 'DIR', help: 'logs and pod data', default: '.yard/node-agent' },
  control: {
    type: 'string',
    value: 'HOST:PORT',
    help: 'where the control API listens, on loopback only',
    default: '127.0.0.1:10355',
  },
  'log-level': {
    type: 'string',
    value: 'LEVEL',
    help: 'debug, info, warn or error',
    default: 'info',
  },
} as const;

const statusFlags = {
  control: {
    type: 'string',
    value: 'URL',
    help: "the agent's control API",
    env: ['YARD_NODE_AGENT_CONTROL'],
    default: 'http://127.0.0.1:10355',
  },
} as const;

const usage = `usage: node e2e/node-agent/main.ts [run] [flags]   (npm run node-agent -- [flags])
       node e2e/node-agent/main.ts status [--control URL]

Runs the pods labelled yard.dev/runtime=process on kwok's simulated nodes as
local processes and enforces Campus.spec.blackhole on them (see
e2e/node-agent/README.md), or asks a running agent what it runs and holds.

run flags:
${flagsHelp(runFlags)}
status flags:
${flagsHelp(statusFlags)}`;

const defaultControl = '127.0.0.1:10355';

function fail(message: string): never {
  process.stderr.write(`node-agent: ${message}\n\n${usage}`);
  process.exit(2);
}

/** The command and its flags; --help exits 0, a mistake exits 2 with the usage. */
function parse(): {
  command: string;
  values: { [K in keyof typeof runFlags]?: string };
} {
  try {
    const argv = process.argv.slice(2);
    // before the flags: a retired command's old flags (--campus) are not ours any more
    const retired = argv.find((a) => a === 'blackhole' || a === 'thaw');
    if (retired) throw new UsageError(`${retired} is retired: ${blackholeMoved}`);
    const { values, positionals, help } = parseCommandLine(
      argv,
      { ...runFlags, ...statusFlags },
      { positionals: true },
    );
    if (help) {
      process.stdout.write(usage);
      process.exit(0);
    }
    const command = positionals[0] ?? 'run';
    if (command !== 'run' && command !== 'status')
      throw new UsageError(`unknown command ${command}`);
    if (positionals.length > 1)
      throw new UsageError(`unexpected arguments: ${positionals.slice(1).join(' ')}`);
    const allowed: readonly string[] = Object.keys(command === 'run' ? runFlags : statusFlags);
    const stray = Object.keys(values).filter((k) => !allowed.includes(k));
    if (stray.length > 0)
      throw new UsageError(`${command} takes no ${stray.map((k) => `--${k}`).join(', ')}`);
    return { command, values };
  } catch (err) {
    if (err instanceof UsageError) fail(err.message);
    throw err;
  }
}

const { command, values } = parse();

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
  else await status();
} catch (err) {
  process.stderr.write(`node-agent: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
