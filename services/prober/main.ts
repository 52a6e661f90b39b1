// node services/prober/main.ts --listen 127.0.0.1:9090 --target http://<access> --rate 20 --users 8
//   (--target 'pods:yard.dev/imservice=im-access' spreads over the access pods that serve)
//   --window-ms 5000 --duration-ms 0 (0: until stopped)
import { intOption, parseListen, required, usageOf, UsageError } from '../shared/config.ts';
import type { Options } from '../shared/config.ts';
import { resolveEndpoints } from '../shared/discovery.ts';
import { createLogger } from '../shared/log.ts';
import { optionsOrExit, usageFailure } from '../shared/main.ts';
import { createProberService } from './app.ts';

const options = {
  listen: {
    value: 'HOST:PORT',
    help: 'where /report and /metrics answer',
    default: '127.0.0.1:9090',
  },
  target: {
    value: 'URLS|pods:SEL',
    help: 'the access instances: http://host:port,… or pods:<label selector> (watched)',
  },
  rate: { value: 'N', help: 'operations per second', default: '10' },
  users: { value: 'N', help: 'synthetic users, ≥ 2', default: '8' },
  'window-ms': { value: 'MS', help: 'the statistics window', default: '5000' },
  'duration-ms': { value: 'MS', help: 'how long to probe, 0 until stopped', default: '0' },
  service: { value: 'NAME', help: 'the service name in metrics and reports', default: 'access' },
  'delivery-timeout-ms': {
    value: 'MS',
    help: 'a message not delivered by then counts as lost',
    default: '10000',
  },
} as const;

const usage = usageOf(
  'prober',
  'The dial-test prober: synthetic users log in, send, group-send, pay and sync\nthrough the access tier, and every acknowledged message is checked to arrive.',
  options,
);

const log = createLogger('prober');

async function start(o: Options): Promise<void> {
  const { host, port } = parseListen(o.get('listen') ?? '127.0.0.1:9090');
  const durationMs = intOption(o, 'duration-ms', 0);
  const target = required(o, 'target');
  const svc = createProberService({
    target,
    // URLs, or pods:<selector>: the access instances that serve, watched
    endpoints: (await resolveEndpoints(target, { flag: 'target', log })).source,
    rate: intOption(o, 'rate', 10, 1),
    users: intOption(o, 'users', 8, 2),
    window: intOption(o, 'window-ms', 5000, 100),
    durationMs: durationMs === 0 ? Infinity : durationMs,
    service: o.get('service') ?? 'access',
    deliveryTimeoutMs: intOption(o, 'delivery-timeout-ms', 10_000, 100),
    log,
    defaultMetrics: true,
  });
  const running = await svc.listen(host, port);
  process.stdout.write(`${JSON.stringify({ service: 'prober', listening: running.url })}\n`);
  const stop = (): void => {
    running.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

const o = optionsOrExit('prober', usage, options);
if (o) {
  await start(o).catch((err: unknown) => {
    if (err instanceof UsageError) return usageFailure('prober', usage, err);
    log.error('cannot start', { err });
    process.exitCode = 1;
  });
}
