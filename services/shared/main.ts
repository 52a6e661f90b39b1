// What every service's main does: read options, start, say where it listens
// (one JSON line on stdout, which the node agent and tests read), and stop
// cleanly on SIGTERM or SIGINT.
import { commonOptions, intOption, parseListen, processSource, readOptions } from './config.ts';
import type { ConfigSource, Options } from './config.ts';
import { defaultGateOptions } from './gate.ts';
import type { GateOptions } from './gate.ts';
import { createLogger } from './log.ts';
import type { Logger } from './log.ts';
import type { ServiceApp } from './service.ts';

/** The gate options from --max-concurrency and --max-queue. */
export function gateFrom(o: Options, base: GateOptions = defaultGateOptions): GateOptions {
  return {
    ...base,
    maxConcurrency: intOption(o, 'max-concurrency', base.maxConcurrency, 1),
    maxQueue: intOption(o, 'max-queue', base.maxQueue, 0),
  };
}

export async function runMain(
  service: string,
  extraOptions: readonly string[],
  build: (o: Options, log: Logger) => ServiceApp,
  source: ConfigSource = processSource(),
): Promise<void> {
  const log = createLogger(service);
  let running: { url: string; close(): Promise<void> };
  try {
    const o = readOptions(source, [...commonOptions, ...extraOptions]);
    const { host, port } = parseListen(o.get('listen') ?? '127.0.0.1:8080');
    running = await build(o, log).listen(host, port);
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
