// The three tiers started in-process on port 0 against a given etcd cluster:
// storage (all kinds), logic instances and one access, wired by URL lists.
// Only tests import this file.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';
import { createAccess } from '../../services/access/app.ts';
import type { AccessConfig } from '../../services/access/app.ts';
import { createLogic } from '../../services/logic/app.ts';
import type { LogicConfig } from '../../services/logic/app.ts';
import { silentLogger } from '../../services/shared/log.ts';
import type { RunningService, ServiceApp } from '../../services/shared/service.ts';
import { staticEndpoints } from '../../services/shared/upstream.ts';
import { createStorage } from '../../services/storage/app.ts';
import { startEtcdCluster } from './etcd-cluster.ts';
import type { EtcdCluster } from './etcd-cluster.ts';
import type { StorageConfig } from '../../services/storage/app.ts';

export interface StackOptions {
  readonly etcd: readonly string[];
  readonly logicInstances?: number;
  readonly storage?: Partial<StorageConfig>;
  readonly logic?: Partial<LogicConfig>;
  readonly access?: Partial<AccessConfig>;
  /** Extra logic URLs for access to call (a blackhole, a process started elsewhere). */
  readonly extraLogicUrls?: readonly string[];
}

export interface Stack {
  readonly secret: string;
  readonly prefix: string;
  readonly storageUrl: string;
  readonly logicUrls: readonly string[];
  readonly accessUrl: string;
  readonly apps: {
    readonly storage: ServiceApp;
    readonly logic: readonly ServiceApp[];
    readonly access: ServiceApp;
  };
  readonly running: {
    readonly storage: RunningService;
    readonly logic: readonly RunningService[];
    readonly access: RunningService;
  };
  close(): Promise<void>;
}

let stacks = 0;

export async function startStack(o: StackOptions): Promise<Stack> {
  const secret = randomBytes(24).toString('base64url');
  const prefix = `/yard-test/${process.pid}-${++stacks}-${randomBytes(3).toString('hex')}/`;
  const storageApp = createStorage({
    etcd: o.etcd,
    ticketSecret: secret,
    prefix,
    passwordCost: 1024,
    log: silentLogger,
    ...o.storage,
  });
  const storage = await storageApp.listen();
  const storageSource = staticEndpoints([storage.url]);
  const logicApps = Array.from({ length: o.logicInstances ?? 1 }, (_, i) =>
    createLogic({
      storage: { accounts: storageSource, contacts: storageSource, messages: storageSource },
      ticketSecret: secret,
      instance: `logic-${i}`,
      log: silentLogger,
      ...o.logic,
    }),
  );
  const logic = await Promise.all(logicApps.map((a) => a.listen()));
  const logicUrls = [...logic.map((l) => l.url), ...(o.extraLogicUrls ?? [])];
  const accessApp = createAccess({
    logic: staticEndpoints(logicUrls),
    ticketSecret: secret,
    log: silentLogger,
    ...o.access,
  });
  const access = await accessApp.listen();
  return {
    secret,
    prefix,
    storageUrl: storage.url,
    logicUrls: logic.map((l) => l.url),
    accessUrl: access.url,
    apps: { storage: storageApp, logic: logicApps, access: accessApp },
    running: { storage, logic, access },
    async close() {
      await access.close();
      await Promise.all(logic.map((l) => l.close()));
      await storage.close();
    },
  };
}

/** The sum of a counter or histogram-count series in a registry, filtered by labels. */
export async function metricValue(
  app: ServiceApp,
  name: string,
  labels: Readonly<Record<string, string>> = {},
): Promise<number> {
  const metric = app.registry.getSingleMetric(name);
  if (!metric) return 0;
  const { values } = await metric.get();
  return values
    .filter((v) => Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want))
    .reduce((sum, v) => sum + v.value, 0);
}

/**
 * One etcd cluster and one stack for a test file: started in beforeAll,
 * always stopped in afterAll. Read `cluster` and `stack` inside tests.
 */
export function useStack(opts: Omit<StackOptions, 'etcd'> = {}): {
  readonly cluster: EtcdCluster;
  readonly stack: Stack;
} {
  let cluster: EtcdCluster | undefined;
  let stack: Stack | undefined;
  beforeAll(async () => {
    cluster = await startEtcdCluster();
    stack = await startStack({ ...opts, etcd: cluster.endpoints });
  }, 60_000);
  afterAll(async () => {
    await stack?.close();
    await cluster?.close();
  });
  const started = <T>(v: T | undefined, what: string): T => {
    if (v === undefined)
      throw new Error(`${what} is not started (use it inside a test or a later hook)`);
    return v;
  };
  return {
    get cluster() {
      return started(cluster, 'the etcd cluster');
    },
    get stack() {
      return started(stack, 'the stack');
    },
  };
}
