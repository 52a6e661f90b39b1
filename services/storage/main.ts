// node services/storage/main.ts --listen 127.16.3.5:8080 --etcd-endpoints http://…,http://…,http://…
import { intOption, required, ticketSecret, urlList } from '../shared/config.ts';
import { gateFrom, runMain } from '../shared/main.ts';
import { createStorage, storageKinds } from './app.ts';
import type { StorageKind } from './app.ts';

function kindsFrom(v: string | undefined): StorageKind[] {
  if (v === undefined) return [...storageKinds];
  const kinds = v.split(',').map((s) => s.trim());
  for (const k of kinds) {
    if (!(storageKinds as readonly string[]).includes(k))
      throw new Error(`--kinds: ${k} is not one of ${storageKinds.join(', ')}`);
  }
  return kinds as StorageKind[];
}

await runMain('storage', ['etcd-endpoints', 'prefix', 'kinds', 'password-cost'], (o, log) =>
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
