// The operator process: every Yard controller on one shared runtime, one
// leader at a time (a second replica stands by with warm caches).
//
//   node operator/main.ts [flags]   (--help lists them)
//
// Every flag has an environment variable (see `usage`). Logs are JSON lines
// on stderr. SIGTERM/SIGINT stop gracefully (the lease is released, so the
// standby takes over at once); a lost lease exits 1 so the process restarts
// clean, as controller-runtime does.
import type { KubeConfig } from '@kubernetes/client-node';
import { installCrds } from '../crds/index.ts';
import { addControllers } from './controllers.ts';
import {
  flagBool,
  flagsHelp,
  jsonLogger,
  leaderElectionOf,
  loadKubeConfig,
  Manager,
  parseCommandLine,
  processOptions,
  readProcessConfig,
  runProcess,
  runToExit,
} from '../runtime/index.ts';
import type { ProcessConfig } from '../runtime/index.ts';

export interface OperatorConfig extends ProcessConfig {
  readonly namespace: string | undefined;
  readonly installCrds: boolean;
}

const flags = {
  ...processOptions,
  'lease-name': { ...processOptions['lease-name'], default: 'yard-operator' },
  'metrics-port': { ...processOptions['metrics-port'], default: '8080' },
  namespace: {
    type: 'string',
    value: 'NS',
    help: 'watch IM services and offline work in this namespace only',
    env: ['YARD_NAMESPACE'],
    default: 'all',
  },
  'install-crds': {
    type: 'string',
    value: 'BOOL',
    help: "install or update Yard's CRDs before starting",
    env: ['YARD_INSTALL_CRDS'],
    default: 'false',
  },
} as const;

export const usage = `usage: npm run operator -- [flags]   (node operator/main.ts [flags])

Runs every Yard controller (campus, IM service, offline queue and job), one
leader at a time on the Lease yard-operator. Logs are JSON lines on stderr.

flags:
${flagsHelp(flags)}`;

/**
 * Flags over environment over defaults; throws a UsageError with a message
 * that says what to fix.
 */
export function parseConfig(argv: readonly string[], env: NodeJS.ProcessEnv): OperatorConfig {
  const { values } = parseCommandLine(argv, flags);
  return {
    ...readProcessConfig(values, env, { leaseName: 'yard-operator', metricsPort: 8080 }),
    namespace: values.namespace ?? env['YARD_NAMESPACE'],
    installCrds: flagBool(values['install-crds'] ?? env['YARD_INSTALL_CRDS'], false),
  };
}

/** Builds the manager with every controller, ready to start. */
export function buildOperator(cfg: OperatorConfig, kc: KubeConfig): Manager {
  const mgr = new Manager({
    kubeConfig: kc,
    name: 'yard-operator',
    ...(cfg.namespace ? { namespace: cfg.namespace } : {}),
    log: jsonLogger({ level: cfg.logLevel, fields: { identity: cfg.identity } }),
    leaderElection: leaderElectionOf(cfg),
    probePort: cfg.metricsPort,
  });
  addControllers(mgr);
  return mgr;
}

async function main(argv: readonly string[]): Promise<number> {
  const cfg = parseConfig(argv, process.env);
  const kc = loadKubeConfig(cfg.kubeconfig);
  if (cfg.installCrds) await installCrds(kc);
  const mgr = buildOperator(cfg, kc);
  return runToExit(() => mgr.start(), mgr.log);
}

if (import.meta.main) runProcess('operator', usage, main);
