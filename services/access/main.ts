// node services/access/main.ts --listen 127.16.3.7:8080 --logic http://…,http://…
//   (or --logic 'pods:yard.dev/imservice=im-logic': the logic pods that serve, watched)
import { intOption, ticketSecret } from '../shared/config.ts';
import { endpointsFrom, gateFrom, runMain } from '../shared/main.ts';
import { createAccess, defaultAccessGate } from './app.ts';

await runMain('access', ['logic', 'push-wait-ms'], async (o, log) =>
  createAccess({
    logic: await endpointsFrom(o, 'logic', log),
    ticketSecret: ticketSecret(o),
    pushWaitMs: intOption(o, 'push-wait-ms', 25_000, 1),
    gate: gateFrom(o, defaultAccessGate),
    log,
    defaultMetrics: true,
  }),
);
