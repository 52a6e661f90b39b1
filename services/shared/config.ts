// Configuration of a service process: `--name value` or `--name=value` flags,
// else the environment variable YARD_NAME (dashes become underscores), else a
// default. The node agent passes a pod's env; a person passes flags.
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

/** Parses flags, refusing any not in `known`. */
export function readOptions(source: ConfigSource, known: readonly string[]): Options {
  const out = new Map<string, string>();
  for (const name of known) {
    const v = source.env[`YARD_${name.toUpperCase().replaceAll('-', '_')}`];
    if (v !== undefined && v !== '') out.set(name, v);
  }
  const args = [...source.argv];
  while (args.length > 0) {
    const arg = args.shift() ?? '';
    const m = /^--([a-z0-9-]+)(?:=(.*))?$/.exec(arg);
    if (!m?.[1])
      throw new Error(`unexpected argument ${JSON.stringify(arg)}; flags look like --name value`);
    const name = m[1];
    if (!known.includes(name))
      throw new Error(`unknown flag --${name}; known: ${known.map((k) => `--${k}`).join(', ')}`);
    const value = m[2] ?? args.shift();
    if (value === undefined) throw new Error(`--${name} needs a value`);
    out.set(name, value);
  }
  return out;
}

export function required(o: Options, name: string): string {
  const v = o.get(name);
  if (v === undefined) {
    throw new Error(`missing --${name} (or YARD_${name.toUpperCase().replaceAll('-', '_')})`);
  }
  return v;
}

export function intOption(o: Options, name: string, dflt: number, min = 0): number {
  const v = o.get(name);
  if (v === undefined) return dflt;
  if (!/^\d+$/.test(v) || Number(v) < min)
    throw new Error(`--${name} must be an integer ≥ ${min}, got ${JSON.stringify(v)}`);
  return Number(v);
}

/** `127.16.3.5:8080` (a pod's address) or `:8080` (loopback). */
export function parseListen(v: string): { host: string; port: number } {
  const m = /^(.*):(\d{1,5})$/.exec(v);
  const port = Number(m?.[2]);
  if (!m || port > 65535) throw new Error(`--listen must be host:port, got ${JSON.stringify(v)}`);
  return { host: m[1] === '' ? '127.0.0.1' : (m[1] ?? '127.0.0.1'), port };
}

/** A comma-separated list of http(s) URLs. */
export function urlList(v: string, name: string): string[] {
  const urls = v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (urls.length === 0) throw new Error(`--${name} needs at least one URL`);
  for (const u of urls) {
    if (!/^https?:\/\/[^/\s]+\/?$/.test(u))
      throw new Error(`--${name}: ${JSON.stringify(u)} is not http://host:port`);
  }
  return urls.map((u) => u.replace(/\/$/, ''));
}

/** The ticket secret: --ticket-secret-file wins over YARD_TICKET_SECRET. */
export function ticketSecret(o: Options): string {
  const file = o.get('ticket-secret-file');
  const secret = file !== undefined ? readFileSync(file, 'utf8').trim() : o.get('ticket-secret');
  if (secret === undefined)
    throw new Error('missing the ticket secret: set YARD_TICKET_SECRET or --ticket-secret-file');
  if (secret.length < minSecretLength)
    throw new Error(`the ticket secret must be at least ${minSecretLength} characters`);
  return secret;
}

export const commonOptions = [
  'listen',
  'ticket-secret',
  'ticket-secret-file',
  'max-concurrency',
  'max-queue',
] as const;
