// What every leader-elected Yard process (the operator, the scheduler) does
// the same way: the common flags and their environment variables, the
// kubeconfig, the lease timings, graceful stop on SIGTERM/SIGINT, and the
// exit code (a lost lease exits 1 so that the process restarts clean, as
// controller-runtime does).
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { KubeConfig } from '@kubernetes/client-node';
import { parseDuration } from './duration.ts';
import { LeaderElectionLostError } from './leader-election.ts';
import type { LeaderElectionConfig } from './leader-election.ts';
import { isLogLevel } from './logger.ts';
import type { Logger, LogLevel } from './logger.ts';

/** The flags every process takes, for node:util's parseArgs. */
export const processOptions = {
  kubeconfig: { type: 'string' },
  'leader-elect': { type: 'string' },
  'lease-namespace': { type: 'string' },
  'lease-name': { type: 'string' },
  'lease-duration': { type: 'string' },
  identity: { type: 'string' },
  'metrics-port': { type: 'string' },
  'log-level': { type: 'string' },
} as const;

export interface ProcessConfig {
  readonly kubeconfig: string | undefined;
  readonly leaderElect: boolean;
  readonly leaseNamespace: string;
  readonly leaseName: string;
  readonly leaseDurationMs: number;
  readonly identity: string;
  readonly metricsPort: number;
  readonly logLevel: LogLevel;
}

export const flagBool = (v: string | undefined, dflt: boolean): boolean =>
  v === undefined ? dflt : !['false', '0', 'no', 'off'].includes(v.toLowerCase());

/** A whole number flag within bounds, or an error that says what to write. */
export function wholeFlag(name: string, raw: string, min: number, max: number): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new Error(`--${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
  return n;
}

/**
 * The common flags, each over its environment variables (YARD_KUBECONFIG or
 * KUBECONFIG, YARD_LEADER_ELECT, YARD_LEASE_NAMESPACE or POD_NAMESPACE,
 * YARD_LEASE_NAME, YARD_LEASE_DURATION, POD_NAME, YARD_METRICS_PORT,
 * YARD_LOG_LEVEL), over the defaults.
 */
export function readProcessConfig(
  values: Partial<Record<keyof typeof processOptions, string>>,
  env: NodeJS.ProcessEnv,
  defaults: { readonly leaseName: string; readonly metricsPort: number },
): ProcessConfig {
  /** The flag, else the first environment variable set, else the default. */
  const get = (flag: keyof typeof processOptions, vars: readonly string[]): string | undefined =>
    values[flag] ?? vars.map((v) => env[v]).find((v) => v !== undefined);
  const level = get('log-level', ['YARD_LOG_LEVEL']) ?? 'info';
  if (!isLogLevel(level))
    throw new Error(`--log-level must be debug, info, warn or error, got "${level}"`);
  const port = get('metrics-port', ['YARD_METRICS_PORT']) ?? String(defaults.metricsPort);
  return {
    kubeconfig: get('kubeconfig', ['YARD_KUBECONFIG']) ?? env['KUBECONFIG']?.split(':')[0],
    leaderElect: flagBool(get('leader-elect', ['YARD_LEADER_ELECT']), true),
    leaseNamespace: get('lease-namespace', ['YARD_LEASE_NAMESPACE', 'POD_NAMESPACE']) ?? 'default',
    leaseName: get('lease-name', ['YARD_LEASE_NAME']) ?? defaults.leaseName,
    leaseDurationMs: parseDuration(get('lease-duration', ['YARD_LEASE_DURATION']) ?? '15s'),
    identity: get('identity', ['POD_NAME']) ?? `${hostname()}_${randomUUID().slice(0, 8)}`,
    metricsPort: wholeFlag('metrics-port', port, 0, 65535),
    logLevel: level,
  };
}

/** The lease of a configuration, renewed at 2/3 of its duration, or false without election. */
export function leaderElectionOf(cfg: ProcessConfig): LeaderElectionConfig | false {
  return cfg.leaderElect
    ? {
        namespace: cfg.leaseNamespace,
        name: cfg.leaseName,
        identity: cfg.identity,
        leaseDurationMs: cfg.leaseDurationMs,
        renewDeadlineMs: Math.round((cfg.leaseDurationMs * 2) / 3),
        retryPeriodMs: Math.max(200, Math.round(cfg.leaseDurationMs / 7.5)),
      }
    : false;
}

/** The kubeconfig file given, else the default chain ($KUBECONFIG, ~/.kube/config, in-cluster). */
export function loadKubeConfig(path: string | undefined): KubeConfig {
  const kc = new KubeConfig();
  if (path) kc.loadFromFile(path);
  else kc.loadFromDefault();
  return kc;
}

/** Runs a leader-elected process to its end: 0 when stopped, 1 when its lease was lost. */
export async function runToExit(
  start: () => Promise<void>,
  log: Pick<Logger, 'error'>,
): Promise<number> {
  try {
    await start();
    return 0;
  } catch (err) {
    if (err instanceof LeaderElectionLostError) {
      log.error('leader election lost; exiting so a clean process takes over');
      return 1;
    }
    throw err;
  }
}

/** A process's `main`: exits with its code, or logs a failure as a JSON line and exits 1. */
export function runProcess(name: string, main: () => Promise<number>): void {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(
        JSON.stringify({
          time: new Date().toISOString(),
          level: 'error',
          msg: `${name} failed`,
          error: err instanceof Error ? err.message : String(err),
        }) + '\n',
      );
      process.exit(1);
    },
  );
}

/**
 * SIGTERM and SIGINT stop gracefully; a second signal exits at once.
 * Returns the function that unhooks them.
 */
export function hookShutdownSignals(log: Logger, stop: () => Promise<void>): () => void {
  let seen = 0;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (++seen > 1) {
      log.error('second signal: exiting now', { signal: sig });
      process.exit(1);
    }
    log.info('signal received: stopping gracefully', { signal: sig });
    void stop();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return () => {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  };
}
