// What every service's main does: read options (`--help` lists them), start,
// say where it listens (one JSON line on stdout, which the node agent and
// tests read), and stop cleanly on SIGTERM or SIGINT. Exit codes: 0 stopped
// cleanly or --help, 1 could not start or stop cleanly, 2 a usage error.
import {
  commonOptions,
  intOption,
  parseListen,
  processSource,
  readOptions,
  usageOf,
  UsageError,
  wantsHelp,
} from './config.ts';
import type { ConfigSource, OptionTable, Options } from './config.ts';
import { defaultGateOptions } from './gate.ts';
import type { GateOptions } from './gate.ts';
import { createLogger } from './log.ts';
import type { Logger } from './log.ts';
import { resolveEndpoints } from './discovery.ts';
import type { ServiceApp } from './service.ts';
import type { EndpointSource } from './upstream.ts';

/** The gate options from --max-concurrency and --max-queue. */
export function gateFrom(o: Options, base: GateOptions = defaultGateOptions): GateOptions {
  return {
    ...base,
    maxConcurrency: intOption(o, 'max-concurrency', base.maxConcurrency, 1),
    maxQueue: intOption(o, 'max-queue', base.maxQueue, 0),
  };
}

/**
 * Resolves a `--logic`-style option: URLs, or `pods:<selector>` watched
 * through the API (discovery.ts). Watches stop when the process does.
 */
export async function endpointsFrom(
  o: Options,
  name: string,
  log: Logger,
  fallback?: string,
): Promise<EndpointSource> {
  const value = o.get(name) ?? (fallback === undefined ? undefined : o.get(fallback));
  if (value === undefined) {
    const flags = fallback === undefined ? `--${name}` : `--${name} or --${fallback}`;
    throw new UsageError(`missing ${flags}: URLs (http://host:port,…) or pods:<label selector>`);
  }
  // the same spec twice (logic's three storage kinds on one service) is one watch
  let source = resolved.get(value);
  if (!source) {
    source = resolveEndpoints(value, { flag: name, log }).then((r) => r.source);
    resolved.set(value, source);
  }
  return source;
}

const resolved = new Map<string, Promise<EndpointSource>>();

/**
 * Reads the options, or answers `--help` (exit 0) or a usage error (the
 * message and the usage on stderr, exit 2); undefined when the process should
 * end there.
 */
export function optionsOrExit(
  service: string,
  usage: string,
  options: OptionTable,
  source: ConfigSource = processSource(),
): Options | undefined {
  if (wantsHelp(source.argv)) {
    process.stdout.write(usage);
    process.exitCode = 0;
    return undefined;
  }
  try {
    return readOptions(source, options);
  } catch (err) {
    usageFailure(service, usage, err);
    return undefined;
  }
}

/** A UsageError prints its message and the usage and sets exit code 2; anything else is rethrown. */
export function usageFailure(service: string, usage: string, err: unknown): void {
  if (!(err instanceof UsageError)) throw err;
  process.stderr.write(`${service}: ${err.message}\n\n${usage}`);
  process.exitCode = 2;
}

export async function runMain(
  service: string,
  about: string,
  extraOptions: OptionTable,
  build: (o: Options, log: Logger) => ServiceApp | Promise<ServiceApp>,
  source: ConfigSource = processSource(),
): Promise<void> {
  const options = { ...commonOptions, ...extraOptions };
  const usage = usageOf(service, about, options);
  const o = optionsOrExit(service, usage, options, source);
  if (!o) return;
  const log = createLogger(service);
  let running: { url: string; close(): Promise<void> };
  try {
    const { host, port } = parseListen(o.get('listen') ?? '127.0.0.1:8080');
    running = await (await build(o, log)).listen(host, port);
  } catch (err) {
    if (err instanceof UsageError) return usageFailure(service, usage, err);
    log.error('cannot start', { err });
    process.exitCode = 1;
    return;
  }
  process.stdout.write(`${JSON.stringify({ service, listening: running.url })}\n`);
  log.info('listening', { url: running.url });
  const stop = (signal: string): void => {
    log.info('stopping', { signal });
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    running.close().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error('unclean stop', { err });
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}
