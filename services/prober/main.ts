// node services/prober/main.ts --listen 127.0.0.1:9090 --target http://<access> --rate 20 --users 8
//   (--target 'pods:yard.dev/imservice=im-access' spreads over the access pods that serve)
//   --window-ms 5000 --duration-ms 0 (0: until stopped)
import { intOption, parseListen, processSource, readOptions, required } from '../shared/config.ts';
import { resolveEndpoints } from '../shared/discovery.ts';
import { createLogger } from '../shared/log.ts';
import { createProberService } from './app.ts';

const log = createLogger('prober');
try {
  const o = readOptions(processSource(), [
    'listen',
    'target',
    'rate',
    'users',
    'window-ms',
    'duration-ms',
    'service',
    'delivery-timeout-ms',
  ]);
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
} catch (err) {
  log.error('cannot start', { err });
  process.exitCode = 1;
}
