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

/** One flag of a command line, as `--help` shows it. */
export interface FlagSpec {
  readonly type: 'string' | 'boolean';
  /** A one-letter alias, e.g. `n` for `-n`. */
  readonly short?: string;
  /** The value's placeholder in `--help` (string flags), e.g. `PATH`. */
  readonly value?: string;
  readonly help: string;
  /** The environment variables it falls back to, first set wins. */
  readonly env?: readonly string[];
  /** What it is when neither the flag nor its variables are set, in words. */
  readonly default?: string;
}

export type FlagSpecs = Readonly<Record<string, FlagSpec>>;

/** What a command line set: strings for string flags, `true` for boolean ones. */
export type FlagValues<F extends FlagSpecs> = {
  -readonly [K in keyof F]?: F[K]['type'] extends 'boolean' ? boolean : string;
};

/**
 * A command line that cannot be run as written: the entry points print the
 * message and their usage and exit 2 (0 done, 1 failed, 2 usage).
 */
export class UsageError extends Error {
  override name = 'UsageError';
}

export interface CommandLine<F extends FlagSpecs> {
  readonly values: FlagValues<F>;
  readonly positionals: readonly string[];
  /** `-h` or `--help` was given (anywhere before `--`). */
  readonly help: boolean;
}

/** The closest known flag to a misspelt one, if it is close (edit distance ≤ 2). */
function closest(name: string, known: readonly string[]): string | undefined {
  const distance = (a: string, b: string): number => {
    let row = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
      const next = [i];
      for (let j = 1; j <= b.length; j++) {
        next[j] = Math.min(
          (row[j] ?? 0) + 1,
          (next[j - 1] ?? 0) + 1,
          (row[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1),
        );
      }
      row = next;
    }
    return row[b.length] ?? Infinity;
  };
  let best: string | undefined;
  let bestD = 3;
  for (const k of known) {
    const d = distance(name, k);
    if (d < bestD) [best, bestD] = [k, d];
  }
  return best;
}

/** One flag as written: `--for=5m` is `{ given: '--for', name: 'for', inline: '5m' }`. */
interface WrittenFlag {
  readonly given: string;
  /** The table's name for it; undefined for an unknown short flag. */
  readonly name: string | undefined;
  readonly inline: string | undefined;
}

/** A flag as written, or undefined for a positional. */
function writtenFlag(arg: string, byShort: ReadonlyMap<string, string>): WrittenFlag | undefined {
  const long = /^--([^=]+)(?:=(.*))?$/s.exec(arg);
  if (long) return { given: `--${long[1] ?? ''}`, name: long[1], inline: long[2] };
  const short = /^-([^-])(.*)$/s.exec(arg);
  if (!short) return undefined;
  const letter = short[1] ?? '';
  const inline = short[2] ? short[2].replace(/^=/, '') : undefined;
  return { given: `-${letter}`, name: byShort.get(letter), inline };
}

/**
 * Parses `--name value`, `--name=value`, `-n value`, boolean `--name`, `--`
 * and positionals against a table of flags. Unlike node:util's parseArgs in
 * strict mode it says what to fix in our words (`unknown flag --bogus (did
 * you mean --for?)`), and `-h`/`--help` is always known.
 */
export function parseCommandLine<F extends FlagSpecs>(
  argv: readonly string[],
  flags: F,
  opts: { readonly positionals?: boolean } = {},
): CommandLine<F> {
  const values: Record<string, string | boolean> = {};
  const positionals: string[] = [];
  const byShort = shortNames(flags);
  let help = false;
  const errors: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    const w = writtenFlag(arg, byShort);
    if (!w) positionals.push(arg);
    else if (w.given === '--help' || w.given === '-h') help = true;
    else {
      const next = argv[i + 1];
      // `--for --reason x`: the value was forgotten, not "--reason"
      const nextIsValue = next !== undefined && !/^--?[a-z]/i.test(next);
      const r = readFlag(w, flags, nextIsValue ? next : undefined);
      if ('error' in r) errors.push(r.error);
      else values[r.name] = r.value;
      if ('usedNext' in r) i++;
    }
  }
  if (!help) refuseMistakes(errors, opts.positionals ? [] : positionals);
  return { values: values as FlagValues<F>, positionals, help };
}

