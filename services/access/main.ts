// node services/access/main.ts --listen 127.16.3.7:8080 --logic http://…,http://…
//   (or --logic 'pods:yard.dev/imservice=im-logic': the logic pods that serve, watched)
import { intOption, ticketSecret } from '../shared/config.ts';
import { endpointsFrom, gateFrom, runMain } from '../shared/main.ts';
import { createAccess, defaultAccessGate } from './app.ts';

const about = `
The access tier: the client API (register, login, sync, push, messages,
groups, payments, Moments), forwarded to logic.`;

const options = {
  logic: {
    value: 'URLS|pods:SEL',
    help: 'the logic instances: http://host:port,… or pods:<label selector> (watched)',
  },
  'push-wait-ms': {
    value: 'MS',
    help: 'how long a push long-poll waits at most',
    default: '25000',
  },
} as const;

await runMain('access', about, options, async (o, log) =>
  createAccess({
    logic: await endpointsFrom(o, 'logic', log),
    ticketSecret: ticketSecret(o),
    pushWaitMs: intOption(o, 'push-wait-ms', 25_000, 1),
    gate: gateFrom(o, defaultAccessGate),
    log,
    defaultMetrics: true,
  }),
);
