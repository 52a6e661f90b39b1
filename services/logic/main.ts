// node services/logic/main.ts --listen 127.16.3.6:8080 --storage http://…
//   (or --storage-accounts, --storage-contacts, --storage-messages per kind;
//   each also takes 'pods:<label selector>': the storage pods that serve, watched)
import { intOption, ticketSecret } from '../shared/config.ts';
import { endpointsFrom, gateFrom, runMain } from '../shared/main.ts';
import { createLogic } from './app.ts';

await runMain(
  'logic',
  [
    'storage',
    'storage-accounts',
    'storage-contacts',
    'storage-messages',
    'instance',
    'diffusion',
    'diffusion-rate',
  ],
  async (o, log) =>
    createLogic({
      storage: {
        accounts: await endpointsFrom(o, 'storage-accounts', log, 'storage'),
        contacts: await endpointsFrom(o, 'storage-contacts', log, 'storage'),
        messages: await endpointsFrom(o, 'storage-messages', log, 'storage'),
      },
      ticketSecret: ticketSecret(o),
      ...(o.get('instance') ? { instance: o.get('instance') ?? '' } : {}),
      diffusion:
        o.get('diffusion') === 'off'
          ? false
          : { appendsPerSecond: intOption(o, 'diffusion-rate', 0) },
      gate: gateFrom(o),
      log,
      defaultMetrics: true,
    }),
);
