// node services/access/main.ts --listen 127.16.3.7:8080 --logic http://…,http://…
import { intOption, required, ticketSecret, urlList } from '../shared/config.ts';
import { gateFrom, runMain } from '../shared/main.ts';
import { staticEndpoints } from '../shared/upstream.ts';
import { createAccess, defaultAccessGate } from './app.ts';

await runMain('access', ['logic', 'push-wait-ms'], (o, log) =>
  createAccess({
    logic: staticEndpoints(urlList(required(o, 'logic'), 'logic')),
    ticketSecret: ticketSecret(o),
    pushWaitMs: intOption(o, 'push-wait-ms', 25_000, 1),
    gate: gateFrom(o, defaultAccessGate),
    log,
    defaultMetrics: true,
  }),
);