const shortNames = (flags: FlagSpecs): ReadonlyMap<string, string> =>
  new Map(Object.entries(flags).flatMap(([name, f]) => (f.short ? [[f.short, name]] : [])));

/** Throws a UsageError naming every mistake, or an argument where only flags belong. */
function refuseMistakes(errors: readonly string[], stray: readonly string[]): void {
  if (errors.length > 0) throw new UsageError(errors.join('; '));
  if (stray.length > 0)
    throw new UsageError(`unexpected argument "${stray[0] ?? ''}"; this takes only flags`);
}

/** One flag's value (the next argument's, for a string flag written without =), or what is wrong. */
function readFlag(
  w: WrittenFlag,
  flags: FlagSpecs,
  next: string | undefined,
):
  | { readonly name: string; readonly value: string | boolean; readonly usedNext?: true }
  | { readonly error: string } {
  const spec = w.name === undefined ? undefined : flags[w.name];
  if (w.name === undefined || !spec) {
    const guess = w.given.startsWith('--') ? closest(w.name ?? '', Object.keys(flags)) : undefined;
    return { error: `unknown flag ${w.given}${guess ? ` (did you mean --${guess}?)` : ''}` };
  }
  if (spec.type === 'boolean') {
    return w.inline === undefined
      ? { name: w.name, value: true }
      : { error: `${w.given} takes no value (got "${w.inline}")` };
  }
  if (w.inline !== undefined) return { name: w.name, value: w.inline };
  if (next !== undefined) return { name: w.name, value: next, usedNext: true };
  return { error: `${w.given} needs a value (${w.given} ${spec.value ?? 'VALUE'})` };
}

/** `the cluster (env A, B; default X)` */
function helpLine(f: FlagSpec): string {
  const notes = [
    ...(f.env?.length ? [`env ${f.env.join(', ')}`] : []),
    ...(f.default !== undefined ? [`default ${f.default}`] : []),
  ];
  return notes.length ? `${f.help} (${notes.join('; ')})` : f.help;
}

/** The flags of a table as `--help` lines, aligned, with `-h, --help` last. */
export function flagsHelp(flags: FlagSpecs): string {
  const rows = [
    ...Object.entries(flags).map(([name, f]) => [
      `${f.short ? `-${f.short}, ` : '    '}--${name}${f.type === 'string' ? ` ${f.value ?? 'VALUE'}` : ''}`,
      helpLine(f),
    ]),
    ['-h, --help', 'print this help and exit'],
  ];
  const width = Math.max(...rows.map(([l]) => (l ?? '').length));
  return rows.map(([l, h]) => `  ${(l ?? '').padEnd(width)}  ${h ?? ''}\n`).join('');
}

/** The flags every leader-elected process takes, with their environment variables. */
export const processOptions = {
  kubeconfig: {
    type: 'string',
    value: 'PATH',
    help: 'the cluster',
    env: ['YARD_KUBECONFIG', 'KUBECONFIG'],
    default: 'in-cluster, else ~/.kube/config',
  },
  'leader-elect': {
    type: 'string',
    value: 'BOOL',
    help: 'hold a Lease so that one replica acts at a time',
    env: ['YARD_LEADER_ELECT'],
    default: 'true',
  },
  'lease-namespace': {
    type: 'string',
    value: 'NS',
    help: 'where the Lease is',
    env: ['YARD_LEASE_NAMESPACE', 'POD_NAMESPACE'],
    default: 'default',
  },
  'lease-name': { type: 'string', value: 'NAME', help: 'the Lease', env: ['YARD_LEASE_NAME'] },
  'lease-duration': {
    type: 'string',
    value: 'DURATION',
    help: 'how long a Lease holds unrenewed',
    env: ['YARD_LEASE_DURATION'],
    default: '15s',
  },
  identity: {
    type: 'string',
    value: 'ID',
    help: 'this replica, in the Lease',
    env: ['POD_NAME'],
    default: 'hostname_random',
  },
  'metrics-port': {
    type: 'string',
    value: 'PORT',
    help: '/healthz, /readyz and /metrics; 0 picks a free one',
    env: ['YARD_METRICS_PORT'],
  },
  'log-level': {
    type: 'string',
    value: 'LEVEL',
    help: 'debug, info, warn or error',
    env: ['YARD_LOG_LEVEL'],
    default: 'info',
  },
} as const satisfies FlagSpecs;

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
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
  return n;
}

