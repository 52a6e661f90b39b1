// The scheduler process: Yard's two-level scheduler for every pod whose
// spec.schedulerName is `yard`, one leader at a time (a standby keeps warm
// caches and takes over when the lease expires).
//
//   node scheduler/main.ts [flags]   (--help lists them)
//
// Every flag has an environment variable (see `usage`). Logs are JSON lines
// on stderr. SIGTERM/SIGINT stop gracefully (the lease is released); a lost
// lease exits 1, so the process restarts clean rather than risk binding
// beside a new leader.
import type { KubeConfig } from '@kubernetes/client-node';
import {
  flagsHelp,
  jsonLogger,
  leaderElectionOf,
  loadKubeConfig,
  parseCommandLine,
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

const flags = {
  ...processOptions,
  'lease-name': { ...processOptions['lease-name'], default: 'yard-scheduler' },
  'metrics-port': { ...processOptions['metrics-port'], default: '10251' },
  'scheduler-name': {
    type: 'string',
    value: 'NAME',
    help: 'bind the pods whose spec.schedulerName is this',
    env: ['YARD_SCHEDULER_NAME'],
    default: 'yard',
  },
  concurrency: {
    type: 'string',
    value: 'N',
    help: 'binds, evictions and status writes in flight at most, 1-1000',
    env: ['YARD_CONCURRENCY'],
    default: '48',
  },
  'batch-size': {
    type: 'string',
    value: 'N',
    help: 'pending pods per cycle at most (a gang counts whole)',
    env: ['YARD_BATCH_SIZE'],
    default: '2000',
  },
  'tolerate-taints': {
    type: 'string',
    value: 'K1,K2',
    help: "taint keys that Yard's pods tolerate (others keep them off a node)",
    env: ['YARD_TOLERATE_TAINTS'],
    default: 'none',
  },
} as const;

export const usage = `usage: npm run scheduler -- [flags]   (node scheduler/main.ts [flags])

Yard's two-level scheduler: binds every pod of its scheduler name, one leader
at a time on the Lease yard-scheduler. Logs are JSON lines on stderr.

flags:
${flagsHelp(flags)}`;

/**
 * Flags over environment over defaults; throws a UsageError with a message
 * that says what to fix.
 */
export function parseConfig(argv: readonly string[], env: NodeJS.ProcessEnv): SchedulerConfig {
  const { values } = parseCommandLine(argv, flags);
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

async function main(argv: readonly string[]): Promise<number> {
  const cfg = parseConfig(argv, process.env);
  const s = buildScheduler(cfg, loadKubeConfig(cfg.kubeconfig));
  return runToExit(() => s.start(), s.log);
}

if (import.meta.main) runProcess('scheduler', usage, main);
