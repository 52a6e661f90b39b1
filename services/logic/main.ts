// node services/logic/main.ts --listen 127.16.3.6:8080 --storage http://…
//   (or --storage-accounts, --storage-contacts, --storage-messages per kind;
//   each also takes 'pods:<label selector>': the storage pods that serve, watched)
import { intOption, ticketSecret } from '../shared/config.ts';
import { endpointsFrom, gateFrom, runMain } from '../shared/main.ts';
import { createLogic } from './app.ts';

const about = `
The logic tier: sync, messages, groups, payments and Moments over storage, and
the group write-diffusion worker.`;

const storageKind = (kind: string) =>
  ({
    value: 'URLS|pods:SEL',
    help: `the storage instances for ${kind} (default: --storage)`,
  }) as const;

const options = {
  storage: {
    value: 'URLS|pods:SEL',
    help: 'the storage instances: http://host:port,… or pods:<label selector> (watched)',
  },
  'storage-accounts': storageKind('accounts'),
  'storage-contacts': storageKind('contacts'),
  'storage-messages': storageKind('messages'),
  instance: {
    value: 'NAME',
    help: "this instance's name in diffusion claims",
    default: 'logic-<host>-<pid>-<random>',
  },
  diffusion: {
    value: 'on|off',
    help: 'off: this instance diffuses no group messages',
    default: 'on',
  },
  'diffusion-rate': {
    value: 'N',
    help: 'inbox appends per second at most, 0 unlimited',
    default: '0',
  },
} as const;

await runMain('logic', about, options, async (o, log) =>
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
