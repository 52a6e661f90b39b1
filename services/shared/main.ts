// What every service's main does: read options, start, say where it listens
// (one JSON line on stdout, which the node agent and tests read), and stop
// cleanly on SIGTERM or SIGINT.
import { commonOptions, intOption, parseListen, processSource, readOptions } from './config.ts';
import type { ConfigSource, Options } from './config.ts';
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
    throw new Error(`missing ${flags}: URLs (http://host:port,…) or pods:<label selector>`);
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

export async function runMain(
  service: string,
  extraOptions: readonly string[],
  build: (o: Options, log: Logger) => ServiceApp | Promise<ServiceApp>,
  source: ConfigSource = processSource(),
): Promise<void> {
  const log = createLogger(service);
  let running: { url: string; close(): Promise<void> };
  try {
    const o = readOptions(source, [...commonOptions, ...extraOptions]);
    const { host, port } = parseListen(o.get('listen') ?? '127.0.0.1:8080');
    running = await (await build(o, log)).listen(host, port);
  } catch (err) {
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
