// The scheduler process: Yard's two-level scheduler for every pod whose
// spec.schedulerName is `yard`, one leader at a time (a standby keeps warm
// caches and takes over when the lease expires).
//
//   node scheduler/main.ts [--kubeconfig F] [--scheduler-name yard] [--leader-elect=false]
//        [--lease-namespace NS] [--lease-name N] [--lease-duration 15s] [--identity ID]
//        [--metrics-port P] [--log-level L] [--concurrency N] [--batch-size N]
//        [--tolerate-taints k1,k2]
//
// Every flag has an environment variable: YARD_KUBECONFIG (or KUBECONFIG),
// YARD_SCHEDULER_NAME, YARD_LEADER_ELECT, YARD_LEASE_NAMESPACE (or
// POD_NAMESPACE), YARD_LEASE_NAME, YARD_LEASE_DURATION, POD_NAME (identity),
// YARD_METRICS_PORT, YARD_LOG_LEVEL, YARD_CONCURRENCY, YARD_BATCH_SIZE,
// YARD_TOLERATE_TAINTS. Logs are JSON lines on stderr. SIGTERM/SIGINT stop
// gracefully (the lease is released); a lost lease exits 1, so the process
// restarts clean rather than risk binding beside a new leader.
import { parseArgs } from 'node:util';
import type { KubeConfig } from '@kubernetes/client-node';
import {
  jsonLogger,
  leaderElectionOf,
  loadKubeConfig,
  processOptions,
  readProcessConfig,
  runProcess,
  runToExit,
  wholeFlag,
} from '../runtime/index.ts';
import type { ProcessConfig } from '../runtime/index.ts';
import { YardScheduler } from './adapter/index.ts';

export interface SchedulerConfig extends ProcessConfig {
  readonly schedulerName: string;
  readonly concurrency: number;
  readonly batchSize: number;
  readonly toleratedTaints: readonly string[];
}

const options = {
  ...processOptions,
  'scheduler-name': { type: 'string' },
  concurrency: { type: 'string' },
  'batch-size': { type: 'string' },
  'tolerate-taints': { type: 'string' },
} as const;

/** Flags over environment over defaults; throws with a message that says what to fix. */
export function parseConfig(argv: readonly string[], env: NodeJS.ProcessEnv): SchedulerConfig {
  const { values } = parseArgs({ args: [...argv], options });
  return {
    ...readProcessConfig(values, env, { leaseName: 'yard-scheduler', metricsPort: 10251 }),
    schedulerName: values['scheduler-name'] ?? env['YARD_SCHEDULER_NAME'] ?? 'yard',
    concurrency: wholeFlag(
      'concurrency',
      values.concurrency ?? env['YARD_CONCURRENCY'] ?? '48',
      1,
      1000,
    ),
    batchSize: wholeFlag(
      'batch-size',
      values['batch-size'] ?? env['YARD_BATCH_SIZE'] ?? '2000',
      1,
      1_000_000,
    ),
    toleratedTaints: (values['tolerate-taints'] ?? env['YARD_TOLERATE_TAINTS'] ?? '')
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean),
  };
}

/** The scheduler of a configuration, ready to start. */
export function buildScheduler(cfg: SchedulerConfig, kc: KubeConfig): YardScheduler {
  return new YardScheduler({
    kubeConfig: kc,
    schedulerName: cfg.schedulerName,
    log: jsonLogger({ level: cfg.logLevel, fields: { identity: cfg.identity } }),
    leaderElection: leaderElectionOf(cfg),
    probePort: cfg.metricsPort,
    concurrency: cfg.concurrency,
    batchSize: cfg.batchSize,
    toleratedTaints: cfg.toleratedTaints,
  });
}

async function main(): Promise<number> {
  const cfg = parseConfig(process.argv.slice(2), process.env);
  const s = buildScheduler(cfg, loadKubeConfig(cfg.kubeconfig));
  return runToExit(() => s.start(), s.log);
}

if (import.meta.main) runProcess('scheduler', main);
