// The operator process: every Yard controller on one shared runtime, one
// leader at a time (a second replica stands by with warm caches).
//
//   node operator/main.ts [--kubeconfig F] [--namespace NS] [--leader-elect=false]
//        [--lease-namespace NS] [--lease-name N] [--metrics-port P] [--log-level L]
//
// Every flag has an environment variable (YARD_KUBECONFIG or KUBECONFIG,
// YARD_NAMESPACE, YARD_LEADER_ELECT, YARD_LEASE_NAMESPACE, YARD_LEASE_NAME,
// YARD_METRICS_PORT, YARD_LOG_LEVEL, YARD_LEASE_DURATION). Logs are JSON lines
// on stderr. SIGTERM/SIGINT stop gracefully (the lease is released, so the
// standby takes over at once); a lost lease exits 1 so the process restarts
// clean, as controller-runtime does.
import { parseArgs } from 'node:util';
import type { KubeConfig } from '@kubernetes/client-node';
import { installCrds } from '../crds/index.ts';
import { addControllers } from './controllers.ts';
import {
  flagBool,
  jsonLogger,
  leaderElectionOf,
  loadKubeConfig,
  Manager,
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

/** Flags over environment over defaults; throws with a message that says what to fix. */
export function parseConfig(argv: readonly string[], env: NodeJS.ProcessEnv): OperatorConfig {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      ...processOptions,
      namespace: { type: 'string' },
      'install-crds': { type: 'string' },
    },
  });
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

async function main(): Promise<number> {
  const cfg = parseConfig(process.argv.slice(2), process.env);
  const kc = loadKubeConfig(cfg.kubeconfig);
  if (cfg.installCrds) await installCrds(kc);
  const mgr = buildOperator(cfg, kc);
  return runToExit(() => mgr.start(), mgr.log);
}

if (import.meta.main) runProcess('operator', main);
