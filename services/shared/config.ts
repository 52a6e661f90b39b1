// Configuration of a service process: `--name value` or `--name=value` flags,
// else the environment variable YARD_NAME (dashes become underscores), else a
// default. The node agent passes a pod's env; a person passes flags.
//
// The same contract as runtime/process.ts (`--help` prints the flags and
// exits 0, a usage error exits 2, a failure 1) but its own small parser: the
// services import no runtime/ (services/README.md), and runtime/process.ts
// loads @kubernetes/client-node, which a service loads only when it discovers
// pods (an idle access process: 166 → 113 MiB RSS without it).
import { readFileSync } from 'node:fs';
import { minSecretLength } from './ticket.ts';

export interface ConfigSource {
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
}

export const processSource = (): ConfigSource => ({
  argv: process.argv.slice(2),
  env: process.env,
});

export type Options = ReadonlyMap<string, string>;

/** A flag as `--help` shows it; every flag also reads YARD_<NAME>. */
export interface OptionHelp {
  /** The value's placeholder, e.g. HOST:PORT. */
  readonly value: string;
  readonly help: string;
  readonly default?: string;
}

export type OptionTable = Readonly<Record<string, OptionHelp>>;

/**
 * A command line or environment that cannot be run as written: the process
 * prints the message and its usage and exits 2.
 */
export class UsageError extends Error {
  override name = 'UsageError';
}

export const envName = (flag: string): string => `YARD_${flag.toUpperCase().replaceAll('-', '_')}`;

/** `-h` or `--help` anywhere on the command line. */
export const wantsHelp = (argv: readonly string[]): boolean =>
  argv.some((a) => a === '-h' || a === '--help');

/** The usage of a service: how to run it, what it is, and every flag with its variable. */
export function usageOf(service: string, about: string, options: OptionTable): string {
  const rows = [
    ...Object.entries(options).map(([name, o]) => [
      `--${name} ${o.value}`,
      `${o.help} (env ${envName(name)}${o.default === undefined ? '' : `; default ${o.default}`})`,
    ]),
    ['-h, --help', 'print this help and exit'],
  ];
  const width = Math.max(...rows.map(([l]) => (l ?? '').length));
  return (
    `usage: node services/${service}/main.ts [flags]\n\n${about.trim()}\n\nflags:\n` +
    rows.map(([l, h]) => `  ${(l ?? '').padEnd(width)}  ${h ?? ''}\n`).join('')
  );
}

/** Parses flags, refusing any not in `known`. */
export function readOptions(
  source: ConfigSource,
  knownOptions: readonly string[] | OptionTable,
): Options {
  const known = Array.isArray(knownOptions)
    ? (knownOptions as readonly string[])
    : Object.keys(knownOptions);
  const out = new Map<string, string>();
  for (const name of known) {
    const v = source.env[envName(name)];
    if (v !== undefined && v !== '') out.set(name, v);
  }
  const args = [...source.argv];
  while (args.length > 0) {
    const arg = args.shift() ?? '';
    const m = /^--([a-z0-9-]+)(?:=(.*))?$/.exec(arg);
    if (!m?.[1])
      throw new UsageError(
        `unexpected argument ${JSON.stringify(arg)}; flags look like --name value`,
      );
    const name = m[1];
    if (!known.includes(name))
      throw new UsageError(
        `unknown flag --${name}; known: ${known.map((k) => `--${k}`).join(', ')}`,
      );
    const value = m[2] ?? args.shift();
    if (value === undefined) throw new UsageError(`--${name} needs a value`);
    out.set(name, value);
  }
  return out;
}

export function required(o: Options, name: string): string {
  const v = o.get(name);
  if (v === undefined) {
    throw new UsageError(`missing --${name} (or ${envName(name)})`);
  }
  return v;
}

export function intOption(o: Options, name: string, dflt: number, min = 0): number {
  const v = o.get(name);
  if (v === undefined) return dflt;
  if (!/^\d+$/.test(v) || Number(v) < min)
    throw new UsageError(`--${name} must be an integer ≥ ${min}, got ${JSON.stringify(v)}`);
  return Number(v);
}

/** `127.16.3.5:8080` (a pod's address) or `:8080` (loopback). */
export function parseListen(v: string): { host: string; port: number } {
  const m = /^(.*):(\d{1,5})$/.exec(v);
  const port = Number(m?.[2]);
  if (!m || port > 65535)
    throw new UsageError(`--listen must be host:port, got ${JSON.stringify(v)}`);
  return { host: m[1] === '' ? '127.0.0.1' : (m[1] ?? '127.0.0.1'), port };
}

/** A comma-separated list of http(s) URLs. */
export function urlList(v: string, name: string): string[] {
  const urls = v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (urls.length === 0) throw new UsageError(`--${name} needs at least one URL`);
  for (const u of urls) {
    if (!/^https?:\/\/[^/\s]+\/?$/.test(u))
      throw new UsageError(`--${name}: ${JSON.stringify(u)} is not http://host:port`);
  }
  return urls.map((u) => u.replace(/\/$/, ''));
}

/** The ticket secret: --ticket-secret-file wins over YARD_TICKET_SECRET. */
export function ticketSecret(o: Options): string {
  const file = o.get('ticket-secret-file');
  const secret = file !== undefined ? readFileSync(file, 'utf8').trim() : o.get('ticket-secret');
  if (secret === undefined)
    throw new UsageError(
      'missing the ticket secret: set YARD_TICKET_SECRET or --ticket-secret-file',
    );
  if (secret.length < minSecretLength)
    throw new UsageError(`the ticket secret must be at least ${minSecretLength} characters`);
  return secret;
}

/** The flags every service takes. */
export const commonOptions = {
  listen: {
    value: 'HOST:PORT',
    help: 'where to listen (:PORT is loopback)',
    default: '127.0.0.1:8080',
  },
  'ticket-secret': {
    value: 'SECRET',
    help: `the key that signs and checks tickets, ≥ ${minSecretLength} characters`,
  },
  'ticket-secret-file': { value: 'PATH', help: 'read the ticket secret from this file instead' },
  'max-concurrency': { value: 'N', help: 'requests served at once at most' },
  'max-queue': { value: 'N', help: 'admitted requests waiting for a slot at most' },
} as const satisfies OptionTable;
