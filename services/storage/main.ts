// node services/storage/main.ts --listen 127.16.3.5:8080 --etcd-endpoints http://…,http://…,http://…
import { intOption, required, ticketSecret, urlList, UsageError } from '../shared/config.ts';
import { gateFrom, runMain } from '../shared/main.ts';
import { createStorage, storageKinds } from './app.ts';
import type { StorageKind } from './app.ts';

function kindsFrom(v: string | undefined): StorageKind[] {
  if (v === undefined) return [...storageKinds];
  const kinds = v.split(',').map((s) => s.trim());
  for (const k of kinds) {
    if (!(storageKinds as readonly string[]).includes(k))
      throw new UsageError(`--kinds: ${k} is not one of ${storageKinds.join(', ')}`);
  }
  return kinds as StorageKind[];
}

const about = `
The storage tier: accounts, contacts, inboxes, groups, payments and the
diffusion queue in etcd, with compare-and-swap.`;

const options = {
  'etcd-endpoints': { value: 'URLS', help: 'the etcd members: http://host:port,…' },
  prefix: { value: 'PREFIX', help: 'key prefix in etcd', default: '/yard/im/' },
  kinds: {
    value: 'K1,K2',
    help: `which kinds this process serves, of ${storageKinds.join(', ')}`,
    default: 'all',
  },
  'password-cost': { value: 'N', help: 'scrypt cost of password hashes, ≥ 1024', default: '16384' },
} as const;

await runMain('storage', about, options, (o, log) =>
  createStorage({
    etcd: urlList(required(o, 'etcd-endpoints'), 'etcd-endpoints'),
    ticketSecret: ticketSecret(o),
    prefix: o.get('prefix') ?? '/yard/im/',
    kinds: kindsFrom(o.get('kinds')),
    passwordCost: intOption(o, 'password-cost', 16384, 1024),
    gate: gateFrom(o),
    log,
    defaultMetrics: true,
  }),
);
