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
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { installCrds } from '../crds/index.ts';
import { addCampusController } from './campus/reconcile.ts';
import { parseDuration } from './cli/duration.ts';
import { addIMServiceController } from './imservice/reconcile.ts';
import { addOfflineJobController, addOfflineQueueController } from './offline/reconcile.ts';
import { isLogLevel, jsonLogger, LeaderElectionLostError, Manager } from './runtime/index.ts';

export interface OperatorConfig {
  readonly kubeconfig: string | undefined;
  readonly namespace: string | undefined;
  readonly leaderElect: boolean;
  readonly leaseNamespace: string;
  readonly leaseName: string;
  readonly leaseDurationMs: number;
  readonly identity: string;
  readonly metricsPort: number;
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error';
  readonly installCrds: boolean;
}

const bool = (v: string | undefined, dflt: boolean): boolean =>
  v === undefined ? dflt : !['false', '0', 'no', 'off'].includes(v.toLowerCase());

/** Flags over environment over defaults; throws with a message that says what to fix. */
export function parseConfig(argv: readonly string[], env: NodeJS.ProcessEnv): OperatorConfig {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      kubeconfig: { type: 'string' },
      namespace: { type: 'string' },
      'leader-elect': { type: 'string' },
      'lease-namespace': { type: 'string' },
      'lease-name': { type: 'string' },
      'lease-duration': { type: 'string' },
      identity: { type: 'string' },
      'metrics-port': { type: 'string' },
      'log-level': { type: 'string' },
      'install-crds': { type: 'string' },
    },
  });
  const port = Number(values['metrics-port'] ?? env['YARD_METRICS_PORT'] ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(
      `--metrics-port must be a port number (0 picks a free one), got "${values['metrics-port'] ?? env['YARD_METRICS_PORT']}"`,
    );
  }
  const level = values['log-level'] ?? env['YARD_LOG_LEVEL'] ?? 'info';
  if (!isLogLevel(level))
    throw new Error(`--log-level must be debug, info, warn or error, got "${level}"`);
  const lease = values['lease-duration'] ?? env['YARD_LEASE_DURATION'] ?? '15s';
  return {
    kubeconfig: values.kubeconfig ?? env['YARD_KUBECONFIG'] ?? env['KUBECONFIG']?.split(':')[0],
    namespace: values.namespace ?? env['YARD_NAMESPACE'],
    leaderElect: bool(values['leader-elect'] ?? env['YARD_LEADER_ELECT'], true),
    leaseNamespace:
      values['lease-namespace'] ?? env['YARD_LEASE_NAMESPACE'] ?? env['POD_NAMESPACE'] ?? 'default',
    leaseName: values['lease-name'] ?? env['YARD_LEASE_NAME'] ?? 'yard-operator',
    leaseDurationMs: parseDuration(lease),
    identity: values.identity ?? env['POD_NAME'] ?? `${hostname()}_${randomUUID().slice(0, 8)}`,
    metricsPort: port,
    logLevel: level,
    installCrds: bool(values['install-crds'] ?? env['YARD_INSTALL_CRDS'], false),
  };
}

/** Builds the manager with every controller, ready to start. */
export function buildOperator(cfg: OperatorConfig, kc: KubeConfig): Manager {
  const mgr = new Manager({
    kubeConfig: kc,
    name: 'yard-operator',
    ...(cfg.namespace ? { namespace: cfg.namespace } : {}),
    log: jsonLogger({ level: cfg.logLevel, fields: { identity: cfg.identity } }),
    leaderElection: cfg.leaderElect
      ? {
          namespace: cfg.leaseNamespace,
          name: cfg.leaseName,
          identity: cfg.identity,
          leaseDurationMs: cfg.leaseDurationMs,
          renewDeadlineMs: Math.round((cfg.leaseDurationMs * 2) / 3),
          retryPeriodMs: Math.max(200, Math.round(cfg.leaseDurationMs / 7.5)),
        }
      : false,
    probePort: cfg.metricsPort,
  });
  addCampusController(mgr);
  addIMServiceController(mgr);
  addOfflineQueueController(mgr);
  addOfflineJobController(mgr);
  return mgr;
}

async function main(): Promise<number> {
  const cfg = parseConfig(process.argv.slice(2), process.env);
  const kc = new KubeConfig();
  if (cfg.kubeconfig) kc.loadFromFile(cfg.kubeconfig);
  else kc.loadFromDefault();
  if (cfg.installCrds) await installCrds(kc);
  const mgr = buildOperator(cfg, kc);
  try {
    await mgr.start();
    return 0;
  } catch (err) {
    if (err instanceof LeaderElectionLostError) {
      mgr.log.error('leader election lost; exiting so a clean process takes over');
      return 1;
    }
    throw err;
  }
}

if (import.meta.main) {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(
        JSON.stringify({
          time: new Date().toISOString(),
          level: 'error',
          msg: 'operator failed',
          error: err instanceof Error ? err.message : String(err),
        }) + '\n',
      );
      process.exit(1);
    },
  );
}
