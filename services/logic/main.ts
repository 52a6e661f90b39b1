// node services/logic/main.ts --listen 127.16.3.6:8080 --storage http://…
//   (or --storage-accounts, --storage-contacts, --storage-messages per kind)
import { intOption, ticketSecret, urlList } from '../shared/config.ts';
import type { Options } from '../shared/config.ts';
import { gateFrom, runMain } from '../shared/main.ts';
import { staticEndpoints } from '../shared/upstream.ts';
import { createLogic } from './app.ts';

function storageOf(o: Options, kind: string) {
  const v = o.get(`storage-${kind}`) ?? o.get('storage');
  if (v === undefined) throw new Error(`missing --storage-${kind} or --storage (YARD_STORAGE)`);
  return staticEndpoints(urlList(v, `storage-${kind}`));
}

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
  (o, log) =>
    createLogic({
      storage: {
        accounts: storageOf(o, 'accounts'),
        contacts: storageOf(o, 'contacts'),
        messages: storageOf(o, 'messages'),
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