/** A duration flag (`30m`, `1h30m`), or a usage error naming the flag. */
export function durationFlag(name: string, raw: string): number {
  try {
    return parseDuration(raw);
  } catch (err) {
    throw new UsageError(`--${name}: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * The common flags, each over its environment variables (YARD_KUBECONFIG or
 * KUBECONFIG, YARD_LEADER_ELECT, YARD_LEASE_NAMESPACE or POD_NAMESPACE,
 * YARD_LEASE_NAME, YARD_LEASE_DURATION, POD_NAME, YARD_METRICS_PORT,
 * YARD_LOG_LEVEL), over the defaults.
 */
export function readProcessConfig(
  values: Partial<Record<keyof typeof processOptions, string | boolean>>,
  env: NodeJS.ProcessEnv,
  defaults: { readonly leaseName: string; readonly metricsPort: number },
): ProcessConfig {
  /** The flag, else the first environment variable set, else the default. */
  const get = (flag: keyof typeof processOptions, vars: readonly string[]): string | undefined => {
    const v = values[flag];
    return typeof v === 'string' ? v : vars.map((e) => env[e]).find((e) => e !== undefined);
  };
  const level = get('log-level', ['YARD_LOG_LEVEL']) ?? 'info';
  if (!isLogLevel(level))
    throw new UsageError(`--log-level must be debug, info, warn or error, got "${level}"`);
  const port = get('metrics-port', ['YARD_METRICS_PORT']) ?? String(defaults.metricsPort);
  return {
    kubeconfig: get('kubeconfig', ['YARD_KUBECONFIG']) ?? env['KUBECONFIG']?.split(':')[0],
    leaderElect: flagBool(get('leader-elect', ['YARD_LEADER_ELECT']), true),
    leaseNamespace: get('lease-namespace', ['YARD_LEASE_NAMESPACE', 'POD_NAMESPACE']) ?? 'default',
    leaseName: get('lease-name', ['YARD_LEASE_NAME']) ?? defaults.leaseName,
    leaseDurationMs: durationFlag(
      'lease-duration',
      get('lease-duration', ['YARD_LEASE_DURATION']) ?? '15s',
    ),
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

/**
 * A process's `main`, after its command line: `-h`/`--help` prints the usage
 * and exits 0; a UsageError prints its message and the usage and exits 2;
 * any other failure is logged as a JSON line and exits 1; otherwise the code
 * `main` returns.
 */
export function runProcess(
  name: string,
  usage: string,
  main: (argv: readonly string[]) => Promise<number>,
  argv: readonly string[] = process.argv.slice(2),
): void {
  if (wantsHelp(argv)) {
    process.stdout.write(usage);
    process.exitCode = 0;
    return;
  }
  main(argv).then(
    (code) => process.exit(code),
    (err: unknown) => {
      if (err instanceof UsageError) {
        process.stderr.write(`${name}: ${err.message}\n\n${usage}`);
        process.exit(2);
      }
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

/** `-h` or `--help` before any `--`. */
export function wantsHelp(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).some((a) => a === '-h' || a === '--help');
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
