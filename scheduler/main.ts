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
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { parseDuration } from '../operator/cli/duration.ts';
import { isLogLevel, jsonLogger, LeaderElectionLostError } from '../operator/runtime/index.ts';
import type { LogLevel } from '../operator/runtime/index.ts';
import { YardScheduler } from './adapter/index.ts';

export interface SchedulerConfig {
  readonly kubeconfig: string | undefined;
  readonly schedulerName: string;
  readonly leaderElect: boolean;
  readonly leaseNamespace: string;
  readonly leaseName: string;
  readonly leaseDurationMs: number;
  readonly identity: string;
  readonly metricsPort: number;
  readonly logLevel: LogLevel;
  readonly concurrency: number;
  readonly batchSize: number;
  readonly toleratedTaints: readonly string[];
}

const bool = (v: string | undefined, dflt: boolean): boolean =>
  v === undefined ? dflt : !['false', '0', 'no', 'off'].includes(v.toLowerCase());

function whole(name: string, raw: string, min: number, max: number): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new Error(`--${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
  return n;
}

const options = {
  kubeconfig: { type: 'string' },
  'scheduler-name': { type: 'string' },
  'leader-elect': { type: 'string' },
  'lease-namespace': { type: 'string' },
  'lease-name': { type: 'string' },
  'lease-duration': { type: 'string' },
  identity: { type: 'string' },
  'metrics-port': { type: 'string' },
  'log-level': { type: 'string' },
  concurrency: { type: 'string' },
  'batch-size': { type: 'string' },
  'tolerate-taints': { type: 'string' },
} as const;
type Flag = keyof typeof options;

/** Flags over environment over defaults; throws with a message that says what to fix. */
export function parseConfig(argv: readonly string[], env: NodeJS.ProcessEnv): SchedulerConfig {
  const { values } = parseArgs({ args: [...argv], options });
  /** The flag, else the first environment variable set, else the default. */
  const get = (flag: Flag, vars: readonly string[], dflt: string): string =>
    values[flag] ?? vars.map((v) => env[v]).find((v) => v !== undefined) ?? dflt;
  const level = get('log-level', ['YARD_LOG_LEVEL'], 'info');
  if (!isLogLevel(level))
    throw new Error(`--log-level must be debug, info, warn or error, got "${level}"`);
  const kubeconfig =
    values.kubeconfig ?? env['YARD_KUBECONFIG'] ?? env['KUBECONFIG']?.split(':')[0];
  return {
    kubeconfig,
    schedulerName: get('scheduler-name', ['YARD_SCHEDULER_NAME'], 'yard'),
    leaderElect: bool(get('leader-elect', ['YARD_LEADER_ELECT'], 'true'), true),
    leaseNamespace: get('lease-namespace', ['YARD_LEASE_NAMESPACE', 'POD_NAMESPACE'], 'default'),
    leaseName: get('lease-name', ['YARD_LEASE_NAME'], 'yard-scheduler'),
    leaseDurationMs: parseDuration(get('lease-duration', ['YARD_LEASE_DURATION'], '15s')),
    identity: get('identity', ['POD_NAME'], `${hostname()}_${randomUUID().slice(0, 8)}`),
    metricsPort: whole(
      'metrics-port',
      get('metrics-port', ['YARD_METRICS_PORT'], '10251'),
      0,
      65535,
    ),
    logLevel: level,
    concurrency: whole('concurrency', get('concurrency', ['YARD_CONCURRENCY'], '48'), 1, 1000),
    batchSize: whole('batch-size', get('batch-size', ['YARD_BATCH_SIZE'], '2000'), 1, 1_000_000),
    toleratedTaints: get('tolerate-taints', ['YARD_TOLERATE_TAINTS'], '')
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
    concurrency: cfg.concurrency,
    batchSize: cfg.batchSize,
    toleratedTaints: cfg.toleratedTaints,
  });
}

async function main(): Promise<number> {
  const cfg = parseConfig(process.argv.slice(2), process.env);
  const kc = new KubeConfig();
  if (cfg.kubeconfig) kc.loadFromFile(cfg.kubeconfig);
  else kc.loadFromDefault();
  const s = buildScheduler(cfg, kc);
  try {
    await s.start();
    return 0;
  } catch (err) {
    if (err instanceof LeaderElectionLostError) {
      s.log.error('leader election lost; exiting so a clean process takes over');
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
          msg: 'scheduler failed',
          error: err instanceof Error ? err.message : String(err),
        }) + '\n',
      );
      process.exit(1);
    },
  );
}
